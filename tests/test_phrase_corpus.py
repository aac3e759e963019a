"""Every line of the phrase corpus reaches its meaning's intent, in every locale's model.

On a device Alexa's language model generalises from the sample utterances, but only so far; a
new user's "ok", "wait what" or "which foot" used to get "Sorry, I didn't catch that". So the
corpus (tests/phrases/corpus.txt, what people say, by meaning) is matched the way the
virtual-alexa simulator matches: literally, against the samples and slot values, after dropping
fillers. Each line must reach exactly one intent, the one its meaning names, with the slot value
the line expects; the console's more forgiving resolver must agree, and so must virtual-alexa's
own matcher (tests/phrases/match.js; skipped locally without node, required under CI).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from functools import cache

import pytest

from skill.nlu import Resolved, Resolver, heard
from tests.child_process import missing_node_package, skip_or_fail
from tests.phrases import corpus
from tests.template_loader import REPO_ROOT

MATCHER = REPO_ROOT / "tests" / "phrases" / "match.js"
VIRTUAL_ALEXA = REPO_ROOT / "tests" / "virtual_alexa" / "node_modules" / "virtual-alexa"
INSTALL_COMMAND = "npm ci --prefix tests/virtual_alexa --ignore-scripts --no-audit --no-fund"
MATCH_TIMEOUT_S = 60.0

MODEL_PATHS = sorted((REPO_ROOT / "interaction_model").glob("*.json"))
LOCALES = [path.stem for path in MODEL_PATHS]
LINES = corpus.load()
MEANINGS = sorted({line.meaning for line in LINES})


@cache
def _resolver(locale: str) -> Resolver:
    return Resolver.from_model_file(REPO_ROOT / "interaction_model" / f"{locale}.json")


def _intents(locale: str) -> set[str]:
    model = json.loads((REPO_ROOT / "interaction_model" / f"{locale}.json").read_text("utf-8"))
    return {intent["name"] for intent in model["interactionModel"]["languageModel"]["intents"]}


def _slot_words(reading: Resolved) -> tuple[tuple[str, str], ...]:
    """Slots as the corpus writes them: a resolved value's id, else the words heard."""
    return tuple(
        sorted((name, slot.value_id or slot.spoken) for name, slot in reading.slots.items())
    )


def _problem(resolver: Resolver, line: corpus.Line) -> str | None:
    """Why this line does not land on its intent with its slots, or None when it does."""
    readings = resolver.readings(line.phrase)
    intents = sorted({reading.intent for reading in readings})
    if intents != [line.intent]:
        found = ", ".join(intents) or "no intent"
        return f"line {line.number} {line.phrase!r}: {found}, expected {line.intent}"
    if line.slots and all(_slot_words(r) != tuple(sorted(line.slots)) for r in readings):
        got = [_slot_words(r) for r in readings]
        return f"line {line.number} {line.phrase!r}: slots {got}, expected {list(line.slots)}"
    console = resolver.resolve(line.phrase)
    if console is None or console.intent != line.intent:
        return f"line {line.number} {line.phrase!r}: the console resolves {console}"
    return None


@pytest.mark.parametrize("meaning", MEANINGS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_line_reaches_its_meanings_intent_and_no_other(locale: str, meaning: str) -> None:
    resolver = _resolver(locale)
    problems = [
        problem
        for line in LINES
        if line.meaning == meaning and (problem := _problem(resolver, line)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_virtual_alexa_matches_every_line_to_its_meanings_intent(locale: str) -> None:
    """The same corpus through virtual-alexa's own matcher, built-in default phrases and all."""
    problem = missing_node_package(VIRTUAL_ALEXA / "package.json", "virtual-alexa", INSTALL_COMMAND)
    if problem is not None:
        skip_or_fail(f"the virtual-alexa corpus check needs node and virtual-alexa: {problem}")
    node = shutil.which("node")
    assert node is not None  # missing_node_package said so otherwise
    model = REPO_ROOT / "interaction_model" / f"{locale}.json"
    result = subprocess.run(
        [node, str(MATCHER), str(model)],
        input=json.dumps([heard(line.phrase) for line in LINES]),
        capture_output=True,
        text=True,
        timeout=MATCH_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    matches = json.loads(result.stdout)
    wrong = [
        (line.number, line.phrase, match)
        for line, match in zip(LINES, matches, strict=True)
        if match is None
        or match["intent"] != line.intent
        or {name for name, _ in line.slots} - set(match["slots"])
    ]
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_meaning_names_an_intent_of_the_model(locale: str) -> None:
    assert set(corpus.MEANING_INTENTS.values()) - _intents(locale) == set()


def test_every_meaning_has_lines_to_show_it() -> None:
    counts = Counter(line.meaning for line in LINES)
    assert {meaning for meaning in corpus.MEANING_INTENTS if counts[meaning] < 4} == set()


def test_no_phrase_is_given_two_meanings() -> None:
    """A phrase filed under two meanings would make its expected intent a guess; a line
    filed twice is noise. The same words with and without fillers may share a meaning."""
    meanings: dict[str, set[str]] = {}
    for line in LINES:
        meanings.setdefault(heard(line.phrase), set()).add(line.meaning)
    assert {phrase: m for phrase, m in meanings.items() if len(m) > 1} == {}
    lines = Counter(line.phrase for line in LINES)
    assert [phrase for phrase, times in lines.items() if times > 1] == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("next\n", "phrase before the first"),
        ("# meaning: telepathy\nnext\n", "no intent in the table"),
        ("# meaning: go_to\ngo to ankle circles | ankle_circles\n", "expected 'slot=value'"),
    ],
)
def test_a_malformed_corpus_is_refused(text: str, problem: str) -> None:
    with pytest.raises(corpus.CorpusError, match=problem):
        corpus.parse(text)


def test_the_check_catches_a_line_on_the_wrong_intent_or_two() -> None:
    """Guard the guard: a wrong expectation, a slot mismatch and a two-intent phrase all fail."""
    resolver = _resolver("en-US")
    wrong = corpus.parse("# meaning: pain\nnext\n")[0]
    slot = corpus.parse("# meaning: go_to\ngo to ankle circles | exercise=toe_presses\n")[0]
    assert "expected PainIntent" in (_problem(resolver, wrong) or "")
    assert "slots" in (_problem(resolver, slot) or "")
    twice = Resolver({"next": ("AMAZON.NextIntent", "NextExerciseIntent")}, [], {})
    assert "AMAZON.NextIntent, NextExerciseIntent" in (
        _problem(twice, corpus.parse("# meaning: next\nnext\n")[0]) or ""
    )
