"""Hearing the skill at a desk: the SSML it returns, spoken or written by espeak-ng.

espeak-ng understands SSML (`-m`), including `<break>`, so the pauses of a hold or a rest
are real silences and a person can follow the routine hands-free without a device.

espeak-ng exits 0 when it had nowhere to play the sound and when it could not write the WAV
file, so neither its exit status nor silence can be trusted: speaking reads its audio error
from stderr, and a WAV file is made in a private directory and then copied where asked.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = (
    "espeak-ng is not installed. On Debian or Ubuntu: sudo apt-get install espeak-ng "
    "(macOS: brew install espeak-ng)."
)
NO_SOUND_HINT = (
    "no sound output here: espeak-ng could not open an audio device ({reason}), so the replies "
    "would be silent. Write one to a file instead: "
    "foot-routine say 'open foot routine' --wav out.wav"
)
# A few milliseconds of silence: opens the audio device exactly as a reply would, unheard.
_PROBE = '<speak><break time="1ms"/></speak>'
_TIMEOUT_S = 600  # the longest reply (a paced exercise) lasts about two minutes
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


def _run(ssml: str, locale: str, *options: str) -> str:
    """Run espeak-ng on the SSML; its stderr, where it reports what its exit status does not."""
    command = [require(), "-m", "-v", _VOICES.get(locale, "en"), *options, ssml]
    try:
        result = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as error:
        raise VoiceUnavailable(f"espeak-ng did not finish within {_TIMEOUT_S} s") from error
    except OSError as error:
        raise VoiceUnavailable(f"espeak-ng could not run: {error.strerror}") from error
    if result.returncode != 0:
        raise VoiceUnavailable(
            f"espeak-ng failed (exit {result.returncode}): {_last_line(result.stderr)}"
        )
    return result.stderr


def speak(ssml: str, locale: str = "en-US") -> None:
    """Say it out loud, pauses included; returns when the speech has finished.

    Its audio layer (pcaudiolib) reports a missing device as a line "error: <reason>".
    """
    for line in _run(ssml, locale).splitlines():
        if line.startswith("error:"):
            reason = line.removeprefix("error:").strip()
            raise VoiceUnavailable(NO_SOUND_HINT.format(reason=reason))


def check_sound_output(locale: str = "en-US") -> None:
    """Before a spoken chat: say so now if nothing would be heard, instead of a silent chat."""
    speak(_PROBE, locale)


def write_wav(ssml: str, path: Path, locale: str = "en-US") -> None:
    """The speech as a WAV file at `path`; a path that cannot be written is reported as such."""
    with tempfile.TemporaryDirectory(prefix="foot-routine-voice-") as scratch:
        made = Path(scratch) / "speech.wav"
        stderr = _run(ssml, locale, "-w", str(made))
        if not made.is_file() or made.stat().st_size == 0:
            raise VoiceUnavailable(f"espeak-ng wrote no audio: {_last_line(stderr)}")
        try:
            shutil.copyfile(made, path)
        except OSError as error:
            raise VoiceUnavailable(f"cannot write {path}: {error.strerror}") from error
