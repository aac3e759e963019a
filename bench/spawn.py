"""Starting the benchmark's child processes (`python -m bench.child ...`) from the repo root."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.cpu_share import Limiter

REPO_ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 120


def spawn(arguments: list[str], env: dict[str, str],
          limiter: Limiter | None = None) -> dict[str, Any]:
    """Run `python ARGUMENTS` in a fresh interpreter and return its first stdout line as JSON.

    `total_s` is the wall time from spawning to that line (start-up included, exit not);
    `stderr` is what the child wrote there, kept in a file because `-X importtime` output
    would fill a pipe and stall the child. A `limiter` holds the child to a CPU share
    until that line (bench.cpu_share).
    """
    command = [sys.executable, *arguments]
    extra = limiter.popen_kwargs() if limiter else {}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
            **extra,
        )
        assert process.stdout is not None
        with limiter.applied(process) if limiter else contextlib.nullcontext():
            line = process.stdout.readline()
        total = time.perf_counter() - started
        process.communicate(timeout=CHILD_TIMEOUT_S)
        stderr.seek(0)
        errors = stderr.read()
    if process.returncode != 0 or not line:
        raise RuntimeError(f"{arguments} failed ({process.returncode}):\n{errors[-3000:]}")
    report: dict[str, Any] = json.loads(line)
    report["total_s"] = total
    report["stderr"] = errors
    return report


def with_bytecode_cache(env: dict[str, str], workdir: Path) -> dict[str, str]:
    """The same environment, with compiled bytecode cached in one place for every child.

    Why: whether a module is compiled on import depends on stray __pycache__ folders and on
    PYTHONDONTWRITEBYTECODE (set on some machines); the first, untimed child fills this
    cache and every timed child then reads it, ours and the baselines alike, as a
    deployment that ships compiled files would.
    """
    cached = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return cached


def child(*arguments: str) -> list[str]:
    """The arguments that run one `bench.child` command."""
    return ["-m", "bench.child", *arguments]
