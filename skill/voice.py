"""Hearing the skill at a desk: the SSML it returns, spoken or written by espeak-ng.

espeak-ng understands SSML (`-m`), including `<break>`, so the pauses of a hold or a rest
are real silences and a person can follow the routine hands-free without a device.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

INSTALL_HINT = (
    "espeak-ng is not installed. On Debian or Ubuntu: sudo apt-get install espeak-ng "
    "(macOS: brew install espeak-ng)."
)
_VOICES = {"en-US": "en-us", "en-GB": "en-gb", "en-IN": "en", "en-AU": "en", "en-CA": "en-us"}


class VoiceUnavailable(RuntimeError):
    """espeak-ng is missing or failed; the message says how to get it."""


def _command(ssml: str, locale: str, wav: Path | None) -> list[str]:
    executable = shutil.which("espeak-ng")
    if executable is None:
        raise VoiceUnavailable(INSTALL_HINT)
    command = [executable, "-m", "-v", _VOICES.get(locale, "en")]
    if wav is not None:
        command += ["-w", str(wav)]
    return [*command, ssml]


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        raise VoiceUnavailable(f"espeak-ng failed: {error}") from error


def speak(ssml: str, locale: str = "en-US") -> None:
    """Say it out loud, pauses included; returns when the speech has finished."""
    _run(_command(ssml, locale, None))


def write_wav(ssml: str, path: Path, locale: str = "en-US") -> None:
    _run(_command(ssml, locale, path))
