"""Misusing `foot-routine` gets one clear line on stderr and a non-zero exit, never a traceback.

Each case runs the real command in a child process, because what matters is what a person
sees in the terminal: Python's own traceback printing happens outside `main`.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "FOOT_ROUTINE_DB": str(tmp_path / "progress.sqlite3"), **extra}
    env.pop("PROGRESS_TABLE", None)
    return env


def foot_routine(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skill", *args], cwd=REPO, env=child_env(tmp_path, **env),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *mentions: str) -> str:
    """Non-zero, nothing but one line on stderr, naming what the user got wrong."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for mention in mentions:
        assert mention in lines[0], lines[0]
    return lines[0]


def test_a_missing_script_is_named_not_traced(tmp_path):
    result = foot_routine(tmp_path, "chat", "--script", "missing.txt")
    assert_one_line_error(result, "missing.txt", "No such file")


def test_a_folder_given_as_script(tmp_path):
    assert_one_line_error(foot_routine(tmp_path, "chat", "--script", str(tmp_path)),
                          str(tmp_path), "Is a directory")


def test_a_script_that_is_not_text(tmp_path):
    script = tmp_path / "utterances.txt"
    script.write_bytes(b"open foot routine\n\xff\xfe\x00yes\n")
    result = foot_routine(tmp_path, "chat", "--script", str(script))
    assert_one_line_error(result, "not UTF-8")
    assert "Alexa:" not in result.stdout  # read whole before the first turn


@pytest.mark.parametrize("command", ["chat", "say"])
def test_an_unknown_locale_lists_the_known_ones(tmp_path, command):
    wav = ["hello", "--wav", str(tmp_path / "out.wav")] if command == "say" else []
    result = foot_routine(tmp_path, command, *wav, "--locale", "xx-XX")
    assert_one_line_error(result, "xx-XX", "en-GB", "en-US")


@pytest.mark.parametrize(
    ("args", "mention"),
    [
        (["chat", "--bogus"], "--bogus"),
        (["say"], "utterance"),
        ([], "command"),
        (["serve", "--port", "99999"], "99999"),
        (["serve", "--port", "http"], "'http'"),
    ],
)
def test_bad_arguments_get_one_line_and_a_pointer_to_help(tmp_path, args, mention):
    result = foot_routine(tmp_path, *args)
    assert_one_line_error(result, mention, "--help")
    assert result.returncode == 2  # argparse's status for usage errors


def test_without_espeak_ng_say_explains_the_install_before_taking_a_turn(tmp_path):
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    result = foot_routine(tmp_path, "say", "start my foot routine", "--wav",
                          str(tmp_path / "out.wav"), PATH=str(empty_path))
    assert_one_line_error(result, "apt-get install espeak-ng")
    assert "Alexa:" not in result.stdout


def test_without_espeak_ng_voice_explains_the_install(tmp_path):
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    result = foot_routine(tmp_path, "chat", "--voice", PATH=str(empty_path))
    assert_one_line_error(result, "apt-get install espeak-ng")


def test_ctrl_c_leaves_the_console_without_a_traceback(tmp_path):
    env = child_env(tmp_path)
    env.pop("PYTHONUNBUFFERED", None)  # the banner must reach a pipe without it
    process = subprocess.Popen(
        [sys.executable, "-m", "skill", "chat"], cwd=REPO, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no banner: the console is not waiting for input"
        assert "Foot Routine console" in process.stdout.readline()  # now waiting for input
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in stderr, stderr
