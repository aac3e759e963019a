"""Hearing it locally: espeak-ng speaks the skill's SSML with its pauses."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from skill import voice
from tests.child_process import skip_or_fail
from tests.test_cli_misuse import child_env

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


def test_say_command_writes_a_wav(tmp_path):
    wav = tmp_path / "out.wav"
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "start my foot routine", "--wav", str(wav)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert "not a substitute" in result.stdout
    assert wav.exists() and seconds(wav) > 10


@pytest.mark.parametrize("where", ["no-such-folder/out.wav", "."])
def test_say_to_a_path_that_cannot_be_written_fails_before_the_turn(tmp_path, where):
    """espeak-ng exits 0 when it cannot write the file; `say` used to report "wrote"."""
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "start my foot routine", "--wav",
         str(tmp_path / where)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode != 0 and "wrote" not in result.stdout
    assert len(result.stderr.splitlines()) == 1 and "--wav" in result.stderr, result.stderr
    assert "Alexa:" not in result.stdout  # no turn taken, so no progress recorded


def test_write_wav_reports_a_path_it_cannot_write(tmp_path):
    with pytest.raises(voice.VoiceUnavailable, match="cannot write .*No such file"):
        voice.write_wav("<speak>Hello.</speak>", tmp_path / "missing" / "out.wav")


def test_voice_without_a_sound_device_says_so_before_the_first_turn(tmp_path):
    """espeak-ng exits 0 and plays nothing when it finds no audio device. Here it finds none:
    the PulseAudio server named does not exist and ALSA's configuration defines no device."""
    alsa_config = tmp_path / "alsa.conf"
    alsa_config.write_text("")
    env = child_env(tmp_path, PULSE_SERVER=f"unix:{tmp_path / 'no-pulse'}",
                    ALSA_CONFIG_PATH=str(alsa_config))
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--voice"], input="open foot routine\n",
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "no sound output" in result.stderr and "say" in result.stderr
    assert "--wav" in result.stderr
    assert "Alexa:" not in result.stdout
