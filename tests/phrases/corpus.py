"""The phrase corpus (corpus.txt) and the one table saying which intent each meaning reaches.

The corpus is the specification of what the interaction models must understand: it is written
from how people talk, and tests/test_phrase_corpus.py resolves every line through every locale's
model. Keeping the meaning -> intent choice in this one table means moving a meaning to another
intent is a one-line change, and a later check of the skill's answer per meaning can key on the
same names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.txt")

# Several meanings may share an intent when the coach already tells them apart by state or
# answers them alike; each line lists why the choice is not obvious.
MEANING_INTENTS: dict[str, str] = {
    "start": "StartRoutineIntent",
    # Every phrasing with the word "next" goes to Amazon's own NextIntent (it carries "next").
    "next": "AMAZON.NextIntent",
    # "ready", "carry on", "continue", "go on": the coach's NEXT already means resume when
    # paused, yes at a question and the next step mid-set, which is what these mean by state.
    "go_on": "NextExerciseIntent",
    # "done" / "I'm done": mid-set the set is finished, at a question it ends; the coach decides.
    "set_done": "SetDoneIntent",
    "skip": "SkipExerciseIntent",
    "go_to": "GoToExerciseIntent",
    "pain": "PainIntent",
    # A cramp is not pain: the content advises resting the foot and carrying on.
    "cramp": "CrampIntent",
    "dizzy": "DizzyIntent",
    "progress": "ProgressIntent",
    "time_left": "TimeLeftIntent",
    "list": "ListExercisesIntent",
    "disclaimer": "DisclaimerIntent",
    "streak": "StreakIntent",
    # "what", "huh", "wait what", "do that again": say the current part again.
    "repeat": "AMAZON.RepeatIntent",
    "previous": "AMAZON.PreviousIntent",
    # "hold on", "one second", "I need a break" ask for a pause outright.
    "pause": "AMAZON.PauseIntent",
    # "I'm tired" reports a state; the coach may pause and offer to stop for today.
    "tired": "TiredIntent",
    "resume": "AMAZON.ResumeIntent",
    "restart": "AMAZON.StartOverIntent",
    # "ok", "got it", "alright": a yes at a question, and the coach's YES mid-set goes on.
    "yes": "AMAZON.YesIntent",
    "no": "AMAZON.NoIntent",
    "help": "AMAZON.HelpIntent",
    "stop": "AMAZON.StopIntent",
    # "that's enough for today", "let's call it a day": StopIntent already ends politely with
    # the place saved in every state, so ending for today needs no intent of its own.
    "done_for_today": "AMAZON.StopIntent",
    "cancel": "AMAZON.CancelIntent",
    "which_side": "SideQuestionIntent",
    "equipment": "EquipmentQuestionIntent",
    "purpose": "PurposeIntent",
    "no_equipment": "NoEquipmentIntent",
    "seated": "SeatedIntent",
    "slower": "SlowerIntent",
    "faster": "FasterIntent",
    "set_reminder": "SetReminderIntent",
    "cancel_reminder": "CancelReminderIntent",
    "reminder_status": "ReminderStatusIntent",
}

_HEADER = re.compile(r"^#\s*meaning:\s*(\w+)\s*$")
_SLOT = re.compile(r"^(\w+)=(.+)$")


@dataclass(frozen=True)
class Line:
    """One thing a person says, what they mean by it, and any slot value it must carry."""

    number: int  # line number in corpus.txt, for a failure message that points at it
    meaning: str
    phrase: str
    slots: tuple[tuple[str, str], ...]  # (slot name, value id or built-in slot words)

    @property
    def intent(self) -> str:
        return MEANING_INTENTS[self.meaning]


class CorpusError(ValueError):
    """corpus.txt is malformed: a line outside a meaning, an unknown meaning, a bad slot."""


def parse(text: str) -> list[Line]:
    """Lines of the corpus; comments and blank lines are skipped, headers set the meaning."""
    lines: list[Line] = []
    meaning: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        header = _HEADER.match(stripped)
        if header:
            meaning = header[1]
            if meaning not in MEANING_INTENTS:
                raise CorpusError(f"line {number}: meaning {meaning!r} has no intent in the table")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if meaning is None:
            raise CorpusError(f"line {number}: phrase before the first '# meaning:' header")
        phrase, *annotations = (part.strip() for part in stripped.split("|"))
        slots = []
        for annotation in annotations:
            slot = _SLOT.match(annotation)
            if slot is None:
                raise CorpusError(f"line {number}: expected 'slot=value', got {annotation!r}")
            slots.append((slot[1], slot[2]))
        lines.append(Line(number, meaning, phrase, tuple(slots)))
    return lines


@cache
def load() -> tuple[Line, ...]:
    """The corpus, parsed once per test session."""
    return tuple(parse(CORPUS.read_text(encoding="utf-8")))
