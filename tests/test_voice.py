"""Hearing it locally: espeak-ng speaks the skill's SSML with its pauses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from skill import voice
from skill.cli import main
from tests.child_process import skip_or_fail

REPO = Path(__file__).resolve().parents[1]

if shutil.which("espeak-ng") is None:
    skip_or_fail(voice.INSTALL_HINT)


def seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return audio.getnframes() / audio.getframerate()


def breaks(ssml: str) -> float:
    return sum(int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', ssml)) / 1000


def test_a_paced_turn_lasts_at_least_its_pauses(talk, tmp_path):
    alexa = talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    alexa.go_to("toe walking", "toe_walking")
    turn = alexa.say("NextExerciseIntent")
    assert breaks(turn.ssml) >= 50
    wav = tmp_path / "walk.wav"
    voice.write_wav(turn.ssml, wav)
    assert seconds(wav) >= breaks(turn.ssml)


def test_say_command_writes_a_wav(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FOOT_ROUTINE_DB", str(tmp_path / "progress.sqlite3"))
    monkeypatch.delenv("PROGRESS_TABLE", raising=False)
    wav = tmp_path / "out.wav"
    result = subprocess.run(
        [str(Path(os.sys.executable)), "-m", "skill", "say", "start my foot routine",
         "--wav", str(wav)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )
    assert "not a substitute" in result.stdout
    assert wav.exists() and seconds(wav) > 10


def test_voice_explains_how_to_install_when_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="apt-get install espeak-ng"):
        main(["chat", "--voice"])
