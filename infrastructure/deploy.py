"""`make deploy`: build and deploy the SAM stack, then point the skill manifest at the function.

Steps, each a plain SAM CLI call so a failure shows the tool's own message:

1. find the Alexa skill ID (``SKILL_ID`` or infrastructure/.ask/ask-states.json, written by
   ``ask deploy`` when it created the skill) - the template lets only that skill invoke the function;
2. ``sam build`` (offline, see infrastructure/Makefile);
3. ``sam deploy``, guided when the stack does not exist yet (or GUIDED=1), so first-time users are
   asked for stack name, region and confirmation and SAM records the answers in samconfig.toml;
4. read the ``SkillFunctionArn`` stack output, rebuild infrastructure/skill-package/ with it as the
   endpoint (and remember it for later ``make skill-package`` runs);
5. print the ask-cli command that uploads manifest and interaction model.

This is the only place that talks to AWS; nothing in ``make test`` or CI imports or runs it
beyond its offline helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import skill_package

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = REPO_ROOT / "samconfig.toml"
TEMPLATE = REPO_ROOT / "template.yaml"
ASK_STATES = REPO_ROOT / "infrastructure" / ".ask" / "ask-states.json"
ARN_OUTPUT = "SkillFunctionArn"


class DeployError(RuntimeError):
    """A precondition for deploying is missing; the message says how to fix it."""


def config_env(stage: str) -> str:
    """samconfig.toml environment for a stage: dev is SAM's [default], others are named."""
    return "default" if stage == "dev" else stage


def deploy_settings(stage: str, samconfig: Path = SAMCONFIG) -> dict[str, Any]:
    """The [<env>.deploy.parameters] table of samconfig.toml (empty if absent)."""
    with samconfig.open("rb") as stream:
        config = tomllib.load(stream)
    env = config.get(config_env(stage), {})
    return dict(env.get("deploy", {}).get("parameters", {}))


def parse_overrides(text: str) -> dict[str, str]:
    """'Stage="dev" LogLevel="INFO"' -> {"Stage": "dev", "LogLevel": "INFO"}."""
    pairs = (item.split("=", 1) for item in shlex.split(text))
    return {key: value for key, value in pairs}


def format_overrides(values: dict[str, str]) -> str:
    """The single 'Key="Value" ...' string sam deploy --parameter-overrides documents."""
    return " ".join(f'{key}="{value}"' for key, value in values.items())


def skill_id_from_states(profile: str, states: Path = ASK_STATES) -> str | None:
    """The skill ID ask-cli recorded for a profile, if the skill was created with ask deploy."""
    if not states.exists():
        return None
    data = json.loads(states.read_text(encoding="utf-8"))
    return data.get("profiles", {}).get(profile, {}).get("skillId") or None


def function_arn(outputs: list[dict[str, str]]) -> str:
    """The function ARN from `sam list stack-outputs --output json`."""
    for output in outputs:
        if output.get("OutputKey") == ARN_OUTPUT:
            return output["OutputValue"]
    raise DeployError(f"stack has no {ARN_OUTPUT} output; is template.yaml deployed?")


def next_steps(skill_id: str, profile: str, stage: str) -> str:
    """What to run after the stack is up: upload manifest and model with ask-cli."""
    manifest = "infrastructure/skill-package/skill.json"
    return "\n".join(
        [
            "",
            f"Stack deployed and {manifest} points at the function. Next:",
            "  # upload manifest + interaction models (builds the voice model, about a minute):",
            (
                f"  (cd infrastructure && ask deploy --profile {profile} --target skill-metadata"
                " --ignore-hash)"
            ),
            "  # or, manifest only:",
            (
                f"  ask smapi update-skill-manifest --skill-id {skill_id} --stage development"
                f' --manifest "file:{manifest}" --profile {profile}'
            ),
            "  # then test it:",
            f"  ask dialog --skill-id {skill_id} --locale en-US --profile {profile}",
            f"(stage {stage}; the skill must be enabled for testing in the developer console once)",
        ]
    )


