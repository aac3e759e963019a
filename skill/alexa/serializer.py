"""ask-sdk-core's serializer, minus the per-request costs that show on a warm turn.

Deserialising an envelope, the SDK parses the ISO timestamp with dateutil, imports model
classes by name, parses type names such as "list[...]" with a regular expression, rebuilds
each model's key map and runs each model's __init__ (keyword arguments, a super() chain),
then sets every attribute again, for every value of every request. Here each type gets a
decoder once per process, and a model is a copy of its class's default attributes updated
with the decoded values: what `kind()` and the SDK's setattr calls make, because a model's
__init__ only assigns (tests/test_serializer.py reads every __init__ an envelope can reach).
Anything else (a value of an unexpected type, an odd container name, a failure) goes to
the SDK's own code, so the result or the error is the SDK's. These are overrides of the
SDK's private (name-mangled) hooks, so tests/test_serializer.py pins them: an SDK release
that renames them fails there, not in production, and the tests compare every result (and
every error) with the SDK's own. An envelope of a mid-routine turn (a dozen models) takes
~13 us here, where the SDK's own code takes ~180 us and these overrides took ~35 us while
they still ran each model's __init__ (measured on parsed dicts, best of many runs).

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
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer

from skill.conversation.encoded import EncodedJson, PlainJson

_CLASSES: dict[str, Any] = {}
# The SDK's own patterns for container type names ("list[a.B]", "dict(str, a.B)").
_LIST_TYPE = re.compile(r"list\[(.*)\]")
_DICT_TYPE = re.compile(r"dict\(([^,]*), (.*)\)")
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
    A full copy still, not one that shares what a turn does not change: the request's
    attributes are what telemetry records as the session before the turn, and a handler
    changing a nested value in place would change them too. A mid-routine session's
    attributes (~0.7 KB of JSON): ~9 -> ~5 us here, against ~25 us with copy.deepcopy.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return _json_copy_items(self, memo)


def _json_copy_items(value: dict[str, Any], memo: dict[int, Any]) -> dict[str, Any]:
    # Scalars, the most of a session's values, are kept without a call each.
    return {key: item if type(item) in _AS_IS else _json_copy(item, memo)
            for key, item in value.items()}


def _json_copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind is dict or kind is PlainJson:  # PlainJson: a session form a device sent back
        return _json_copy_items(value, memo)
    if kind is list:
        return [item if type(item) in _AS_IS else _json_copy(item, memo) for item in value]
    if kind in _AS_IS:
        return value
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
        if kind in _AS_IS or kind is PlainJson:
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

    def _DefaultSerializer__deserialize(self, payload: Any, obj_type: Any) -> Any:
        """DefaultSerializer.__deserialize through a decoder made once per type (see
        _decoder); the SDK's own code runs only for what that decoder does not handle."""
        return None if payload is None else _decoder(obj_type)(payload)

    def _DefaultSerializer__load_class_from_name(self, class_name: str) -> Any:
        resolved = _CLASSES.get(class_name)
        if resolved is None:
            resolved = super()._DefaultSerializer__load_class_from_name(class_name)
            _CLASSES[class_name] = resolved
        return resolved


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


# Decoding: a non-None parsed JSON value to what DefaultSerializer.deserialize makes of it.
Decoder = Callable[[Any], Any]
# Per type (a type name such as "list[a.B]", or a class): its decoder, made on first use.
_DECODERS: dict[Any, Decoder] = {}
# Per model class: what its default-constructed instance holds (`__dict__`) and, per payload
# key, the attribute and type name it decodes to; None when a model is not made that way.
_PLANS: dict[type, tuple[dict[str, Any], dict[str, tuple[str, str]]] | None] = {}


def _decoder(kind: Any) -> Decoder:
    """The decoder of a type: of a type name as the SDK reads it, or of a class."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = (_named(kind) if isinstance(kind, str)
                                     else _for_class(kind))
    return decoder


def _named(name: str) -> Decoder:
    """A type name's decoder: a list's (of one item type), a dict's or its class's. What the
    SDK's patterns do not fit (a list of mixed types, an odd container name) is the SDK's."""
    if name.startswith("list["):
        match = _LIST_TYPE.match(name)
        if match is None or "," in match.group(1):
            return _sdk_decoder(name)
        return _list_decoder(match.group(1).strip(), name)
    if name.startswith("dict("):
        match = _DICT_TYPE.match(name)
        if match is None:
            return _sdk_decoder(name)
        return _dict_decoder(match.group(2), name)
    native = DefaultSerializer.NATIVE_TYPES_MAPPING.get(name)
    return _decoder(native if native is not None
                    else _SERIALIZER._DefaultSerializer__load_class_from_name(name))


def _for_class(kind: Any) -> Decoder:
    """A class's decoder, in the SDK's order of questions: primitive, object, date, model."""
    if kind in DefaultSerializer.PRIMITIVE_TYPES:
        return _primitive_decoder(kind)
    if kind == object:
        return _as_parsed
    if kind == date or kind == datetime:
        return _datetime_decoder(kind)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _member_decoder(kind)
    if isinstance(kind, type) and hasattr(kind, "deserialized_types"):
        return _model_decoder(kind)
    return lambda payload: _sdk_model(payload, kind)  # not a model: the SDK's answer


def _sdk_decoder(name: str) -> Decoder:
    """DefaultSerializer's own decoding of a type name (its parts come back through ours)."""
    return lambda payload: DefaultSerializer._DefaultSerializer__deserialize(
        _SERIALIZER, payload, name)


