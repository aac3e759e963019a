"""virtual-alexa drives `foot-routine serve --dev` through `interaction_model/en-US.json`.

Why: every other test resolves utterances with the skill's own NLU, so a sample that Alexa would
route to a different intent than the skill expects (or an intent the endpoint does not handle)
would pass them all. virtual-alexa (npm, pinned in tests/virtual_alexa/package.json) is an
independent implementation: it matches each utterance against the model's samples, builds the
request envelope itself and POSTs it over real HTTP to the waitress server, as Alexa would.
This proves the deployed model and the endpoint agree on a short routine.

Everything stays on 127.0.0.1: the server binds loopback only (`--dev` refuses anything else),
and tests/virtual_alexa/drive.js makes nock refuse any non-loopback HTTP(S) connection from the
node process. Nothing is installed at test time: `make test` runs
`npm ci --prefix tests/virtual_alexa --ignore-scripts --no-audit --no-fund`. Missing node or
virtual-alexa skips locally but fails under CI=true, like the dynalite tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.child_process import ChildProcess, free_port, in_ci, missing_node_package, skip_or_fail

REPO = Path(__file__).resolve().parents[1]
DRIVER_DIR = REPO / "tests" / "virtual_alexa"
DRIVER = DRIVER_DIR / "drive.js"
VIRTUAL_ALEXA = DRIVER_DIR / "node_modules" / "virtual-alexa" / "package.json"
MODEL = REPO / "interaction_model" / "en-US.json"
INSTALL_COMMAND = "npm ci --prefix tests/virtual_alexa --ignore-scripts --no-audit --no-fund"
START_TIMEOUT_S = 15.0
DRIVE_TIMEOUT_S = 60.0
# A fixed id turns the endpoint's skill-id check on (it is off when ALEXA_SKILL_ID is unset), so
# the test also shows `--dev` keeps that check while dropping signature/timestamp verification.
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000f007"
DIALOGUE = ("open foot routine", "start my foot routine", "next", "repeat that", "stop")
# Settings that would point the server at DynamoDB or change verification; the test must not
# inherit them from a developer's shell.
_SCRUBBED_ENV = (
    "PROGRESS_TABLE",
    "DYNAMODB_ENDPOINT_URL",
    "ALEXA_SKILL_ID",
    "ALEXA_VERIFY_SIGNATURE",
    "ALEXA_VERIFY_TIMESTAMP",
    "ALEXA_TRUST_ROOTS",
    "ALEXA_CERT_FETCHER",
)


def missing_prerequisite() -> str | None:
    """Say what is missing to run virtual-alexa here, or None when node and it are present."""
    return missing_node_package(VIRTUAL_ALEXA, "virtual-alexa", INSTALL_COMMAND)


def server_command() -> list[str]:
    """The `foot-routine` console script next to this interpreter, or its entry point.

    The script exists once the project is installed (`make test` does `pip install -e .`). A venv
    holding only the dependencies has no script, so locally fall back to calling the same entry
    point (`skill.tools.cli:main`); in CI the script must exist, as it is what users run.
    """
    script = Path(sys.executable).with_name("foot-routine")
    if script.is_file():
        return [str(script)]
    if in_ci():
        pytest.fail(f"{script} is missing: install the project (`make test`) [CI=true]")
    return [sys.executable, "-c", "import sys; from skill.tools.cli import main; main(sys.argv[1:])"]


# No ProxyHandler entries: an HTTP_PROXY in the environment must not see 127.0.0.1 traffic.
_LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class SkillServer(ChildProcess):
    """A running `foot-routine serve --dev` child process and where to reach it."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def health(self) -> dict[str, Any] | None:
        """The /healthz body once it answers 200, else None."""
        try:
            with _LOCAL_OPENER.open(f"{self.url}healthz", timeout=0.5) as answer:
                return json.loads(answer.read()) if answer.status == 200 else None
        except (OSError, ValueError):  # URLError and connection resets are OSErrors
            return None

    def stop(self) -> None:
        """waitress exits on SIGTERM."""
        self.terminate()


def _launch(port: int, db_path: Path, log_path: Path) -> SkillServer:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(ALEXA_SKILL_ID=SKILL_ID, FOOT_ROUTINE_DB=str(db_path), PYTHONUNBUFFERED="1")
    command = [*server_command(), "serve", "--dev", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
        )
    return SkillServer(process=process, port=port, log_path=log_path)