def _run(command: list[str], env: dict[str, str]) -> None:
    print("+ " + shlex.join(command), flush=True)
    subprocess.run(command, check=True, env=env, cwd=REPO_ROOT)


def _stack_exists(sam: str, stack: str, region: str, env: dict[str, str]) -> bool:
    result = subprocess.run(
        [
            sam,
            "list",
            "stack-outputs",
            "--stack-name",
            stack,
            "--region",
            region,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=REPO_ROOT,
    )
    return result.returncode == 0


def _stack_outputs(sam: str, stack: str, region: str, env: dict[str, str]) -> list[dict[str, str]]:
    command = [sam, "list", "stack-outputs", "--stack-name", stack, "--region", region]
    result = subprocess.run(
        [*command, "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO_ROOT,
    )
    return json.loads(result.stdout)


def deploy(args: argparse.Namespace) -> None:
    """Run the whole flow (see the module docstring)."""
    env = {**os.environ, "SAM_CLI_TELEMETRY": os.environ.get("SAM_CLI_TELEMETRY", "0")}
    skill_id = args.skill_id or skill_id_from_states(args.ask_profile)
    if not skill_id:
        raise DeployError(
            "no skill ID. Create the skill first:\n"
            "  make skill-package && (cd infrastructure && ask deploy --target skill-metadata)\n"
            "which records it in infrastructure/.ask/ask-states.json, or pass "
            "SKILL_ID=amzn1.ask.skill.... (from the developer console)."
        )
    settings = deploy_settings(args.stage)
    overrides = parse_overrides(settings.get("parameter_overrides", ""))
    overrides.update({"SkillId": skill_id, "Stage": args.stage})
    if args.log_level:
        overrides["LogLevel"] = args.log_level
    stack = settings.get("stack_name", f"foot-routine-{args.stage}")
    region = settings.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise DeployError("no region: set region in samconfig.toml or AWS_REGION")

    _run(
        [
            args.sam,
            "build",
            "--template-file",
            str(TEMPLATE),
            "--config-env",
            config_env(args.stage),
        ],
        env,
    )

    guided = args.guided == "yes" or (
        args.guided == "auto" and not _stack_exists(args.sam, stack, region, env)
    )
    command = [args.sam, "deploy", "--config-env", config_env(args.stage)]
    command += ["--parameter-overrides", format_overrides(overrides)]
    if guided:
        command.append("--guided")
    _run(command, env)

    # A guided run may have changed stack name or region: read what SAM saved.
    settings = deploy_settings(args.stage)
    stack = settings.get("stack_name", stack)
    region = settings.get("region", region)
    arn = function_arn(_stack_outputs(args.sam, stack, region, env))
    endpoint = skill_package.Endpoint(arn)
    skill_package.assemble(endpoint=endpoint)
    skill_package.save_endpoint(endpoint)
    print(f"Function: {arn}")
    print(next_steps(skill_id, args.ask_profile, args.stage))


def main(argv: list[str] | None = None) -> int:
    """CLI used by the `deploy` target of infrastructure/deploy.mk."""
    parser = argparse.ArgumentParser(description="Deploy the Foot Routine stack (calls AWS).")
    parser.add_argument("--sam", default="sam", help="SAM CLI executable")
    parser.add_argument("--stage", default="dev", choices=("dev", "prod"))
    parser.add_argument("--skill-id", default=os.environ.get("SKILL_ID") or None)
    parser.add_argument("--log-level", default=None, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--ask-profile", default=os.environ.get("ASK_DEFAULT_PROFILE", "default"))
    parser.add_argument(
        "--guided",
        default="auto",
        choices=("auto", "yes", "no"),
        help="sam deploy --guided: auto = only when the stack does not exist yet",
    )
    args = parser.parse_args(argv)
    try:
        deploy(args)
    except (DeployError, skill_package.PackageError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(
            f"deploy: command failed ({error.returncode}): {shlex.join(error.cmd)}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
