"""Where a user is in the conversation, derived in one place from their progress.

Progress keeps flags (a question, paused, finished, briefed, a position) because those
are what travels between turns; the rules and the words read the Phase instead, so the
order in which the flags count is decided here once.
"""

from __future__ import annotations

from enum import StrEnum

from skill.conversation.progress import Progress


class Phase(StrEnum):
    IDLE = "idle"  # nothing under way in this session (there may be a saved place)
    OFFERED = "offered"  # a yes/no question is open: start, resume, restart or a reminder
    RECOVERING = "recovering"  # the last session stopped on pain: how it feels comes first
    EXERCISING = "exercising"  # an exercise step was spoken and the user is on it
    PAUSED = "paused"  # the user paused mid-routine
    FINISHED = "finished"  # the routine ended in this session


def phase_of(progress: Progress) -> Phase:
    """An open question comes first: "yes" and "no" must answer it, whatever else holds."""
    if progress.question:
        return Phase.OFFERED
    if progress.pain_stopped:
        return Phase.RECOVERING
    if progress.paused and progress.position:
        return Phase.PAUSED
    if progress.finished:
        return Phase.FINISHED
    if progress.position and progress.briefed:
        return Phase.EXERCISING
    return Phase.IDLE
