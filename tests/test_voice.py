"""Hearing it locally: a reply rendered as a device plays it, words by espeak-ng, silences
and sounds at their real length (skill/tools/voice.py)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import wave
from array import array
from pathlib import Path

import pytest

from skill.conversation.speech import Pause, Say
from skill.conversation.timeline import CHIME_SECONDS, Chime, Tick, Timeline
from skill.tools import voice
from skill.tools.cli import played
from tests.child_process import skip_or_fail
from tests.test_cli_misuse import child_env

REPO = Path(__file__).resolve().parents[1]
# Below this a sample is silence (espeak-ng's own pauses are exactly zero).
QUIET = 64


@pytest.fixture
def espeak() -> None:
    """Words need espeak-ng; the sounds and silences do not."""
    if shutil.which("espeak-ng") is None:
        skip_or_fail(voice.INSTALL_HINT)


def samples(frames: bytes) -> array:
    audio = array("h")
    audio.frombytes(frames)
    if sys.byteorder == "big":
        audio.byteswap()
    return audio


def read_wav(path: Path) -> array:
    with wave.open(str(path)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        assert audio.getframerate() == voice.RATE
        return samples(audio.readframes(audio.getnframes()))


def seconds(audio: array) -> float:
    return len(audio) / voice.RATE


def longest_silence(audio: array) -> float:
    longest = run = 0
    for sample in audio:
        run = run + 1 if abs(sample) < QUIET else 0
        longest = max(longest, run)
    return longest / voice.RATE


def sounding_seconds(audio: array) -> list[int]:
    """The whole seconds in which something is heard."""
    return sorted({index // voice.RATE for index, sample in enumerate(audio)
                   if abs(sample) >= QUIET})


# -- silences and sounds: exact, and need no espeak-ng ------------------------------------

def test_a_long_rest_lasts_its_full_length():
    """espeak-ng merged consecutive <break>s, so a 15 s rest (10 s + 5 s) played as 10 s."""
    audio = samples(voice.render((Pause(10), Pause(5))))
    assert seconds(audio) == 15
    assert longest_silence(audio) == 15


def test_a_hold_ticks_every_second_for_its_whole_length():
    audio = samples(voice.render((Tick(15),)))
    assert seconds(audio) == 15
    assert sounding_seconds(audio) == list(range(15))
    assert longest_silence(audio) < 1


def test_the_chime_is_heard_and_louder_than_the_ticks():
    chime = samples(voice.render((Chime(),)))
    ticks = samples(voice.render((Tick(3),)))
    assert math.isclose(seconds(chime), CHIME_SECONDS, abs_tol=1 / voice.RATE)
    assert max(map(abs, chime)) > 2 * max(map(abs, ticks)) > 0


def test_a_wav_keeps_every_part_in_order(tmp_path):
    wav = tmp_path / "rest.wav"
    voice.write_wav((Tick(2), Chime(), Pause(3)), wav)
    audio = read_wav(wav)
    assert math.isclose(seconds(audio), 5 + CHIME_SECONDS, abs_tol=1 / voice.RATE)
    chime_ends = round((2 + CHIME_SECONDS) * voice.RATE)
    assert all(abs(sample) < QUIET for sample in audio[chime_ends:])
    assert any(abs(sample) >= QUIET for sample in audio[2 * voice.RATE:chime_ends])


def test_write_wav_reports_a_path_it_cannot_write(tmp_path):
    with pytest.raises(voice.VoiceUnavailable, match="cannot write .*No such file"):
        voice.write_wav((Pause(1),), tmp_path / "missing" / "out.wav")


# -- words, through espeak-ng ---------------------------------------------------------------

def test_a_set_with_a_fifteen_second_rest_plays_at_its_real_length(espeak, talk, tmp_path):
    """Toe walking: 20 s walks with 15 s rests, ticking throughout, sent as APLA."""
    alexa = talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    alexa.go_to("toe walking", "toe_walking")
    turn = alexa.say("NextExerciseIntent")
    heard = played(turn.body)
    rests = [cue.seconds for cue in heard if isinstance(cue, Tick)]
    assert 15 in rests, turn.text
    assert all(cue.seconds < 1.5 for cue in heard if isinstance(cue, Pause))
    wav = tmp_path / "walk.wav"
    voice.write_wav(heard, wav)
    audio = read_wav(wav)
    assert seconds(audio) >= sum(rests) + CHIME_SECONDS
    # Ticks under every hold and rest: nowhere a silence as long as the shortest of them.
    assert longest_silence(audio) < 1.5 <= min(rests)


def test_words_starting_with_a_dash_are_spoken_not_read_as_an_option(espeak):
    spoken: Timeline = (Say("-5 degrees"),)
    assert seconds(samples(voice.render(spoken))) > 0.5


def test_say_command_writes_a_wav(espeak, tmp_path):
    wav = tmp_path / "out.wav"
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "start my foot routine", "--wav", str(wav)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert "not a substitute" in result.stdout
    assert seconds(read_wav(wav)) > 10


def test_say_renders_the_nth_turn_of_a_script(espeak, tmp_path):
    """Turn 4 of 5 is toe walking's rounds; the turns around it are a few words each."""
    script = tmp_path / "script.txt"
    script.write_text("# toe walking, then stop\nopen foot routine\nyes\n\n"
                      "go to toe walking\nready\nstop\n")
    wav = tmp_path / "turn.wav"
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "--script", str(script), "--turn", "4",
         "--wav", str(wav)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert f"wrote {wav} (turn 4: ready)" in result.stdout
    assert "You: stop" not in result.stdout  # the dialogue stops at the turn written
    replies = [line for line in result.stdout.splitlines() if line.startswith("Alexa: ")]
    assert len(replies) == 4
    ticks = [float(n) for n in re.findall(r"\[tick x(\d+)\]", replies[3])]
    silences = [float(n) for n in re.findall(r"\[([\d.]+)s\]", replies[3])]
    assert 15 in ticks, replies[3]  # its rests
    assert seconds(read_wav(wav)) >= sum(ticks) + sum(silences)


