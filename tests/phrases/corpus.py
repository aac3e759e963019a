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
    # "It still hurts", answering "does it still hurt?" after a pain stop, is pain again.
    "still_hurts": "PainIntent",
    # "I feel fine": the other answer to that question (Amazon's Yes and No would be guesses).
    "feel_fine": "FeelFineIntent",
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
    # "I'm tired" reports a state; the coach pauses with a word that resting is fine.
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
    # A household's own ([household]): each person's level, the short routine, the week.
    "easier": "EasierIntent",
    "harder": "HarderIntent",
    "level": "LevelIntent",
    "short_routine": "ShortRoutineIntent",
    "week": "WeekSummaryIntent",
}


@dataclass(frozen=True)
class Answer:
    """What the skill must do with a meaning: said `where` (a situation the corpus test sets
    up through the Lambda handler), its answer contains `says` (case aside; "{exercise}" is
    the name of the exercise the line's slot names) and ends the session or not."""

    where: str
    says: str
    ends: bool = False


# Situations (tests/test_phrase_corpus.py builds each): "new" a first launch, at "would you
# like to start?"; "back" a returning user at "shall we pick up there?" (ankle circles);
# "intro" the introduction of ankle circles (exercise 3, left foot first); "mid_set" right
# after ankle circles' first set was played; "pain_check" the launch after a pain stop;
# "finished" the end of a routine.
MEANING_ANSWERS: dict[str, Answer] = {
    "start": Answer("new", "exercise 1 of 5"),
    "next": Answer("intro", "draw slow circles"),
    "go_on": Answer("intro", "draw slow circles"),
    "set_done": Answer("intro", "draw slow circles"),
    "skip": Answer("intro", "skipping ankle circles"),
    "go_to": Answer("intro", "{exercise}"),
    "pain": Answer("mid_set", "doctor", ends=True),
    "still_hurts": Answer("pain_check", "talk to your doctor", ends=True),
    "feel_fine": Answer("pain_check", "glad it feels better"),
    "cramp": Answer("mid_set", "put your foot down flat"),
    "dizzy": Answer("mid_set", "sit down", ends=True),
    "progress": Answer("mid_set", "exercise 3 of 5"),
    "time_left": Answer("mid_set", "minutes to go"),
    "list": Answer("intro", "the routine has 5 exercises"),
    "disclaimer": Answer("intro", "not a substitute for advice"),
    "streak": Answer("back", "finished the routine once"),
    "repeat": Answer("intro", "exercise 3 of 5: ankle circles"),
    "previous": Answer("intro", "toe walking"),
    # On a device a paused session cannot wait: the place is saved and the session ends.
    "pause": Answer("mid_set", "ask foot routine to resume", ends=True),
    "tired": Answer("mid_set", "take a break", ends=True),
    "resume": Answer("back", "back into position"),
    "restart": Answer("intro", "starting over"),
    "yes": Answer("back", "back into position"),
    "no": Answer("back", "start from the beginning instead"),
    "help": Answer("intro", "we're on ankle circles"),
    "stop": Answer("mid_set", "saved your place", ends=True),
    "done_for_today": Answer("back", "saved your place", ends=True),
    "cancel": Answer("mid_set", "saved your place", ends=True),
    "which_side": Answer("intro", "your left foot"),
    "equipment": Answer("intro", "for ankle circles, you'll need"),
    "purpose": Answer("intro", "loose, mobile ankles"),
    "no_equipment": Answer("intro", "will do instead"),
    "seated": Answer("intro", "seated version"),
    "slower": Answer("intro", "slow down"),
    "faster": Answer("intro", "quicker"),
    "set_reminder": Answer("finished", "reminder"),
    "cancel_reminder": Answer("intro", "reminder"),
    "reminder_status": Answer("intro", "reminder"),
    "easier": Answer("intro", "made it easier"),
    "harder": Answer("intro", "step it up"),
    "level": Answer("intro", "standard level"),
    "short_routine": Answer("new", "short routine for a busy day"),
    "week": Answer("back", "this week"),
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
