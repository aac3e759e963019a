"""Hearing the skill at a desk: what a device would play, rendered locally.

A response is a timeline (skill/conversation/timeline.py): words, silences, a quiet tick under holds and
rests, and a chime when one ends. Here each run of words is spoken by espeak-ng to a WAV
file, and the silences and the stand-ins for Amazon's sound-library clips are made with
the `wave` module's format in a few lines of arithmetic, then all are joined in order:
- a silence lasts as long as the timeline says: espeak-ng merges consecutive `<break>`s,
  so a 15 s rest sent to it as SSML (two breaks, Alexa's 10 s limit) played as 10 s;
- the tick and the chime need no sox or sound files, so nothing new to install.

The same audio is written by `say --wav` and played by `chat --voice`, so what is tested
in a file is what is heard.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

from skill.conversation.speech import Pause, Say
from skill.conversation.timeline import CHIME_SECONDS, TICK_VOLUME, Chime, Tick, Timeline
from skill.tools import sound_output
from skill.tools.sound_output import NoSoundOutput

INSTALL_HINT = (
    "espeak-ng is not installed. On Debian or Ubuntu: sudo apt-get install espeak-ng "
    "(macOS: brew install espeak-ng)."
)
NO_SOUND_HINT = (
    "no sound output here: no audio device could be opened ({reason}), so the replies would "
    "be silent. Write one to a file instead: foot-routine say 'open foot routine' --wav out.wav"
)
# espeak-ng's own voices speak 16-bit mono at this rate; the sounds are made to match.
RATE = 22050
SAMPLE_BYTES = 2
# Loud enough beside espeak-ng's voice; the tick is quieter by APLA's own TICK_VOLUME.
LEVEL = 0.5 * 32767
TICK_EVERY_SECONDS = 1.0
TICK_CLICK_SECONDS = 0.02
TICK_PITCH_HZ = 2000.0
# A bell-like chime: a fundamental and two softer overtones, fading out.
CHIME_PARTIALS = ((1046.5, 1.0), (2093.0, 0.4), (3136.0, 0.2))
CHIME_FADE_PER_SECOND = 6.0
_TIMEOUT_S = 60  # one run of words; a whole reply is many runs
_VOICES = {"en-US": "en-us", "en-GB": "en-gb", "en-IN": "en", "en-AU": "en", "en-CA": "en-us"}


class VoiceUnavailable(RuntimeError):
    """espeak-ng is missing, failed, or has no sound output; the message says what to do."""


def require() -> str:
    """The espeak-ng executable, checked before a turn is taken rather than after."""
    executable = shutil.which("espeak-ng")
    if executable is None:
        raise VoiceUnavailable(INSTALL_HINT)
    return executable


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# -- the parts of a response -------------------------------------------------------------

@lru_cache(maxsize=256)  # a set repeats its counts ("two.", "three.") round after round
def _spoken(text: str, locale: str) -> bytes:
    """Words as espeak-ng says them: 16-bit mono frames at RATE. The text goes in on stdin,
    not as an argument, so words starting with "-" are never read as an option."""
    with tempfile.TemporaryDirectory(prefix="foot-routine-voice-") as scratch:
        made = Path(scratch) / "words.wav"
        command = [require(), "--stdin", "-v", _VOICES.get(locale, "en"), "-w", str(made)]
        try:
            result = subprocess.run(command, input=text, check=False, capture_output=True,
                                    text=True, timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise VoiceUnavailable(f"espeak-ng did not finish within {_TIMEOUT_S} s") from error
        except OSError as error:
            raise VoiceUnavailable(f"espeak-ng could not run: {error.strerror}") from error
        # espeak-ng exits 0 even when it wrote nothing, so the file is checked as well.
        if result.returncode != 0 or not made.is_file() or made.stat().st_size == 0:
            raise VoiceUnavailable(f"espeak-ng wrote no audio (exit {result.returncode}): "
                                   f"{_last_line(result.stderr)}")
        with wave.open(str(made)) as audio:
            shape = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
            if shape != (1, SAMPLE_BYTES, RATE):
                raise VoiceUnavailable(f"espeak-ng wrote {shape[2]} Hz audio in {shape[0]} "
                                       f"channel(s); expected mono at {RATE} Hz")
            return audio.readframes(audio.getnframes())


def _frames(samples: array) -> bytes:
    """WAV data is little-endian whatever the machine is."""
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _silence(seconds: float) -> bytes:
    return bytes(round(seconds * RATE) * SAMPLE_BYTES)


@cache
def _tick_period() -> bytes:
    """One second of the tick loop: a short, quiet click, then silence."""
    click = round(TICK_CLICK_SECONDS * RATE)
    peak = LEVEL * TICK_VOLUME
    samples = array("h", (round(peak * math.exp(-6 * n / click)
                                * math.sin(2 * math.pi * TICK_PITCH_HZ * n / RATE))
                          for n in range(click)))
    return _frames(samples) + _silence(TICK_EVERY_SECONDS - click / RATE)


def _ticks(seconds: float) -> bytes:
    """The tick loop repeated and trimmed to the hold it sits under, as APLA's Mixer does."""
    period = _tick_period()
    length = round(seconds * RATE) * SAMPLE_BYTES
    return (period * math.ceil(length / len(period)))[:length]


