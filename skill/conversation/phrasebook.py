"""The words: what the rules decided, as Speech, cards and screens in one locale.

The rules say *which* message (a prompt key, an exercise step, a question); everything
that turns it into words lives here: names, numbers, clock times, "part 2 of 3", when a
streak is worth mentioning, and the written forms for the Alexa app and a screen. A new
screen field or a reworded prompt is a change here or in the content, never in the rules.
"""

from __future__ import annotations

from datetime import date

from skill.content.routine import Exercise, Routine
from skill.content.texts import Texts
from skill.conversation.encoded import by_identity
from skill.conversation.phases import Phase
from skill.conversation.progress import SHORT, Position, Question, streak
from skill.conversation.speech import Say, Speech
from skill.conversation.steps import Step, StepBuilder
from skill.conversation.values import Card, Reply, Screen

HELP = {
    Phase.IDLE: "help_idle",
    Phase.OFFERED: "help_question",
    Phase.RECOVERING: "help_recovering",
    Phase.EXERCISING: "help_exercising",
    Phase.PAUSED: "help_paused",
    Phase.FINISHED: "help_finished",
}
# "Didn't catch that" names what fits where the user is (mid-set: ready, repeat, pause); at a
# question or idle it is followed by the question itself, which says what to answer.
FALLBACK = {Phase.EXERCISING: "fallback_exercising", Phase.PAUSED: "fallback_paused",
            Phase.FINISHED: "fallback_finished"}
# What to say when a turn leaves the user in a phase with nothing else to ask.
PROMPT = {Phase.PAUSED: "paused_reprompt", Phase.FINISHED: "finished_prompt"}
QUESTIONS = {
    Question.START: ("offer_start", "offer_start_reprompt"),
    Question.RESUME: ("offer_resume", "offer_resume_reprompt"),
    Question.RESTART: ("offer_restart", "offer_restart_reprompt"),
    Question.REMINDER: ("reminder_offer", "reminder_offer_reprompt"),
    Question.OWNER: ("owner_question", "owner_reprompt"),
}


