"""Console-side intent resolver built from the Alexa interaction model.

`foot-routine chat` lets a person type what they would say to Alexa. Rather than keeping a second
phrase list in sync with the voice model, this module reads ``interaction_model/<locale>.json``
and approximates what Alexa's NLU does with it: exact sample matches, slot-filled samples, and
entity resolution of slot values against the custom slot types' names and synonyms. Apart from
dropping fillers ("um", a trailing "please") and tolerating a leading article before a slot value
it is deliberately literal (no fuzzy matching), so a phrase missing from the model shows up as
unrecognised in the console: the cue to add it.

`Resolver.readings` is stricter still, the way the virtual-alexa simulator matches: only verbatim
samples and slot values count, and every intent that could claim a phrase is listed, so the phrase
corpus test can insist on exactly one.
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass

_SLOT_TOKEN = re.compile(r"^\{(\w+)\}$")
# Alexa hears words, not punctuation: keep letters, digits, apostrophes and spaces only.
_NOT_WORD_CHAR = re.compile(r"[^a-z0-9' ]+")
# Apostrophes count only inside a word ("i'm"); quote marks around words are dropped.
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z])'|'(?![a-z])")
_CURLY_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# Articles people put in front of an exercise name that Alexa's entity resolution tolerates.
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an) ")
# Hesitations Alexa's transcription leaves out, so no sample needs to spell them.
_FILLERS = frozenset({"um", "umm", "uh", "uhm", "er", "erm", "hmm"})


def normalise(text: str) -> str:
    """Reduce typed text to the form Alexa's sample utterances use.

    Typed input carries capitals, punctuation and the wake word ("Alexa, next!") that a spoken
    request would not, so strip them before comparing with the model's samples.
    """
    text = text.translate(_CURLY_APOSTROPHES).lower()
    text = _NOT_WORD_CHAR.sub(" ", text)
    text = _STRAY_APOSTROPHE.sub(" ", text)
    words = text.split()
    if words[:1] == ["alexa"]:
        words = words[1:]
    return " ".join(words)


def drop_fillers(text: str) -> str:
    """Normalised text without hesitations and without a trailing "please".

    People pad requests ("um, next please"); a sample list that spelled every padding would
    be endless, so both the samples and what is heard are compared without it.
    """
    words = [word for word in text.split() if word not in _FILLERS]
    if words[-1:] == ["please"]:
        words = words[:-1]
    return " ".join(words)


def heard(text: str) -> str:
    """What the resolver compares: typed text normalised, then stripped of fillers."""
    return drop_fillers(normalise(text))


@dataclass(frozen=True)
class SlotValue:
    """A filled slot, shaped like Alexa's slot value plus its entity-resolution outcome."""

    spoken: str  # the words the user said, e.g. "pencil pickups"
    value_id: str | None  # resolved slot value id, e.g. "toe_pencil_pickups"; None if no match
    value_name: str | None  # canonical name, e.g. "toe pencil pickups"; None if no match


@dataclass(frozen=True)
class Resolved:
    """The intent an utterance maps to, with any slots it filled."""

    intent: str  # e.g. "GoToExerciseIntent"
    slots: dict[str, SlotValue]  # slot name -> value (empty if none)


@dataclass(frozen=True)
class _SlotSample:
    """A sample utterance containing slots, compiled to a whole-utterance regex."""

    intent: str
    pattern: re.Pattern[str]
    slot_types: dict[str, str]  # regex group name -> slot type name
    group_slots: dict[str, str]  # regex group name -> slot name
    literal_words: int  # words outside slots; more literal words means a more specific sample


