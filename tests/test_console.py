"""`foot-routine chat`: typed words become real envelopes through the Lambda handler, on
Alexa's clock as the console keeps it (cutting in, timing out, days passing)."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from skill.alexa.app import build_skill
from skill.content.routine import load_routine
from skill.content.texts import load_texts
from skill.conversation.speech import Say
from skill.conversation.timeline import Chime, Timeline, offsets, to_console, total_seconds
from skill.storage.store import MemoryStore
from skill.tools.cli import Console, readable
from skill.tools.nlu import Resolver, model_path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "full-routine.txt"


def run_chat(tmp_path: Path, script: Path) -> str:
    env = {**os.environ, "FOOT_ROUTINE_DB": str(tmp_path / "progress.sqlite3")}
    env.pop("PROGRESS_TABLE", None)
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--script", str(script)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    assert not result.stderr.strip(), result.stderr
    return result.stdout


def replies(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Alexa: ")]


def test_script_of_every_utterance_gets_a_sensible_answer(tmp_path):
    output = run_chat(tmp_path, SCRIPT)
    said = [line for line in SCRIPT.read_text().splitlines() if line and not line.startswith("#")]
    assert output.count("You: ") == len(said)
    answers = replies(output)
    assert len(answers) == len(said)
    assert all(len(answer) > len("Alexa: ") + 10 for answer in answers)
    assert "Traceback" not in output and "went wrong" not in output
    first_exercise = next(i for i, a in enumerate(answers) if "Exercise 1 of 5" in a)
    assert "not a substitute" in answers[first_exercise]


def test_unrecognised_words_are_sent_as_fallback(tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("open foot routine\nbanana split\nstop\n")
    output = run_chat(tmp_path, script)
    assert "didn't catch that as any intent" in output
    assert "Sorry, I didn't catch that" in output


def test_progress_is_kept_between_console_runs(tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("open foot routine\nyes\ngo to toe walking\nstop\n")
    run_chat(tmp_path, script)
    script.write_text("open foot routine\n")
    assert "exercise 2, toe walking" in run_chat(tmp_path, script)


def test_console_in_process_closes_the_session_on_quit():
    from skill.tools import cli

    out = io.StringIO()
    cli.chat(["open foot routine", "yes", "quit", "next"], out, echo=True,
             skill=build_skill(MemoryStore()))
    text = out.getvalue()
    assert "You: next" not in text and "Exercise 1 of 5" in text


def test_readable_merges_neighbouring_breaks():
    ssml = '<speak>Walk. <break time="10000ms"/> <break time="5000ms"/> Rest &amp; relax.</speak>'
    assert readable(ssml) == "Walk. [15s] Rest & relax."


# -- the console as a device: its timeline, its clock, cutting in and timing out ----------

ROUTINE = load_routine()
PRESSES, WALKING = ROUTINE.exercises[0], ROUTINE.exercises[1]
TEXTS = load_texts("en-US")


class Device:
    """An in-process console on its own store, keeping what each line played."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.played: list[Timeline] = []
        self.console = Console(Resolver.from_model_file(model_path("en-US")), self.out,
                               on_speech=self.played.append, skill=build_skill(MemoryStore()))

    def say(self, *lines: str) -> str:
        """What the console printed for these lines."""
        start = len(self.out.getvalue())
        for line in lines:
            self.console.say(line)
        return self.out.getvalue()[start:]


def round_starts(rounds: Timeline) -> list[float]:
    """The second each round of a timed set starts at, found from its sounds, not the
    skill's marks: the first round with the rounds' first words, each next one as the
    chime that ends a rest has played."""
    first = next(start for start, cue in offsets(rounds) if isinstance(cue, Say))
    return [first, *(start + cue.seconds for start, cue in offsets(rounds)
                     if isinstance(cue, Chime))]


def test_console_shows_the_timeline_of_a_set():
    device = Device()
    shown = device.say("open foot routine", "yes", "ready")
    rounds = device.played[-1]
    presses = PRESSES.sets[0]
    line = f"Alexa: {to_console(rounds)}"
    assert line in shown.splitlines()
    assert line.count(f"[tick x{presses.rest:g}] [chime]") == presses.reps - 1
    assert "[0.6s] two." in line  # the counts, with the silence between them
    assert f"(plays {total_seconds(rounds):.0f} s; to cut in, type !pause after <N>s)" in shown


