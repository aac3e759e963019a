"""What a shared Echo needs from the coach: a level per person, a short routine for busy
days, a weekly summary, a recognised voice greeted by name, and the one question a new voice
on an account that already has progress is asked.

Each person's place, streak, level and preferences are simply their own Progress (the edge
reads the recognised voice's own item, skill/storage/store.py); the rules here only decide what the
household-specific requests do to it. The words are the content's (strings/en.yaml,
routine.yaml's levels and short routine).
"""

from __future__ import annotations

from datetime import date, timedelta

from skill.content.routine import Level, load_content
from skill.conversation import rules
from skill.conversation.frozen import replace
from skill.conversation.phrasebook import Phrasebook
from skill.conversation.progress import SHORT, Progress, Question, streak
from skill.conversation.speech import Name, Say, Speech
from skill.conversation.turn import Outcome, Rule, Turn, answer, ask, carry_on
from skill.conversation.values import Card, Event, EventKind, Reply

# "How did I do this week" counts today and the six days before: a calendar week would
# tell someone on its first day that they had done nothing, whatever they did yesterday,
# which discourages exactly the people a summary should encourage; and where a week
# begins differs between the locales we serve.
WEEK_DAYS = 7
# From this many days in the week the cheer is the warmest one; the source asks for the
# routine on two or three days in a row, so four or more is a great week.
GREAT_WEEK_DAYS = 4
# Marks where the name goes in the greeting's words until it becomes a Name segment.
_NAME_MARK = "\x00"


# -- a recognised voice ----------------------------------------------------------------------

def greeted(book: Phrasebook, event: Event, reply: Reply) -> Reply:
    """A session opened by a recognised voice starts with their first name, which Alexa
    fills in from the person id (never stored, never known to us)."""
    if event.person is None or event.kind is not EventKind.LAUNCH or not reply.speech:
        return reply
    before, _, after = book.texts.line("greeting_person", name=_NAME_MARK).partition(_NAME_MARK)
    greeting: Speech = (*((Say(before.strip()),) if before.strip() else ()),
                        Name(event.person), *((Say(after.strip()),) if after.strip() else ()))
    return replace(reply, speech=(*greeting, *reply.speech))


def offering(rule: Rule) -> Rule:
    """`rule`, except that a voice whose account has progress of its own is first asked,
    once, whether that progress is theirs (whatever they answer, it is not asked again)."""
    def offered(turn: Turn, progress: Progress) -> Outcome:
        if not progress.offer_account:
            return rule(turn, progress)
        return ask(turn, replace(progress, offer_account=False), Question.OWNER, ())
    return offered


def account_taken(turn: Turn, progress: Progress, welcome: Rule) -> Outcome:
    """Yes, it is theirs: the edge has moved the account's progress to this voice (the
    coach planned it, Plan.claim) and `progress` is the result; they are then welcomed as
    the returning user they now are (`welcome`: what a launch does in their phase). If the
    move failed, nothing changed: the question is asked again next time."""
    if not turn.event.claimed:
        progress = replace(progress, offer_account=True, question=None)
        return carry_on(turn, progress, (turn.book.say("progress_unavailable"),))
    progress, reply = welcome(turn.rebooked(progress), replace(progress, question=None))
    return progress, replace(reply, speech=(turn.book.say("owner_yes"), *reply.speech))


def account_declined(turn: Turn, progress: Progress) -> Outcome:
    """No: they start their own, and the account's progress stays the account's."""
    return carry_on(turn, replace(progress, question=None), (turn.book.say("owner_no"),))


# -- levels ----------------------------------------------------------------------------------

def easier(turn: Turn, progress: Progress) -> Outcome:
    """"Make it easier", "this is too hard": the next easier level, remembered."""
    level = load_content().easier(progress.level)
    return _leveled(turn, progress, level, "level_easier", "level_easiest")


def harder(turn: Turn, progress: Progress) -> Outcome:
    level = load_content().harder(progress.level)
    return _leveled(turn, progress, level, "level_harder", "level_hardest")


def _leveled(turn: Turn, progress: Progress, level: Level | None, changed: str, at_bound: str
             ) -> Outcome:
    """A new level, from the next set heard on (the numbers come from the content's level:
    skill/content/routine_variants.py); at either end the person is told why not."""
    if level is None:
        return answer(turn, progress, (turn.book.say(at_bound),))
    progress = replace(progress, level=level.id)
    return answer(turn.rebooked(progress), progress,
                  (turn.book.say(changed, level=level.name, describe=level.describe),))


def level_now(turn: Turn, progress: Progress) -> Outcome:
    level = load_content().level(progress.level)
    return answer(turn, progress,
                  (turn.book.say("level_now", level=level.name, describe=level.describe),))


# -- the short routine -----------------------------------------------------------------------

def short_routine(turn: Turn, progress: Progress) -> Outcome:
    """"I only have five minutes": the content's short routine from its start, with its
    own introduction. It is recorded as a short one when finished (Progress.kind), and
    counts toward the streak by its own rule (routine.yaml: short.streak)."""
    progress = replace(progress, kind=SHORT)
    turn = turn.rebooked(progress)
    routine = turn.book.routine
    lead = (turn.book.say("short_start", intro=routine.intro or "", names=turn.book.names(),
                          minutes=routine.minutes),)
    return rules.begin(turn, progress, lead)


# -- the weekly summary ----------------------------------------------------------------------

def week(turn: Turn, progress: Progress) -> Outcome:
    """"How did I do this week": days done in the last seven, days in a row, the level, and
    one sentence of encouragement; the same as a card in the Alexa app."""
    book, today = turn.book, turn.now.date()
    days = days_this_week(progress.history, today)
    in_a_row = streak(progress.history, today)
    level = load_content().level(progress.level)
    cheer = book.texts.line(_cheer(days))
    done = Say(book.texts.plural("week_days", days, days=book.texts.number(days))
               ) if days else book.say("week_none")
    speech = (
        done,
        *((book.say("streak_days", days=book.texts.number(in_a_row)),) if in_a_row >= 2 else ()),
        book.say("level_now", level=level.name, describe=level.describe),
        Say(cheer),
    )
    card = Card(book.texts.line("week_card_title"),
                book.texts.line("week_card", days=days, streak=in_a_row, level=level.name,
                                cheer=cheer))
    progress, reply = answer(turn, progress, speech)
    return progress, replace(reply, card=card)


def days_this_week(history: tuple[str, ...], today: date) -> int:
    """Distinct days with a finished routine among today and the six days before."""
    first = (today - timedelta(days=WEEK_DAYS - 1)).isoformat()
    return len({day for day in history if first <= day <= today.isoformat()})


def _cheer(days: int) -> str:
    if days == 0:
        return "week_cheer_none"
    return "week_cheer_most" if days >= GREAT_WEEK_DAYS else "week_cheer_some"
