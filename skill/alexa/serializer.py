"""ask-sdk-core's serializer, minus the per-request costs that show on a warm turn.

Deserialising an envelope, the SDK parses the ISO timestamp with dateutil, imports model
classes by name, parses type names such as "list[...]" with a regular expression and
rebuilds each model's key map, for every value of every request. Python parses Alexa's
timestamps itself, and here a class, a type name and a model's keys are each worked out
once per process. These are overrides of the SDK's private (name-mangled) hooks, so
tests/test_serializer.py pins them: an SDK release that renames them fails there, not in
production (where the stock behaviour would simply come back), and the tests compare
every result with the SDK's own.

Serialising a response walks every value of it (a set's APL for Audio document alone is a
few hundred), and the SDK asks up to eight isinstance questions of each and rebuilds a
model's key map on every call. Plain JSON values are known by their exact type and a
model's keys are worked out once per class; anything else is still the SDK's to serialise.
A model given its JSON in advance (`serialized_as`: a set's APL for Audio) is sent as that.
"""

from __future__ import annotations

import copy
import decimal
import re
import threading
from datetime import date, datetime
from enum import Enum
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer

from skill.conversation.encoded import EncodedJson

_CLASSES: dict[str, Any] = {}
# The SDK's own patterns for container type names ("list[a.B]", "dict(str, a.B)").
_LIST_TYPE = re.compile(r"list\[(.*)\]")
_DICT_TYPE = re.compile(r"dict\(([^,]*), (.*)\)")
# Per type name: ("list", item types), ("dict", value type) or ("type", the class).
_TYPE_NAMES: dict[str, tuple[str, Any]] = {}
# Per model class: (attribute, payload key, type name) in the SDK's order, and the payload
# keys it knows (any other key of a payload is set as an attribute, as the SDK does).
_MODEL_PLANS: dict[type, tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]] = {}
_PRIMITIVES = frozenset(DefaultSerializer.PRIMITIVE_TYPES)
# Returned as they are, as the SDK returns them (exact types: a subclass takes the SDK's path).
_AS_IS = frozenset({str, int, float, bool, type(None)})
# Types the SDK serialises before it looks for a model's `deserialized_types`.
_NOT_MODELS = (list, tuple, dict, datetime, date, Enum, decimal.Decimal,
               *DefaultSerializer.PRIMITIVE_TYPES)
# Per class: its (attribute, JSON key) pairs, or None for a class that is not a model.
_MODEL_KEYS: dict[type, tuple[tuple[str, str], ...] | None] = {}


def _model_keys(kind: type) -> tuple[tuple[str, str], ...] | None:
    """A model's attributes in the SDK's order, each with its JSON key (`attribute_map`,
    else the attribute's own name), as DefaultSerializer.serialize derives them."""
    if kind not in _MODEL_KEYS:
        types = getattr(kind, "deserialized_types", None)
        if issubclass(kind, _NOT_MODELS) or not isinstance(types, dict):
            _MODEL_KEYS[kind] = None
        else:
            names = getattr(kind, "attribute_map", None) or {}
            _MODEL_KEYS[kind] = tuple((attribute, names.get(attribute, attribute))
                                      for attribute in types)
    return _MODEL_KEYS[kind]


