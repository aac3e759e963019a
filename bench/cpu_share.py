"""Running a benchmark child with the CPU share Lambda gives a function of a given memory.

Why: Lambda allocates CPU in proportion to memory, one full vCPU at 1,769 MB (AWS Lambda
docs, "Configure Lambda function memory"), in the init phase and the invoke phase alike. A
cold start measured on a free core here is therefore ~3.5x faster than the same cold start
at 512 MB on Lambda; only the CPU-bound part stretches, so the ratio to a baseline can
change too, and that is what the throttled rows show.

How, the first that works on this machine:
* a cgroup CPU quota, the kernel's CFS bandwidth control: a new cgroup gets
  quota = share x period (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` and
  `cpu.cfs_period_us` where the cpu controller is still on v1), and the child joins it
  between fork and exec, so the interpreter's start-up is throttled too;
* else a duty cycle from the parent: the child runs for share x 10 ms of every 10 ms and is
  held with SIGSTOP for the rest (coarser, and at the mercy of the parent's scheduling on
  a busy machine, but available wherever signals are).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

FULL_VCPU_MB = 1769
PERIOD_US = 10_000
CGROUP_ROOT = Path("/sys/fs/cgroup")
MAX_CHILD_SECONDS = 300  # bounds the duty-cycle loop whatever the child does


def share_for(memory_mb: int) -> float:
    """The fraction of one vCPU Lambda gives a function with this much memory."""
    return min(1.0, memory_mb / FULL_VCPU_MB)


def configured_memory_mb() -> int:
    """The skill function's MemorySize in template.yaml (its own, else the Globals')."""
    from tests.template_loader import load_template, resource

    template = load_template()
    own = resource(template, "SkillFunction")["Properties"].get("MemorySize")
    return int(own or template["Globals"]["Function"]["MemorySize"])


class Limiter(Protocol):
    """Something that holds one child process to a CPU share while it is measured."""

    method: str

    def popen_kwargs(self) -> dict[str, Any]:
        """Extra subprocess.Popen arguments (how the child joins the limit, if at start)."""

    def applied(self, process: subprocess.Popen[str]) -> AbstractContextManager[None]:
        """Held while the parent waits for the child's answer."""


class CgroupQuota:
    """A cgroup whose CPU quota is the share; each child joins it before exec."""

    def __init__(self, directory: Path, method: str) -> None:
        self.directory = directory
        self.method = method

    def popen_kwargs(self) -> dict[str, Any]:
        procs = str(self.directory / "cgroup.procs")

        def join() -> None:  # runs in the child between fork and exec
            with open(procs, "w", encoding="ascii") as stream:
                stream.write(str(os.getpid()))

        return {"preexec_fn": join}

    def applied(self, process: subprocess.Popen[str]) -> AbstractContextManager[None]:
        return contextlib.nullcontext()


class DutyCycle:
    """SIGCONT for share x period, SIGSTOP for the rest, until the child has answered."""

    method = "SIGSTOP/SIGCONT duty cycle, 10 ms period"

    def __init__(self, share: float) -> None:
        self.share = share

    def popen_kwargs(self) -> dict[str, Any]:
        return {}

    @contextlib.contextmanager
    def applied(self, process: subprocess.Popen[str]) -> Iterator[None]:
        done = threading.Event()
        period = PERIOD_US / 1e6
        running, held = period * self.share, period * (1 - self.share)

        def cycle() -> None:
            for _ in range(int(MAX_CHILD_SECONDS / period)):
                if done.is_set() or process.poll() is not None:
                    return
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGCONT)
                    time.sleep(running)
                    os.kill(process.pid, signal.SIGSTOP)
                    time.sleep(held)

        thread = threading.Thread(target=cycle, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)  # let it finish and exit at full speed


def _cgroup_quota(share: float) -> tuple[CgroupQuota, Path] | None:
    """A new cgroup with the quota written, or None where cgroups are not writable here."""
    quota = max(1000, int(PERIOD_US * share))
    v2_controllers = CGROUP_ROOT / "cgroup.controllers"
    name = f"foot-routine-bench-{uuid.uuid4().hex[:8]}"
    if v2_controllers.exists() and "cpu" in v2_controllers.read_text().split():
        layout = (CGROUP_ROOT / name, "cgroup v2 cpu.max quota",
                  {"cpu.max": f"{quota} {PERIOD_US}"})
    else:
        layout = (CGROUP_ROOT / "cpu" / name, "cgroup v1 cpu.cfs_quota_us quota",
                  {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)})
    directory, method, files = layout
    try:
        directory.mkdir()
    except OSError:
        return None
    try:
        for file_name, value in files.items():
            (directory / file_name).write_text(value, encoding="ascii")
    except OSError:
        directory.rmdir()
        return None
    return CgroupQuota(directory, f"{method}, {PERIOD_US // 1000} ms period"), directory


@contextlib.contextmanager
def cpu_limiter(share: float, prefer_cgroup: bool = True) -> Iterator[Limiter]:
    """The best limiter available here, cleaned up afterwards (the cgroup is removed)."""
    made = _cgroup_quota(share) if prefer_cgroup else None
    if made is None:
        yield DutyCycle(share)
        return
    limiter, directory = made
    try:
        yield limiter
    finally:
        with contextlib.suppress(OSError):  # a child still in it would keep it busy
            directory.rmdir()
