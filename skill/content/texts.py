"""Everything the skill says that is not exercise content: prompts, per locale, from YAML.

A locale file holds only what differs from the shared English base, so a new English
locale is a handful of lines; an unknown locale falls back to en-US rather than failing.
"""

from __future__ import annotations

import string
from collections import ChainMap
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from skill.content.routine import load_routine
from skill.content.yamlfile import ContentError, load_yaml

STRINGS_DIR = Path(__file__).parent / "strings"
BASE = "en"
DEFAULT_LOCALE = "en-US"


class Texts(NamedTuple):
    """The prompts of one locale. Read-only: shared by every request in the process."""

    locale: str
    lines: Mapping[str, str]
    numbers: tuple[str, ...]
    # Facts of the routine as written that general prompts mention ("5 exercises", what to
    # have ready), filled in unless the caller passes its own, so no prompt hard-codes what
    # the content may change.
    facts: Mapping[str, Any] = MappingProxyType({})

    def line(self, key: str, **fields: Any) -> str:
        """One prompt with its {fields} filled in; a missing key is a content bug."""
        try:
            template = self.lines[key]
        except KeyError:
            raise ContentError(f"{self.locale}: no prompt '{key}' in {STRINGS_DIR}") from None
        return template.format_map(ChainMap(fields, self.facts))

    def plural(self, key: str, count: int, **fields: Any) -> str:
        """The prompt for `count` things: `key_one` when there is one and the file has it
        ("once", "one day"), else `key`, so no sentence says "1 times"."""
        chosen = f"{key}_one" if count == 1 and f"{key}_one" in self.lines else key
        return self.line(chosen, **fields)

    def number(self, value: int) -> str:
        """A count as a word ("three"), so the console reads like the speech."""
        return self.numbers[value] if 0 <= value < len(self.numbers) else str(value)

    def join(self, items: list[str]) -> str:
        """"a, b and c", with the locale's word for "and"."""
        if len(items) < 2:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.lines['and']} {items[-1]}"


def _read(path: Path) -> dict[str, Any]:
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected a mapping of prompt names to text")
    return raw


def _check_fields(locale: str, key: str, template: str, base_template: str) -> None:
    """An override must use the same {fields} as the base, or it would fail mid-session."""
    formatter = string.Formatter()
    fields = {name for _, name, _, _ in formatter.parse(template) if name}
    base_fields = {name for _, name, _, _ in formatter.parse(base_template) if name}
    if fields != base_fields:
        raise ContentError(
            f"{STRINGS_DIR / locale}.yaml: prompt '{key}' uses fields {sorted(fields)}, "
            f"the base uses {sorted(base_fields)}"
        )


@cache
def available_locales() -> tuple[str, ...]:
    """Locales with an override file, plus the default."""
    names = {path.stem for path in STRINGS_DIR.glob("*.yaml")} - {BASE}
    return tuple(sorted(names | {DEFAULT_LOCALE}))


def supported_locale(locale: str | None) -> str:
    """The locale itself if we have it, else en-US (so caches stay one entry per locale)."""
    return locale if locale in available_locales() else DEFAULT_LOCALE


def load_texts(locale: str = DEFAULT_LOCALE) -> Texts:
    """The prompts for a locale, parsed once per process."""
    return _load_texts(supported_locale(locale))


@cache
def _load_texts(locale: str) -> Texts:
    base = _read(STRINGS_DIR / f"{BASE}.yaml")
    override_path = STRINGS_DIR / f"{locale}.yaml"
    overrides = _read(override_path) if override_path.exists() else {}
    lines = dict(base["lines"])
    for key, template in overrides.get("lines", {}).items():
        if key not in lines:
            raise ContentError(f"{override_path}: prompt '{key}' is not in the base {BASE}.yaml")
        _check_fields(locale, key, template, lines[key])
        lines[key] = template
    texts = Texts(
        locale=locale,
        lines=MappingProxyType(lines),
        numbers=tuple(overrides.get("numbers", base["numbers"])),
    )
    return texts._replace(facts=MappingProxyType(_routine_facts(texts)))


def _routine_facts(texts: Texts) -> dict[str, Any]:
    """{exercise_count}, {exercise_count_word} and {equipment_all}, from the routine."""
    routine = load_routine()
    count = len(routine.exercises)
    return {
        "exercise_count": count,
        "exercise_count_word": texts.number(count),
        "equipment_all": texts.join(list(routine.equipment_needed())),
    }