def start_server(workdir: Path, attempts: int = 3) -> SkillServer:
    """Start the dev server on a free port with its own SQLite file; wait for /healthz.

    A port taken between probing and binding makes waitress exit; that is retried on a new port.
    """
    last_error = ""
    for attempt in range(attempts):
        server = _launch(
            free_port(), workdir / "progress.sqlite3", workdir / f"serve-{attempt}.log"
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and server.process.poll() is None:
            if server.health() is not None:
                return server
            time.sleep(0.05)
        exit_code = server.process.poll()
        server.stop()
        log = server.log_text()
        if exit_code is None:
            raise RuntimeError(
                f"foot-routine serve --dev did not answer {server.url}healthz within "
                f"{START_TIMEOUT_S:.0f} s; log:\n{log}"
            )
        last_error = f"foot-routine serve --dev exited with code {exit_code}; log:\n{log}"
        if "address already in use" not in log.lower():
            break
    raise RuntimeError(last_error)


@pytest.fixture(scope="module")
def server() -> Iterator[SkillServer]:
    """One dev server for this module, on a fresh SQLite store in a temporary directory."""
    problem = missing_prerequisite()
    if problem is not None:
        skip_or_fail(f"virtual-alexa tests need node and the pinned virtual-alexa: {problem}")
    with tempfile.TemporaryDirectory(prefix="foot-routine-va-") as workdir:
        running = start_server(Path(workdir))
        try:
            yield running
        finally:
            running.stop()


def drive(
    server: SkillServer, utterances: tuple[str, ...], skill_id: str | None = SKILL_ID
) -> subprocess.CompletedProcess[str]:
    """Run drive.js against the server; returns the finished process (not checked)."""
    node = shutil.which("node")
    assert node is not None  # the fixture skipped otherwise
    command = [node, str(DRIVER), server.url, str(MODEL)]
    if skill_id is not None:
        command += ["--skill-id", skill_id]
    return subprocess.run(
        [*command, *utterances],
        capture_output=True,
        text=True,
        timeout=DRIVE_TIMEOUT_S,
        cwd=DRIVER_DIR,
        check=False,
    )


@pytest.fixture(scope="module")
def turns(server: SkillServer) -> list[dict[str, Any]]:
    """The short routine, one parsed drive.js line per utterance."""
    result = drive(server, DIALOGUE)
    if result.returncode != 0:
        pytest.fail(
            f"drive.js exited {result.returncode}\nstderr:\n{result.stderr}\n"
            f"stdout:\n{result.stdout}\nserver log:\n{server.log_text()}",
            pytrace=False,
        )
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [turn["utterance"] for turn in parsed] == list(DIALOGUE)
    return parsed


def test_dev_server_is_up_with_only_skill_id_checked(server: SkillServer) -> None:
    """`--dev` drops signature/timestamp checks (virtual-alexa cannot sign) but not skill id."""
    assert server.health() == {
        "status": "ok",
        "verify_signature": False,
        "verify_timestamp": False,
        "skill_id_check": True,
    }


def test_launch_request_is_answered(turns: list[dict[str, Any]]) -> None:
    launch = turns[0]
    assert launch["request"] == "LaunchRequest"
    assert "Welcome to Foot Routine" in launch["ssml"]
    assert launch["shouldEndSession"] is False


def test_start_gives_the_disclaimer_before_exercise_one(turns: list[dict[str, Any]]) -> None:
    start = turns[1]
    assert (start["request"], start["intent"]) == ("IntentRequest", "StartRoutineIntent")
    ssml = start["ssml"]
    disclaimer = ssml.find("not a substitute for advice from your doctor")
    assert disclaimer != -1, ssml
    assert disclaimer < ssml.find("Exercise 1 of 5"), ssml
    assert start["shouldEndSession"] is False


def test_next_plays_the_set_as_apl_for_audio(turns: list[dict[str, Any]]) -> None:
    step = turns[2]
    assert step["intent"] == "AMAZON.NextIntent"
    assert step["ssml"] is None and "Spread your toes" in step["apla"]
    assert step["shouldEndSession"] is False


def test_repeat_said_at_once_plays_the_round_again(turns: list[dict[str, Any]]) -> None:
    """virtual-alexa sends "repeat that" a moment after the set began: a barge-in, so the
    round that had begun (the first) plays again, and on from there."""
    assert turns[3]["intent"] == "AMAZON.RepeatIntent"
    assert turns[3]["apla"] == turns[2]["apla"]
    assert turns[3]["shouldEndSession"] is False


def test_stop_saves_the_place_and_ends_the_session(turns: list[dict[str, Any]]) -> None:
    stop = turns[4]
    assert stop["intent"] == "AMAZON.StopIntent"
    assert "saved your place" in stop["ssml"]
    assert stop["shouldEndSession"] is True


def test_request_for_another_skill_is_refused(server: SkillServer) -> None:
    """Guards the test itself: the 200s above were for our skill id, not a disabled check."""
    result = drive(server, ("open foot routine",), skill_id="amzn1.ask.skill.someone-else")
    assert result.returncode != 0
    assert "Invalid response: 400" in result.stderr
    assert result.stdout == ""