class Resolver:
    """Maps typed utterances to intents and slots using one locale's interaction model."""

    def __init__(
        self,
        exact: dict[str, tuple[str, ...]],
        slot_samples: list[_SlotSample],
        entities: dict[str, dict[str, tuple[str, str]]],
    ) -> None:
        """Hold pre-compiled lookups; build instances with `from_model_file`."""
        self._exact = exact
        self._slot_samples = slot_samples
        self._entities = entities

    @classmethod
    def from_model_file(cls, path: pathlib.Path) -> Resolver:
        """Load an ask-cli interaction model and compile its samples once, up front.

        The console resolves every line a person types, so all regex compilation and synonym
        indexing happens here rather than per call.
        """
        language_model = json.loads(path.read_text(encoding="utf-8"))["interactionModel"][
            "languageModel"
        ]
        entities: dict[str, dict[str, tuple[str, str]]] = {}
        for slot_type in language_model.get("types", []):
            index: dict[str, tuple[str, str]] = {}
            for value in slot_type.get("values", []):
                name = value["name"]["value"]
                value_id = value.get("id") or name
                for phrase in [name, *value["name"].get("synonyms", [])]:
                    index.setdefault(normalise(phrase), (value_id, name))
            entities[slot_type["name"]] = index

        # Every intent a literal sample belongs to, in model order: the model tests forbid a
        # sample in two intents, and `readings` reports it if one slips through.
        exact: dict[str, tuple[str, ...]] = {}
        slot_samples: list[_SlotSample] = []
        for intent in language_model["intents"]:
            declared = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
            for sample in intent.get("samples", []):
                if "{" in sample:
                    slot_samples.append(_compile_slot_sample(intent["name"], sample, declared))
                    continue
                owners = exact.get(key := drop_fillers(normalise(sample)), ())
                if intent["name"] not in owners:
                    exact[key] = (*owners, intent["name"])
        return cls(exact, slot_samples, entities)

    def resolve(self, utterance: str) -> Resolved | None:
        """Return the intent (and slots) Alexa would most plausibly pick, or None.

        An exact sample match wins outright. Otherwise slot samples compete: one whose slots all
        resolve to known values beats one that doesn't, and among equals the sample with more
        literal words wins, because it constrains the utterance more. An unresolved capture is
        accepted only when the sample has carrier words ("go to yoga"), so a bare unknown phrase
        is not mistaken for an exercise name.
        """
        text = heard(utterance)
        if not text:
            return None
        if text in self._exact:
            return Resolved(intent=self._exact[text][0], slots={})

        best: tuple[tuple[bool, int], Resolved] | None = None
        for sample in self._slot_samples:
            match = sample.pattern.fullmatch(text)
            if match is None:
                continue
            slots = {
                sample.group_slots[group]: self._resolve_slot(sample.slot_types[group], spoken)
                for group, spoken in match.groupdict().items()
            }
            all_resolved = all(slot.value_id is not None for slot in slots.values())
            if not all_resolved and sample.literal_words == 0:
                continue
            rank = (all_resolved, sample.literal_words)
            if best is None or rank > best[0]:
                best = (rank, Resolved(intent=sample.intent, slots=slots))
        return best[1] if best else None

    def readings(self, utterance: str) -> list[Resolved]:
        """Every intent (with slots) the model gives this utterance by literal match alone.

        This is how the virtual-alexa simulator matches, and the floor the model must meet
        before Alexa's own generalisation: a literal sample, or a slot sample whose custom
        slots hold one of the type's values or synonyms word for word (no article dropped);
        built-in slot types such as AMAZON.TIME take any words. More than one intent means
        the model leaves the phrase to chance.
        """
        text = heard(utterance)
        if not text:
            return []
        found = [Resolved(intent=intent, slots={}) for intent in self._exact.get(text, ())]
        for sample in self._slot_samples:
            match = sample.pattern.fullmatch(text)
            slots = self._literal_slots(sample, match) if match else None
            if slots is not None and (reading := Resolved(sample.intent, slots)) not in found:
                found.append(reading)
        return found

    def _literal_slots(
        self, sample: _SlotSample, match: re.Match[str]
    ) -> dict[str, SlotValue] | None:
        """The slots of a matched sample if every custom slot holds a listed value, else None."""
        slots: dict[str, SlotValue] = {}
        for group, spoken in match.groupdict().items():
            slot_type = sample.slot_types[group]
            if slot_type in self._entities:
                hit = self._entities[slot_type].get(spoken)
                if hit is None:
                    return None
                slots[sample.group_slots[group]] = SlotValue(spoken, *hit)
            else:
                slots[sample.group_slots[group]] = SlotValue(spoken, None, None)
        return slots

    def _resolve_slot(self, slot_type: str, spoken: str) -> SlotValue:
        """Entity-resolve a captured phrase against a slot type's values and synonyms."""
        index = self._entities.get(slot_type, {})
        hit = index.get(spoken) or index.get(_LEADING_ARTICLE.sub("", spoken))
        if hit is None:
            return SlotValue(spoken=spoken, value_id=None, value_name=None)
        return SlotValue(spoken=spoken, value_id=hit[0], value_name=hit[1])


def _compile_slot_sample(intent: str, sample: str, declared: dict[str, str]) -> _SlotSample:
    """Turn "go to {exercise}" into a regex whose named groups capture the slot text."""
    parts: list[str] = []
    slot_types: dict[str, str] = {}
    group_slots: dict[str, str] = {}
    literal_words = 0
    for token in sample.split():
        slot = _SLOT_TOKEN.match(token)
        if slot is None:
            # Normalise word by word so slot names keep their case and braces.
            parts.append(re.escape(normalise(token)))
            literal_words += 1
            continue
        # Group names are positional because slot names need not be valid regex group names.
        group = f"s{len(group_slots)}"
        group_slots[group] = slot[1]
        slot_types[group] = declared.get(slot[1], "")
        parts.append(f"(?P<{group}>.+?)")
    return _SlotSample(
        intent=intent,
        pattern=re.compile(" ".join(parts)),
        slot_types=slot_types,
        group_slots=group_slots,
        literal_words=literal_words,
    )


def model_path(locale: str = "en-US") -> pathlib.Path:
    """Locate interaction_model/<locale>.json in the repo, which the console runs from."""
    return pathlib.Path(__file__).resolve().parents[2] / "interaction_model" / f"{locale}.json"
