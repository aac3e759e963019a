"""Servers the test suite starts as child processes on 127.0.0.1 (dynalite, the endpoint)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


def in_ci() -> bool:
    """Under CI a missing prerequisite is a failure, never a silent skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def skip_or_fail(message: str) -> None:
    """A missing prerequisite: a skip on a developer's machine, a failure under CI, where a
    skipped suite would hide a broken install step."""
    import pytest

    if in_ci():
        pytest.fail(f"{message} [CI=true, so this is an error, not a skip]", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def missing_node_package(installed: Path, what: str, install_command: str) -> str | None:
    """What is missing to run an npm tool here (node, or the package), or None."""
    if shutil.which("node") is None:
        return f"node is not on PATH (install Node.js >= 20, then run `{install_command}`)"
    if not installed.is_file():
        return f"{what} is not installed at {installed} (run `{install_command}`)"
    return None


def free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1 (a tiny race remains; starts retry it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChildProcess:
    """A running child server, its port and its log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_text(self) -> str:
        """What the server wrote so far, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"

    def terminate(self) -> None:
        """Stop by PID, escalating to SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