def test_pause_said_part_way_through_a_set_resumes_at_that_round():
    device = Device()
    device.say("open foot routine", "yes", "ready")
    third = round_starts(device.played[-1])[2]
    shown = device.say(f"!pause after {math.ceil(third) + 1}s")
    reps = PRESSES.sets[0].reps
    assert f"saved your place at {PRESSES.name}, round 3 of {reps}" in shown
    assert device.console.device.session_id is None
    assert f"{PRESSES.name}, round 3 of {reps}" in device.say("open foot routine")
    device.say("yes", "ready")
    resumed = device.played[-1]
    assert f"that's two of {TEXTS.number(reps)} done so far" in to_console(resumed).lower()
    assert len(round_starts(resumed)) == reps - 2  # rounds 3 to the last, nothing before


def test_cutting_in_during_the_first_words_is_the_first_round():
    device = Device()
    device.say("open foot routine", "yes", "ready")
    assert f"{PRESSES.name}, round 1 of" in device.say("!stop after 1s")


def test_silence_ends_the_session_and_the_next_launch_offers_the_place():
    device = Device()
    device.say("open foot routine", "yes", f"go to {WALKING.name}", "ready")
    walks = WALKING.sets[0]
    assert walks.release
    walked = sum(1 for cue in device.played[-1]  # each walk ends "Heels down, and rest."
                 if isinstance(cue, Say) and cue.text.startswith(walks.release))
    assert 0 < walked < walks.reps  # the set is played in two responses
    shown = device.say("!silence").splitlines()
    reprompt = device.played[-1]
    assert shown[0] == f"Alexa: {to_console(reprompt)}" and "say" in shown[0].lower()
    assert "the microphone closed" in shown[1]
    assert device.console.device.session_id is None
    assert (f"{WALKING.name}, round {walked + 1} of {walks.reps}"
            in device.say("open foot routine"))


def test_wait_moves_alexas_clock_and_times_out_an_open_session():
    device = Device()
    device.say("open foot routine")
    before = device.console.now
    shown = device.say("!wait 2d")
    assert "the microphone closed" in shown and "later: it is now" in shown
    stamped = device.console.device.clock  # what every request's timestamp is read from
    assert stamped is not None and stamped() - before >= timedelta(days=2)
    later = stamped()
    device.say("!wait 3h")
    assert stamped() - later == timedelta(hours=3)


@pytest.mark.parametrize(("line", "says"), [
    ("!pause after 5s", "nothing is playing in an open session"),
    ("!silence", "no open session"),
    ("!wait", "!wait 2d"),
    ("!dance", "not a console command"),
])
def test_a_command_that_cannot_act_says_why_and_sends_nothing(line, says):
    device = Device()
    shown = device.say(line)
    assert says in shown and "Alexa:" not in shown
    assert not device.played


def test_cutting_in_after_the_microphone_closed_is_refused():
    device = Device()
    device.say("open foot routine", "yes", "ready")
    seconds = math.ceil(total_seconds(device.played[-1])) + 60
    shown = device.say(f"!pause after {seconds}s")
    assert "the microphone had closed" in shown and "Alexa:" not in shown
    assert device.console.device.session_id is not None


def test_chat_help_lists_the_console_commands():
    result = subprocess.run([sys.executable, "-m", "skill", "chat", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=True)
    for command in ("!<words> after <N>s", "!silence", "!wait <N>d|h|m|s", "[tick x10]"):
        assert command in result.stdout


def test_the_device_example_plays_through(tmp_path):
    """examples/on-a-device.txt, as the README tells a person to try it."""
    output = run_chat(tmp_path, REPO / "examples" / "on-a-device.txt")
    assert "Traceback" not in output and "not a console command" not in output
    assert "[tick x" in output and "microphone closed" in output
    assert output.count("saved your place") >= 1