@cache
def _chime() -> bytes:
    samples = array("h", (
        round(LEVEL * math.exp(-CHIME_FADE_PER_SECOND * n / RATE)
              * sum(weight * math.sin(2 * math.pi * pitch * n / RATE)
                    for pitch, weight in CHIME_PARTIALS) / sum(w for _, w in CHIME_PARTIALS))
        for n in range(round(CHIME_SECONDS * RATE))))
    return _frames(samples)


def _parts(timeline: Timeline, locale: str) -> Iterator[bytes]:
    words: list[str] = []
    for cue in timeline:
        if isinstance(cue, Say):
            words.append(cue.text)
            continue
        # A recognised voice's name is left out (only Alexa knows it); marks make no sound.
        if not isinstance(cue, Pause | Tick | Chime):
            continue
        if words:
            yield _spoken(" ".join(words), locale)
            words = []
        if isinstance(cue, Pause):
            yield _silence(cue.seconds)
        elif isinstance(cue, Tick):
            yield _ticks(cue.seconds)
        else:
            yield _chime()
    if words:
        yield _spoken(" ".join(words), locale)


def render(timeline: Timeline, locale: str = "en-US") -> bytes:
    """A response as 16-bit mono frames at RATE: words, silences and sounds in order, each
    silence and sound exactly as long as the timeline says."""
    return b"".join(_parts(timeline, locale))


# -- out loud, or to a file ----------------------------------------------------------------

def check_sound_output() -> None:
    """Before a spoken chat: say so now if nothing would be heard, instead of a silent chat."""
    try:
        sound_output.play(b"", RATE)
    except NoSoundOutput as error:
        raise VoiceUnavailable(NO_SOUND_HINT.format(reason=error)) from error


def speak(timeline: Timeline, locale: str = "en-US") -> None:
    """Play it out loud; returns when it has played."""
    try:
        sound_output.play(render(timeline, locale), RATE)
    except NoSoundOutput as error:
        raise VoiceUnavailable(NO_SOUND_HINT.format(reason=error)) from error


def write_wav(timeline: Timeline, path: Path, locale: str = "en-US") -> None:
    """The response as a WAV file at `path`; a path that cannot be written is reported."""
    frames = render(timeline, locale)
    try:  # opened here: a failed wave.open(path) leaves an object that errors when collected
        with open(path, "wb") as file, wave.open(file, "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(SAMPLE_BYTES)
            audio.setframerate(RATE)
            audio.writeframes(frames)
    except OSError as error:
        raise VoiceUnavailable(f"cannot write {path}: {error.strerror}") from error
