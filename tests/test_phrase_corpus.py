"""Every line of the phrase corpus reaches its meaning's intent, in every locale's model.

On a device Alexa's language model generalises from the sample utterances, but only so far; a
new user's "ok", "wait what" or "which foot" used to get "Sorry, I didn't catch that". So the
corpus (tests/phrases/corpus.txt, what people say, by meaning) is matched the way the
virtual-alexa simulator matches: literally, against the samples and slot values, after dropping
fillers. Each line must reach exactly one intent, the one its meaning names, with the slot value
the line expects; the console's more forgiving resolver must agree, and so must virtual-alexa's
own matcher (tests/phrases/match.js; skipped locally without node, required under CI). Then
every line is said to the skill itself, through the Lambda handler, in the situation its
meaning is about, and the answer must fit the meaning (tests/phrases/corpus.py: MEANING_ANSWERS).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache

import pytest

from skill import lambda_function
from skill.alexa.app import build_skill
from skill.content.routine import load_routine
from skill.conversation.progress import progress_from_dict
from skill.storage.store import MemoryStore
from skill.tools.envelopes import Device, slot
from skill.tools.nlu import Resolved, Resolver, heard
from tests.child_process import missing_node_package, skip_or_fail
from tests.conftest import Clock
from tests.conversation import Heard
from tests.echo import Echo
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


def test_every_meaning_says_what_the_skill_must_answer() -> None:
    assert set(corpus.MEANING_ANSWERS) == set(corpus.MEANING_INTENTS)
    assert {answer.where for answer in corpus.MEANING_ANSWERS.values()} <= set(SITUATIONS)


# -- the skill's answer fits each line's meaning --------------------------------------------

# A question cuts into ankle circles' rounds this many seconds in.
MID_SET_SECOND = 20
# Enough "ready"s to finish from the last exercise; a loop here cannot run away.
MAX_TURNS = 20


def _new(echo: Echo) -> None:
    echo.open()


def _intro(echo: Echo) -> None:
    echo.open()
    echo.say("AMAZON.YesIntent")
    echo.say("GoToExerciseIntent", exercise="ankle circles")


def _mid_set(echo: Echo) -> None:
    _intro(echo)
    echo.say("NextExerciseIntent")


def _to_the_end(echo: Echo) -> None:
    for _ in range(MAX_TURNS):
        echo.say("NextExerciseIntent")
        if progress_from_dict(echo.device.attributes.get("progress")).finished:
            return
    raise AssertionError("the routine never finished")


def _back(echo: Echo) -> None:
    """Yesterday a routine finished, today ankle circles stopped at its introduction."""
    echo.open()
    echo.say("AMAZON.YesIntent")
    _to_the_end(echo)
    echo.say("AMAZON.StopIntent")
    echo.next_day()
    _intro(echo)
    echo.say("AMAZON.StopIntent")
    echo.open()


def _pain_check(echo: Echo) -> None:
    _mid_set(echo)
    echo.barge_in(MID_SET_SECOND, "PainIntent")
    echo.open()


def _finished(echo: Echo) -> None:
    echo.open()
    echo.say("AMAZON.YesIntent")
    echo.say("GoToExerciseIntent", exercise="toe pencil pickups")
    _to_the_end(echo)


SITUATIONS: dict[str, Callable[[Echo], None]] = {
    "new": _new, "intro": _intro, "mid_set": _mid_set, "back": _back,
    "pain_check": _pain_check, "finished": _finished,
}


@pytest.fixture(scope="module")
def situations() -> Iterator[dict[str, Echo]]:
    """Each situation set up once (its own user), then copied for every line said in it:
    a turn in an open session reads its progress from the session, so copies don't mix."""
    patch = pytest.MonkeyPatch()
    patch.setattr(lambda_function, "_skill", build_skill(MemoryStore(), Clock()))
    made = {}
    for name, set_up in SITUATIONS.items():
        echo = Echo(lambda_function.handler, Device(user_id=f"amzn1.ask.account.{name}"))
        set_up(echo)
        made[name] = echo
    yield made
    patch.undo()


def _said(echo: Echo, reading: Resolved) -> Heard:
    """The line as Alexa sends it, slots resolved, after the last response has played."""
    slots = {name: slot(name, value.spoken, value.value_id)
             for name, value in reading.slots.items()}
    echo.wait(600)
    return echo._send(echo.device.intent(reading.intent, slots))


@pytest.mark.parametrize("meaning", MEANINGS)
def test_the_skills_answer_fits_every_lines_meaning(meaning: str,
                                                    situations: dict[str, Echo]) -> None:
    expected = corpus.MEANING_ANSWERS[meaning]
    resolver = _resolver("en-US")
    names = {exercise.id: exercise.name for exercise in load_routine().exercises}
    wrong = []
    for line in (line for line in LINES if line.meaning == meaning):
        reading = resolver.resolve(line.phrase)
        assert reading is not None, line.phrase
        echo = copy.deepcopy(situations[expected.where])
        if expected.where == "mid_set":
            answer = echo.barge_in(MID_SET_SECOND, reading.intent, **{
                name: value.spoken for name, value in reading.slots.items()})
        else:
            answer = _said(echo, reading)
        exercise = next((value.value_id for value in reading.slots.values()), None)
        says = expected.says.replace("{exercise}", names.get(exercise or "", ""))
        if says.lower() not in answer.text.lower() or answer.ended != expected.ends:
            wrong.append((line.number, line.phrase, answer.text[:160], answer.ended))
    assert wrong == []