def test_say_without_a_turn_writes_the_last(espeak, tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("open foot routine\nhow many are left\n")
    wav = tmp_path / "last.wav"
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "--script", str(script), "--wav", str(wav)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert "(turn 2: how many are left)" in result.stdout


def test_say_a_turn_the_script_does_not_have(espeak, tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("open foot routine\n# not a turn\n\nyes\n")
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "--script", str(script), "--turn", "3",
         "--wav", str(tmp_path / "out.wav")],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "Alexa:" not in result.stdout
    assert result.stderr.strip().endswith("--turn 3: the script has 2 turns"), result.stderr


@pytest.mark.parametrize("where", ["no-such-folder/out.wav", "."])
def test_say_to_a_path_that_cannot_be_written_fails_before_the_turn(espeak, tmp_path, where):
    result = subprocess.run(
        [sys.executable, "-m", "skill", "say", "start my foot routine", "--wav",
         str(tmp_path / where)],
        cwd=REPO, env=child_env(tmp_path), capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode != 0 and "wrote" not in result.stdout
    assert len(result.stderr.splitlines()) == 1 and "--wav" in result.stderr, result.stderr
    assert "Alexa:" not in result.stdout  # no turn taken, so no progress recorded


# -- out loud ---------------------------------------------------------------------------------

def _no_pulse_and_alsa(tmp_path: Path, alsa: str) -> dict[str, str]:
    """Sound settings for a child: no PulseAudio server, and ALSA configured by `alsa`."""
    alsa_config = tmp_path / "alsa.conf"
    alsa_config.write_text(alsa)
    return child_env(tmp_path, PULSE_SERVER=f"unix:{tmp_path / 'no-pulse'}",
                     ALSA_CONFIG_PATH=str(alsa_config))


def test_voice_without_a_sound_device_says_so_before_the_first_turn(espeak, tmp_path):
    """With nowhere to play, espeak-ng exits 0 and nothing is heard. Here there is nowhere:
    the PulseAudio server named does not exist and ALSA's configuration has no device."""
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--voice"], input="open foot routine\n",
        cwd=REPO, env=_no_pulse_and_alsa(tmp_path, ""), capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "no sound output" in result.stderr and "say" in result.stderr
    assert "--wav" in result.stderr
    assert "Alexa:" not in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="ALSA's null device is Linux's")
def test_voice_plays_a_set_through_the_sound_device(espeak, tmp_path):
    """ALSA's null device takes the sound as a speaker would, so the whole path runs."""
    script = "open foot routine\nyes\nready\n!pause after 20s\n"
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--voice"], input=script,
        cwd=REPO, env=_no_pulse_and_alsa(tmp_path, "pcm.!default { type null }\n"),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert "[tick x" in result.stdout and "saved your place" in result.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["hello", "--turn", "2", "--wav", "x.wav"], "--turn picks a line of a --script"),
    (["--script", "s.txt", "--turn", "0", "--wav", "x.wav"], "'0' is not a turn number"),
    (["hello", "--script", "s.txt", "--wav", "x.wav"], "an utterance, or --script FILE"),
    (["hello"], "say needs --wav FILE"),
])
def test_say_misuse_gets_one_line_before_any_turn(tmp_path, args, says):
    result = subprocess.run([sys.executable, "-m", "skill", "say", *args], cwd=REPO,
                            env=child_env(tmp_path), capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2 and "Alexa:" not in result.stdout
    assert len(result.stderr.splitlines()) == 1 and says in result.stderr, result.stderr
