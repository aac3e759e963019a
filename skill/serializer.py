"""ask-sdk-core's serializer, minus its two per-request costs that show on a warm turn.

Deserialising an envelope spends most of its time parsing the ISO timestamp with dateutil
and importing model classes by name again and again. Python parses Alexa's timestamps
itself, and a class resolved once stays resolved. Both are overrides of the SDK's private
(name-mangled) hooks, so tests/test_serializer.py pins them: an SDK release that renames
them fails there, not in production (where the stock behaviour would simply come back).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer

_CLASSES: dict[str, Any] = {}


class FastSerializer(DefaultSerializer):
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
