"""`foot-routine chat`: typed words become real envelopes through the Lambda handler."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from skill.app import build_skill
from skill.cli import readable
from skill.store import MemoryStore

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
    from skill import cli

    out = io.StringIO()
    cli.chat(["open foot routine", "yes", "quit", "next"], out, echo=True,
             skill=build_skill(MemoryStore()))
    text = out.getvalue()
    assert "You: next" not in text and "Exercise 1 of 5" in text


def test_readable_merges_neighbouring_breaks():
    ssml = '<speak>Walk. <break time="10000ms"/> <break time="5000ms"/> Rest &amp; relax.</speak>'
    assert readable(ssml) == "Walk. [15s] Rest & relax."
