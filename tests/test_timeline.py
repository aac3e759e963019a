"""The timeline: offsets a barge-in can be mapped to, and the APLA and console forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from skill.conversation.speech import Pause, Say
from skill.conversation.timeline import (
    CHIME_SOURCE,
    TICK_SOURCE,
    Chime,
    Mark,
    Played,
    Reached,
    Tick,
    apla_text,
    as_speech,
    offsets,
    reached,
    spoken_seconds,
    to_apla,
    to_console,
    total_seconds,
)

ROUNDS = (
    Say("Stand up."),
    Mark(0, 1), Say("Round one."), Tick(20), Chime(), Pause(15),
    Mark(0, 2), Say("Round two."), Tick(20), Chime(),
)


def test_words_take_time_in_proportion_to_their_length() -> None:
    short, long = spoken_seconds("Press."), spoken_seconds("Spread your toes wide and press down.")
    assert 0 < short < long


def test_offsets_add_up_cue_by_cue() -> None:
    starts = [start for start, _ in offsets(ROUNDS)]
    assert starts == sorted(starts)
    assert total_seconds(ROUNDS) == pytest.approx(
        sum(spoken_seconds(cue.text) for cue in ROUNDS if isinstance(cue, Say)) + 20 + 20 + 15
        + 2 * Chime().seconds
    )


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [(0.0, None), (1.5, Mark(0, 1)), (30.0, Mark(0, 1)), (45.0, Mark(0, 2)), (999.0, Mark(0, 2))],
    ids=["before-first-round", "round-one-begun", "in-round-one-rest", "round-two", "after-end"],
)
def test_a_barge_in_maps_to_the_round_that_had_begun(elapsed: float, expected: Mark | None) -> None:
    assert reached(ROUNDS, elapsed) == expected


def test_console_shows_sounds_and_silences() -> None:
    assert to_console(ROUNDS) == (
        "Stand up. Round one. [tick x20] [chime] [15s] Round two. [tick x20] [chime]"
    )


def test_apla_plays_ticks_under_a_silence_of_the_hold_length() -> None:
    directive = to_apla(ROUNDS, token="set")
    assert directive["type"] == "Alexa.Presentation.APLA.RenderDocument"
    document = directive["document"]
    assert (document["type"], document["version"]) == ("APLA", "0.91")
    items = document["mainTemplate"]["items"][0]["items"]
    assert [item["type"] for item in items] == [
        "Speech", "Mixer", "Audio", "Silence", "Speech", "Mixer", "Audio"]
    assert items[0]["content"] == "Stand up. Round one."
    silence, loop = items[1]["items"]
    assert silence == {"type": "Silence", "duration": 20000}
    assert loop["source"] == TICK_SOURCE and loop["duration"] == "trimToParent"
    repeats = next(f["repeatCount"] for f in loop["filters"] if f["type"] == "Repeat")
    assert (repeats + 1) * 6.48 >= 20 > repeats * 6.48
    assert items[2]["source"] == CHIME_SOURCE


def test_apla_refuses_more_audio_than_alexa_plays() -> None:
    with pytest.raises(ValueError, match="240"):
        to_apla((Say("Hold."), Tick(200), Pause(50)))


def test_apla_reads_back_as_the_console_shows_it() -> None:
    assert apla_text(to_apla(ROUNDS)) == to_console(ROUNDS)


ANSWERED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "expected"),
    [(0, Reached(Mark(0, 1), True)), (30, Reached(Mark(0, 1), True)),
     (45, Reached(Mark(0, 2), True)), (600, Reached(Mark(0, 2), False))],
    ids=["at-once", "in-round-one", "in-round-two", "heard-in-full"])
def test_the_session_form_maps_the_next_request_to_a_round(after: int, expected: Reached) -> None:
    sent = Played.of(ROUNDS, ANSWERED)
    assert sent is not None
    kept = Played.from_session(json.loads(json.dumps(sent.session())))
    assert kept is not None
    assert kept.reached(ANSWERED + timedelta(seconds=after)) == expected


@pytest.mark.parametrize("raw", [None, {}, {"at": "soon", "seconds": 3, "marks": []},
                                 {"at": "2026-03-02T08:00:00", "seconds": 3, "marks": [[0, 0, 1]]},
                                 {"at": "2026-03-02T08:00:00Z", "seconds": "x", "marks": [[0]]}],
                         ids=["none", "empty", "bad-time", "no-offset", "bad-marks"])
def test_a_session_form_we_cannot_read_is_no_timeline(raw: object) -> None:
    assert Played.from_session(raw) is None


def test_a_response_without_places_keeps_no_timeline() -> None:
    assert Played.of((Say("Say ready."),), ANSWERED) is None
    assert as_speech((Say("Say ready."), Pause(1))) == (Say("Say ready."), Pause(1))
    assert as_speech(ROUNDS) is None