def _sdk_model(payload: Any, kind: Any) -> Any:
    """DefaultSerializer's own model decoding, with its errors (its fields come back
    through ours): for what a fast path does not cover, and to fail as the SDK fails."""
    return DefaultSerializer._DefaultSerializer__deserialize_model(_SERIALIZER, payload, kind)


def _as_parsed(payload: Any) -> Any:
    return payload


def _primitive_decoder(kind: type) -> Decoder:
    sdk = _SERIALIZER._DefaultSerializer__deserialize_primitive

    def primitive(payload: Any) -> Any:
        # kind(payload) gives back the very value when it already is of that exact type.
        return payload if type(payload) is kind else sdk(payload, kind)
    return primitive


def _datetime_decoder(kind: type) -> Decoder:
    sdk = _SERIALIZER._DefaultSerializer__deserialize_datetime

    def timestamp(payload: Any) -> Any:
        """Alexa's ISO timestamps parsed by Python itself; anything else by dateutil, as
        the SDK does."""
        try:
            parsed = datetime.fromisoformat(payload)
        except (TypeError, ValueError):
            return sdk(payload, kind)
        return parsed.date() if kind is date else parsed
    return timestamp


def _member_decoder(kind: type[Enum]) -> Decoder:
    members = kind._value2member_map_

    def member(payload: Any) -> Any:
        """An enum's member by value (Enum's own first lookup); other values are the SDK's."""
        try:
            return members[payload]
        except (KeyError, TypeError):
            return _sdk_model(payload, kind)
    return member


def _list_decoder(kind: str, name: str) -> Decoder:
    sdk = _sdk_decoder(name)

    def items(payload: Any) -> Any:
        if type(payload) is not list:
            return sdk(payload)
        decode = _decoder(kind)
        return [None if item is None else decode(item) for item in payload]
    return items


def _dict_decoder(kind: str, name: str) -> Decoder:
    sdk = _sdk_decoder(name)
    if kind == "object":  # values kept as parsed: session attributes
        return lambda payload: JsonMap(payload) if type(payload) is dict else sdk(payload)

    def values(payload: Any) -> Any:
        if type(payload) is not dict:
            return sdk(payload)
        decode = _decoder(kind)
        return {key: None if value is None else decode(value) for key, value in payload.items()}
    return values


def _model_decoder(declared: type) -> Decoder:
    """A model made as DefaultSerializer makes it (`declared()`, then each payload key set
    as its attribute, decoded, and any unknown key set as it is), from the class's plan: a
    copy of a default instance's attributes updated with the decoded values. Anything
    unexpected (a payload of another shape, a value that fails) is done again by the SDK's
    own code, so the result or the error is the SDK's."""
    # The SDK asks the declared class which subclass a payload is (a class it has loaded
    # before is taken from the cache its loading fills).
    choose = (_SERIALIZER._DefaultSerializer__get_obj_by_discriminator
              if hasattr(declared, "get_real_child_model") else None)
    new = object.__new__

    def model(payload: Any) -> Any:
        try:
            kind = declared if choose is None else (
                _CLASSES.get(declared.get_real_child_model(payload))
                or choose(payload, declared))
            plan = _PLANS.get(kind, _UNPLANNED)
            if plan is _UNPLANNED:
                plan = _plan(kind)
            if plan is None or type(payload) is not dict:
                return _sdk_model(payload, declared)
            template, fields = plan
            values = template.copy()
            unknown = None
            for key, value in payload.items():
                field = fields.get(key)
                if field is None:
                    unknown = [*(unknown or ()), key]
                elif value is None or (field[1] == "str" and type(value) is str):
                    values[field[0]] = value  # None, and text for a text field, as they are
                else:
                    values[field[0]] = (_DECODERS.get(field[1]) or _decoder(field[1]))(value)
            made = new(kind)
            made.__dict__ = values
            for key in unknown or ():  # after the known ones, in payload order, as the SDK
                setattr(made, key, payload[key])
            return made
        except Exception:  # noqa: BLE001 - the SDK's code decides: its model or its error
            return _sdk_model(payload, declared)
    return model


_UNPLANNED = object()


def _plan(kind: type) -> tuple[dict[str, Any], dict[str, tuple[str, str]]] | None:
    """What `kind()` holds, and per payload key its (attribute, type name) in the SDK's
    map (`attribute_map`, then each remaining `deserialized_types` name as its own key);
    None, and the SDK makes the class's models, unless setting attributes on a default
    instance is all there is to it: `kind()` sets every attribute of the map to a value
    that cannot change (so one default can be shared), and neither the class nor its
    instances handle construction or attribute setting themselves. The model classes'
    `__init__` only assigns attributes: tests/test_serializer.py reads every one the
    envelopes can reach."""
    if kind not in _PLANS:
        _PLANS[kind] = None
        if kind.__new__ is object.__new__ and kind.__setattr__ is object.__setattr__:
            types = kind.deserialized_types
            names = dict(getattr(kind, "attribute_map", None) or {})
            names.update({attribute: attribute for attribute in types if attribute not in names})
            template = vars(kind())
            fields = {key: (attribute, types[attribute]) for attribute, key in names.items()}
            if (len(fields) == len(names) and template.keys() >= names.keys()
                    and all(type(value) in _AS_IS for value in template.values())
                    and not any(_is_data_descriptor(kind, name) for name in template)):
                _PLANS[kind] = (template, fields)
    return _PLANS[kind]


def _is_data_descriptor(kind: type, name: str) -> bool:
    """True when setting `name` on an instance would run class code (a property)."""
    for klass in kind.__mro__:
        if name in vars(klass):
            return hasattr(type(vars(klass)[name]), "__set__")
    return False


_SERIALIZER = FastSerializer()
