"""Playing audio through pcaudiolib, the library espeak-ng itself plays through.

Python has no portable way to play sound, and each player program (aplay, paplay, afplay,
sox's play) would be one more thing to install. pcaudiolib comes with espeak-ng: it is how
espeak-ng reaches PulseAudio, ALSA or Core Audio. So wherever `chat --voice` could speak,
it plays the ticks and chimes too, with nothing new to install, and it fails the same way
espeak-ng does when there is no sound device.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

# enum audio_object_format in pcaudiolib/audio.h: S8, U8, S16LE, ...
_FORMAT_S16LE = 2
# Written a little at a time, so Ctrl-C stops the sound within a moment.
_CHUNK_SECONDS = 0.25
# Where the dynamic loader finds it when ctypes.util cannot look (no ldconfig on PATH), and
# Homebrew's folder on Apple silicon, which is not on macOS's default library path.
_LIBRARY_NAMES = ("libpcaudio.so.0", "libpcaudio.0.dylib", "/opt/homebrew/lib/libpcaudio.0.dylib")


class NoSoundOutput(RuntimeError):
    """Nothing would be heard; the message is the reason, as the audio layer gives it."""


def _declare(library: ctypes.CDLL) -> ctypes.CDLL:
    """The C signatures, so ctypes passes pointers and sizes at their real width."""
    pointer, text = ctypes.c_void_p, ctypes.c_char_p
    signatures = {
        "create_audio_device_object": ([text, text, text], pointer),
        "audio_object_open": ([pointer, ctypes.c_int, ctypes.c_uint32, ctypes.c_uint8],
                              ctypes.c_int),
        "audio_object_write": ([pointer, text, ctypes.c_size_t], ctypes.c_int),
        "audio_object_drain": ([pointer], ctypes.c_int),
        "audio_object_flush": ([pointer], ctypes.c_int),
        "audio_object_close": ([pointer], None),
        "audio_object_destroy": ([pointer], None),
        "audio_object_strerror": ([pointer, ctypes.c_int], text),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(library, name)
        function.argtypes, function.restype = arguments, result
    return library


@cache
def _library() -> ctypes.CDLL:
    for name in (ctypes.util.find_library("pcaudio"), *_LIBRARY_NAMES):
        if name is None:
            continue
        try:
            return _declare(ctypes.CDLL(name))
        except OSError:
            continue
    raise NoSoundOutput("pcaudiolib, the audio library espeak-ng plays through, is not "
                        "installed")


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """ALSA and PulseAudio print their own diagnostics straight to file descriptor 2; the
    reason is reported once, in our own one-line message."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _reason(library: ctypes.CDLL, device: int, error: int) -> str:
    message = library.audio_object_strerror(device, error)
    return message.decode(errors="replace") if message else f"error {error}"


def play(frames: bytes, rate: int) -> None:
    """Play 16-bit little-endian mono frames; returns once they have been heard. Empty
    frames only open the device: the check that anything would be heard at all."""
    library = _library()
    with _quiet_stderr():
        device = library.create_audio_device_object(None, b"foot-routine", b"Foot Routine")
        error = library.audio_object_open(device, _FORMAT_S16LE, rate, 1) if device else 0
    if not device:
        raise NoSoundOutput("no audio device was found")
    try:
        if error:
            raise NoSoundOutput(_reason(library, device, error))
        chunk = round(_CHUNK_SECONDS * rate) * 2
        for start in range(0, len(frames), chunk):
            part = frames[start:start + chunk]
            error = library.audio_object_write(device, part, len(part))
            if error:
                raise NoSoundOutput(_reason(library, device, error))
        library.audio_object_drain(device)
    except KeyboardInterrupt:
        library.audio_object_flush(device)  # stop now, not after what is buffered
        raise
    finally:
        library.audio_object_close(device)
        library.audio_object_destroy(device)