class JsonMap(dict):
    """A map of parsed JSON values (a session's attributes) that deep-copies as JSON.

    The SDK deep-copies the session attributes on every turn (AttributesManager), and
    copy.deepcopy's general machinery costs several times a copy that knows it holds only
    dicts, lists and scalars; a value of any other kind is still copied by copy.deepcopy.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: _json_copy(value, memo) for key, value in self.items()}


def _json_copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {key: _json_copy(item, memo) for key, item in value.items()}
    if kind is list:
        return [_json_copy(item, memo) for item in value]
    return copy.deepcopy(value, memo)


# A model's serialised form made in advance (see serialized_as).
_SERIALIZED_AS = "_serialized_as"


def serialized_as(model: Any, encoded: EncodedJson) -> Any:
    """`model`, which the FastSerializer sends as `encoded`: the same JSON, built once for
    many responses (a set's APL for Audio) and neither walked nor copied on every turn."""
    setattr(model, _SERIALIZED_AS, encoded)
    return model


# Per thread (the web endpoint answers several turns at once): the response the size check
# serialised last, with its serialised form, for the answer to reuse (see `measured`).
_MEASURED = threading.local()


class FastSerializer(DefaultSerializer):
    def measured(self, obj: Any) -> Any:
        """`obj` serialised, and reused whenever this thread serialises `obj`, or a model
        of its class made of the very same parts, again, until it measures another: the
        size check (KeepResponseUnderLimit, the last step of a turn) measures the envelope
        the answer then sends (CustomSkill.invoke builds its own, from the same response
        and session attributes), and the answer does not walk it all again. Held by
        identity, so a part changed afterwards must be measured again (the check does,
        after each trim)."""
        _MEASURED.kept = None  # the object may have changed since it was last measured
        serialized = self.serialize(obj)
        _MEASURED.kept = (obj, serialized)
        return serialized

    def serialize(self, obj: Any) -> Any:
        """The SDK's serialised form of `obj`, equal to DefaultSerializer's."""
        kind = type(obj)
        if kind in _AS_IS:
            return obj
        if kind is dict:
            return {key: self.serialize(value) for key, value in obj.items()}
        if kind is list:
            return [self.serialize(value) for value in obj]
        keys = _model_keys(kind)
        if keys is None:
            return super().serialize(obj)  # its own recursion comes back through this method
        kept = getattr(_MEASURED, "kept", None)
        if kept is not None and (kept[0] is obj or _same_parts(kept[0], obj, keys)):
            return kept[1]
        encoded = getattr(obj, _SERIALIZED_AS, None)
        if encoded is not None:
            return encoded
        serialized = {}
        for attribute, key in keys:
            value = getattr(obj, attribute)
            if value is not None:
                serialized[key] = self.serialize(value)
        return serialized

    def deserialize_parsed(self, payload: Any, obj_type: Any) -> Any:
        """`payload`, JSON already parsed (Lambda hands the handler a dict), deserialised as
        `deserialize` deserialises its text: the same models, without writing the event out
        as text only to parse it back on every turn. The result may share JSON values
        (session attributes below the top level, `object`-typed fields) with `payload`,
        which a turn only reads: the SDK deep-copies the session attributes it hands out."""
        return self._DefaultSerializer__deserialize(payload, obj_type)

    def _DefaultSerializer__deserialize_datetime(self, payload: str, obj_type: Any) -> Any:
        try:
            parsed = datetime.fromisoformat(payload)
        except (TypeError, ValueError):
            return super()._DefaultSerializer__deserialize_datetime(payload, obj_type)
        return parsed.date() if obj_type is date else parsed

    def _DefaultSerializer__load_class_from_name(self, class_name: str) -> Any:
        resolved = _CLASSES.get(class_name)
        if resolved is None:
            resolved = super()._DefaultSerializer__load_class_from_name(class_name)
            _CLASSES[class_name] = resolved
        return resolved

    def _DefaultSerializer__deserialize(self, payload: Any, obj_type: Any) -> Any:
        """DefaultSerializer.__deserialize with type names resolved once per name."""
        if payload is None:
            return None
        if isinstance(obj_type, str):
            container, argument = self._type_name(obj_type)
            if container == "list":
                if argument is None:
                    return []
                if len(argument) > 1:  # a list of mixed types, one per position
                    return [self._DefaultSerializer__deserialize(item, kind)
                            for item, kind in zip(payload, argument)]
                kind = argument[0]
                return [self._DefaultSerializer__deserialize(item, kind) for item in payload]
            if container == "dict":
                if argument is None:
                    return {}
                if argument == "object":  # values kept as parsed: session attributes
                    return JsonMap(payload)
                return {key: self._DefaultSerializer__deserialize(value, argument)
                        for key, value in payload.items()}
            obj_type = argument
        if obj_type in _PRIMITIVES:
            return self._DefaultSerializer__deserialize_primitive(payload, obj_type)
        if obj_type is object:
            return payload
        if obj_type is date or obj_type is datetime:
            return self._DefaultSerializer__deserialize_datetime(payload, obj_type)
        return self._DefaultSerializer__deserialize_model(payload, obj_type)

    def _type_name(self, name: str) -> tuple[str, Any]:
        """A type name as the SDK reads it: a list's item types (several when they differ
        by position), a dict's value type, or a class; None for a container name the SDK's
        pattern does not match (it then gives an empty list or dict)."""
        parsed = _TYPE_NAMES.get(name)
        if parsed is None:
            if name.startswith("list["):
                match = _LIST_TYPE.match(name)
                items = tuple(kind.strip() for kind in match.group(1).split(",")) if match else None
                parsed = ("list", items)
            elif name.startswith("dict("):
                match = _DICT_TYPE.match(name)
                parsed = ("dict", match.group(2) if match else None)
            else:
                native = self.NATIVE_TYPES_MAPPING.get(name)
                parsed = ("type", native if native is not None
                          else self._DefaultSerializer__load_class_from_name(name))
            _TYPE_NAMES[name] = parsed
        return parsed

    def _DefaultSerializer__deserialize_model(self, payload: Any, obj_type: Any) -> Any:
        """DefaultSerializer.__deserialize_model with each class's key map built once."""
        try:
            if issubclass(obj_type, Enum):
                return obj_type(payload)
            if not hasattr(obj_type, "deserialized_types"):
                return payload
            if hasattr(obj_type, "get_real_child_model"):
                obj_type = self._DefaultSerializer__get_obj_by_discriminator(payload, obj_type)
            fields, known = _model_plan(obj_type)
            model = obj_type()
            for attribute, key, kind in fields:
                if key in payload:
                    setattr(model, attribute,
                            self._DefaultSerializer__deserialize(payload[key], kind))
            for key in payload:
                if key not in known:
                    setattr(model, key, payload[key])
            return model
        except Exception as error:  # the SDK wraps every failure the same way
            raise SerializationException(str(error)) from error


def _same_parts(measured: Any, obj: Any, keys: tuple[tuple[str, str], ...]) -> bool:
    """Two models of one class whose attributes are the same objects (or equal strings,
    which serialise the same), so they serialise the same."""
    if type(measured) is not type(obj):
        return False
    for attribute, _ in keys:
        mine, theirs = getattr(measured, attribute), getattr(obj, attribute)
        if mine is not theirs and not (type(mine) is str and mine == theirs):
            return False
    return True


def _model_plan(kind: type) -> tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]:
    """A model class's (attribute, payload key, type name) triples in the order the SDK
    sets them (`attribute_map`'s, then the remaining `deserialized_types`), and its keys."""
    plan = _MODEL_PLANS.get(kind)
    if plan is None:
        types = kind.deserialized_types
        names = dict(getattr(kind, "attribute_map", None) or {})
        names.update({attribute: attribute for attribute in types if attribute not in names})
        plan = (tuple((attribute, key, types[attribute]) for attribute, key in names.items()),
                frozenset(names.values()))
        _MODEL_PLANS[kind] = plan
    return plan