class Phrasebook:
    """The routine's words for one locale; which rounds share a response is planned once
    per exercise (StepBuilder)."""

    def __init__(self, routine: Routine, texts: Texts) -> None:
        self.routine = routine
        self.texts = texts
        self.turns = StepBuilder(routine, texts)
        self.written: dict[str, str] = {
            exercise.id: self.turns.written(index)
            for index, exercise in enumerate(routine.exercises)
        }

    def say(self, key: str, **facts: object) -> Say:
        return Say(self.texts.line(key, **facts))

    def index(self, position: Position) -> int:
        """Positions are checked against today's content when a turn starts (Coach.handle)."""
        index = self.routine.index_of(position.exercise)
        if index is None:
            raise ValueError(f"unchecked position {position}")
        return index

    def exercise(self, position: Position) -> Exercise:
        return self.routine.exercises[self.index(position)]

    def name(self, position: Position | None) -> str:
        return self.exercise(position).name if position else ""

    def names(self, ids: tuple[str, ...] | None = None) -> str:
        """"a, b and c": the exercises with these ids in this order (an id today's content
        no longer has is left out), or all of them."""
        if ids is None:
            return self.texts.join([exercise.name for exercise in self.routine.exercises])
        found = (self.routine.index_of(exercise_id) for exercise_id in ids)
        return self.texts.join([self.routine.exercises[i].name for i in found if i is not None])

    def is_done(self, position: Position) -> bool:
        """Past the exercise's last set: every round of it is over."""
        return position.set_index >= len(self.exercise(position).sets)

    def under_way(self, position: Position) -> bool:
        """A round to pick up: past the introduction and not yet done."""
        return position.rep > 0 and not self.is_done(position)

    def place_name(self, position: Position) -> str:
        """"toe walking, round 3 of 6", or just the name before or after its rounds."""
        name = self.name(position)
        if not self.under_way(position):
            return name
        return f"{name}, {self.turns.place(self.index(position), position)}"

    def part(self, position: Position) -> Speech:
        """"That's round 3 of 6" once under way; nothing before or after the rounds."""
        if not self.under_way(position):
            return ()
        return (self.say("progress_place", place=self.turns.place(self.index(position),
                                                                   position)),)

    def where(self, position: Position, done: tuple[str, ...] = ()) -> Speech:
        """Where a returning user left off, said when they come back: the round they were
        on, or the exercise they finished and the one that comes next."""
        index = self.index(position)
        if self.is_done(position):
            return (self.say("where_last_done", name=self.name(position)),)
        if self.under_way(position):
            return (self.say("where_round", number=index + 1, name=self.name(position),
                             place=self.turns.place(index, position)),)
        before = self.routine.exercises[index - 1] if index else None
        if before is not None and before.id in done:
            return (self.say("where_next", done_name=before.name, number=index + 1,
                             name=self.name(position)),)
        return (self.say("where_you_were", number=index + 1, name=self.name(position)),)

    def streak_line(self, history: tuple[str, ...], today: date, on_launch: bool = False
                    ) -> Speech:
        """Only worth saying from two days in a row, or a second routine in one day,
        which is what the source recommends (toe walks twice a day)."""
        done_today = history.count(today.isoformat())
        if done_today >= (1 if on_launch else 2):
            return (self.say("done_today" if on_launch else "twice_today"),)
        days = streak(history, today)
        if days < 2:
            return ()
        key = "streak_launch" if on_launch else "streak_days"
        return (self.say(key, days=self.texts.number(days)),)

    def streak_answer(self, history: tuple[str, ...], today: date) -> Speech:
        if not history:
            return (self.say("streak_none"),)
        days = streak(history, today)
        return (
            Say(self.texts.plural("streak_total", len(history), times=len(history))),
            self.say("streak_days", days=self.texts.number(days)) if days >= 2
            else self.say("streak_encourage"),
        )

    def progress_answer(self, position: Position | None, finished: bool) -> Speech:
        total = len(self.routine.exercises)
        if position is None:
            return (self.say("progress_finished" if finished else "progress_not_started",
                             total=total),)
        index = self.index(position)
        left = total - index - 1
        return (
            self.say("progress_at", number=index + 1, total=total, name=self.name(position)),
            *self.part(position),
            self.say({0: "progress_left_none", 1: "progress_left_one"}.get(left, "progress_left"),
                     left=left),
        )

    def finished(self, done: tuple[str, ...], history: tuple[str, ...], today: date,
                 counted: bool) -> Speech:
        """The end of a routine: what was done (by id), and only for a routine that counts
        (most of it done) the congratulations and a streak; one that doesn't is told so."""
        if not counted:
            total = len(self.routine.exercises)
            needed = self.texts.number(self.routine.streak.needed(total))
            return (
                self.say("finished_nothing_done"),
                *((self.say("finished_done", done=self.names(done)),
                   self.say("finished_not_counted", needed=needed,
                            total=self.texts.number(total))) if done else ()),
                self.say("finished_advice"),
            )
        return (
            # A short routine is praised as what it was, not as "your foot routine".
            self.say("finished_short" if self.routine.kind == SHORT else "finished"),
            self.say("finished_done", done=self.names(done)),
            *self.streak_line(history, today),
            self.say("finished_advice"),
        )

    def intro(self, position: Position) -> Step:
        return self.turns.intro(self.index(position))

    def ready(self, position: Position) -> Step:
        return self.turns.ready(self.index(position), position)

    def play(self, position: Position) -> Step:
        return self.turns.play(self.index(position), position)

    def instruction(self, position: Position) -> Step:
        """The last instruction given at a prompt, for "repeat that": the introduction at
        an exercise's first round, the words that closed the exercise before (once its
        rounds are over, the place is the next exercise), else the set-up to get back
        into position."""
        index = self.index(position)
        if self.is_done(position):
            return self.turns.done(index)
        if position.rep == 0:
            return self.turns.done(index - 1) if index else self.turns.intro(index)
        if (position.set_index, position.rep) == (0, 1):
            return self.turns.intro(index)
        return self.turns.ready(index, position)

    def exercise_turn(self, position: Position, step: Step, lead: Speech,
                      disclaimer: str | None) -> Reply:
        """A turn of an exercise after `lead`, with its card and screen. `disclaimer` is
        "full" or "short" when one is due; the full one goes on the card too, so it can be
        read as well as heard."""
        briefing = (self.say(f"disclaimer_{disclaimer}"),) if disclaimer else ()
        card, screen = _written_forms(step, self, position, disclaimer == "full")
        return Reply(briefing + lead + step.speech, step.reprompt, card=card, screen=screen)

    def written_forms(self, position: Position, step: Step, with_disclaimer: bool
                      ) -> tuple[Card, Screen]:
        """The card and screen of an exercise turn (see `_written_forms`, which keeps them)."""
        index = self.index(position)
        exercise = self.routine.exercises[index]
        total = len(self.routine.exercises)
        text = self.written[exercise.id]
        if with_disclaimer:
            text = f"{self.texts.line('disclaimer_full')}\n\n{text}"
        card = Card(self.texts.line("card_title", number=index + 1, total=total,
                                    name=exercise.name.capitalize()), text)
        done_fraction = (index + self._share_done(exercise, position)) / total
        screen = Screen(
            name=exercise.name.capitalize(),
            position=self.texts.line("screen_position", number=index + 1, total=total),
            progress_percent=round(100 * done_fraction),
            step_text=step.display,
            equipment=self.texts.join(list(exercise.equipment))
            or self.texts.line("screen_no_equipment"),
            countdown_seconds=round(step.seconds),
            next_label=self.texts.line("screen_next"),
            repeat_label=self.texts.line("screen_repeat"),
        )
        return card, screen

    @staticmethod
    def _share_done(exercise: Exercise, position: Position) -> float:
        """How much of an exercise's rounds are behind the person."""
        reps = [exercise_set.reps for exercise_set in exercise.sets]
        behind = sum(reps[:position.set_index]) + max(position.rep - 1, 0) * (
            position.set_index < len(reps))
        return min(behind / sum(reps), 1.0)

    def question(self, question: Question, position: Position | None, standalone: bool = False
                 ) -> tuple[Speech, Speech]:
        """A yes/no question and its reprompt; resuming names the place when there is one.
        `standalone` asks it in the words of the reprompt, which stand on their own: after
        an answer to something else, "Shall we pick up there?" has no "there"."""
        if question is Question.RESUME and not position:
            question = Question.START
        if question is Question.PAIN_CHECK:
            check = (Say(self.routine.safety.pain_check),)
            reprompt = (self.say("pain_check_reprompt"),)
            return (reprompt if standalone else check), reprompt
        prompt, reprompt = QUESTIONS[question]
        again = (self.say(reprompt, name=self.name(position)),)
        return (again if standalone else (self.say(prompt),)), again

    def prompt(self, phase: Phase, question: Question | None, position: Position | None
               ) -> tuple[Speech, Speech]:
        """What to say next, and if the user goes quiet, in a phase with nothing new."""
        if question:
            return self.question(question, position, standalone=True)
        if phase is Phase.EXERCISING and position:
            reprompt = self.instruction(position).reprompt
        else:
            reprompt = (self.say(PROMPT[phase]),)
        return reprompt, reprompt

    def help(self, phase: Phase, position: Position | None) -> Speech:
        return (self.say(HELP[phase], name=self.name(position)),)

    def fallback(self, phase: Phase, position: Position | None) -> Speech:
        return (self.say(FALLBACK.get(phase, "fallback"), name=self.name(position)),)

    def unknown_exercise(self, spoken: str | None) -> Speech:
        spoken = spoken or self.texts.line("that_one")
        return (self.say("unknown_exercise", spoken=spoken, names=self.names()),)

    def clock(self, time: str) -> str:
        """"8 AM", "7:30 PM": a reminder time as the locale says it."""
        hour, minute = (int(part) for part in time.split(":"))
        period = self.texts.line("am" if hour < 12 else "pm")
        key = "clock_on_the_hour" if minute == 0 else "clock_time"
        return self.texts.line(key, hour=(hour % 12) or 12, minutes=f"{minute:02d}",
                               period=period)


@by_identity(maxsize=1024)
def _written_forms(step: Step, book: Phrasebook, position: Position, with_disclaimer: bool
                   ) -> tuple[Card, Screen]:
    """A turn's card and screen, made once per step and place: steps are rendered once per
    process (StepBuilder), and a warm Lambda writes the same few dozen cards again and again."""
    return book.written_forms(position, step, with_disclaimer)
