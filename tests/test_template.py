"""Offline checks of the deployment: template.yaml, samconfig.toml and the built Lambda artefact.

Why: nothing here is deployed by CI (there is no AWS account), so a broken template, a missing
environment variable or an artefact that cannot import would otherwise surface only on someone's
first `make deploy`, or as a skill that answers "there was a problem" on every request.

Two kinds of tests:
- static ones read template.yaml with tests.template_loader (which understands !Ref/!GetAtt/!Sub);
- tool ones run cfn-lint, `sam validate --lint` and `sam build` from .venv-tools/ (`make tools`).
  They skip locally when .venv-tools is missing but fail under CI=true, so CI cannot go green by
  skipping. They run with no AWS credentials and the EC2 metadata lookup disabled: nothing can
  reach AWS. `sam build` runs once per session into a temporary directory.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skill.tools.envelopes import Device
from tests.child_process import skip_or_fail
from tests.dynalite_server import create_table
from tests.template_loader import REPO_ROOT, load_template, resource, resources_of_type

TEMPLATE = REPO_ROOT / "template.yaml"
SAMCONFIG = REPO_ROOT / "samconfig.toml"
LAMBDA_REQUIREMENTS = REPO_ROOT / "infrastructure" / "lambda-requirements.txt"
TOOLS_BIN = REPO_ROOT / ".venv-tools" / "bin"
FUNCTION_ID = "SkillFunction"
TABLE_ID = "ProgressTable"

# Environment variables the code may read that the template must not set: local development
# only (skill/settings.py's local store and endpoint; ALEXA_API_CALLS=0 keeps local clients
# off Alexa's APIs, and its default is "on", as Lambda needs), or set by Lambda itself.
LOCAL_ONLY_ENV = {"DYNAMODB_ENDPOINT_URL", "FOOT_ROUTINE_DB", "ALEXA_API_CALLS"}
LAMBDA_PROVIDED_ENV = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_EXECUTION_ENV",
    "LAMBDA_TASK_ROOT",
    "_X_AMZN_TRACE_ID",
    # The execution role's credentials (skill/storage/dynamo_http.py signs with them), and the AWS
    # SDKs' own endpoint switches, which that module reads only to leave such endpoints to
    # botocore: standard SDK settings, not ours to set.
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
}
# What the Lambda Python runtime provides, so the artefact must not ship it.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath"}
# Never in the artefact: dev tools, tests, the self-hosted endpoint's stack, runtime-provided SDK.
FORBIDDEN_IN_ARTEFACT = {
    "tests",
    "pytest",
    "_pytest",
    "moto",
    "hypothesis",
    "ruff",
    "flask",
    "werkzeug",
    "cryptography",
    "waitress",
    "boto3",
    "botocore",
}
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


# --------------------------------------------------------------------------- static checks


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The parsed template, short tags in their long JSON form."""
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    """The skill function's Properties."""
    body = resource(template, FUNCTION_ID)
    assert body["Type"] == "AWS::Serverless::Function"
    properties: dict[str, Any] = body["Properties"]
    return properties


def _handler_file(function: dict[str, Any]) -> Path:
    """The source file the handler's dotted path names.

    CodeUri is the skill package itself and infrastructure/Makefile nests it back under its own
    name in the artefact, so `skill.lambda_function.handler` is <repo>/skill/lambda_function.py.
    """
    code_dir = REPO_ROOT / function["CodeUri"]
    module_path, _, _ = function["Handler"].rpartition(".")
    package, *rest = module_path.split(".")
    assert package == code_dir.name, (
        f"handler {function['Handler']} must start with the CodeUri package {code_dir.name}"
    )
    return code_dir.joinpath(*rest).with_suffix(".py")


def test_handler_module_defines_the_handler(function: dict[str, Any]) -> None:
    assert function["Handler"] == "skill.lambda_function.handler"
    path = _handler_file(function)
    assert path.is_file(), f"{path} (from Handler {function['Handler']}) does not exist"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = function["Handler"].rpartition(".")[2]
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)} | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert name in defined, f"{path} defines no top-level {name}"


def test_globals_suit_an_alexa_skill(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Timeout"] < 8, "Alexa gives up after 8 s; time out before that"
    assert 128 <= function_globals["MemorySize"] <= 3008
    assert function_globals["Tracing"] == "Active"
    assert function_globals["Environment"]["Variables"]["LOG_LEVEL"] == {"Ref": "LogLevel"}


def _function_env(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """Globals and function variables merged, as SAM does."""
    merged = dict(template["Globals"]["Function"].get("Environment", {}).get("Variables", {}))
    merged.update(function.get("Environment", {}).get("Variables", {}))
    return merged


_IMPORT_NAME = re.compile(r"^skill((?:\.\w+)*)$")


def _handler_modules(entry: Path) -> set[Path]:
    """Source files of the skill package reachable by imports from the handler module.

    Only these run in Lambda; the self-hosted endpoint's modules may read their own variables.
    """
    package = entry.parent
    seen: set[Path] = set()
    queue = [entry]
    while queue:
        path = queue.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = "skill" if node.level else (node.module or "")
                if node.level and node.module:
                    base = f"skill.{node.module}"
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                match = _IMPORT_NAME.match(name)
                if match and match.group(1):
                    # A module or a subpackage; a name that is neither (an imported class) is
                    # no file and is skipped.
                    parts = match.group(1)[1:].split(".")
                    queue.append(package.joinpath(*parts).with_suffix(".py"))
                    queue.append(package.joinpath(*parts, "__init__.py"))
    return seen


def _env_names_read(paths: set[Path]) -> set[str]:
    """Upper-case names read with .get("X") / getenv("X") / ["X"]: environment lookups.

    The code reads the environment directly or through a Mapping defaulting to os.environ,
    so the call shape, not the receiver's name, is what is matched. The operator settings are
    read by name from skill/settings.py's declarations: `_settings_read` adds those.
    """
    names: set[str] = set()
    env_like = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{4,}$")
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key: ast.expr | None = None
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in {"get", "getenv", "pop", "setdefault"}:
                    key = node.args[0]
            elif isinstance(node, ast.Subscript):
                key = node.slice
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and env_like.match(key.value)
            ):
                names.add(key.value)
    return names


def _settings_read(paths: set[Path]) -> set[str]:
    """The variables of the settings that apply wherever the skill runs, Lambda included
    (the others are the web endpoint's), when the Lambda code reads the settings at all."""
    if not any(path.name == "settings.py" for path in paths):
        return set()
    from skill.settings import sources

    return {name for source in sources().values() if source.scope == "skill"
            for name in source.names}


def test_every_variable_the_code_reads_is_set_by_the_template(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    env = _function_env(template, function)
    assert env["PROGRESS_TABLE"] == {"Ref": TABLE_ID}
    assert env["LOG_LEVEL"] == {"Ref": "LogLevel"}
    modules = _handler_modules(_handler_file(function))
    read = _env_names_read(modules) | _settings_read(modules)
    assert {"PROGRESS_TABLE", "LOG_LEVEL"} <= read, f"scan found only {sorted(read)}"
    missing = read - set(env) - LOCAL_ONLY_ENV - LAMBDA_PROVIDED_ENV
    assert not missing, (
        f"the Lambda code reads {sorted(missing)} but template.yaml does not set them; set them "
        "in the function's Environment, or list them in LOCAL_ONLY_ENV if Lambda must not"
    )
    assert not (set(env) & LOCAL_ONLY_ENV), "local-only variables must not be set in Lambda"


def test_progress_table_matches_the_code(template: dict[str, Any]) -> None:
    table = resource(template, TABLE_ID)
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "user_id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": "user_id", "AttributeType": "S"}
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "TableName" not in properties, "a fixed name blocks redeploying next to a retained table"


def test_table_key_matches_the_store_module() -> None:
    """The store's key attribute is the template's partition key (no sort key)."""
    source = (REPO_ROOT / "skill" / "storage" / "store.py").read_text(encoding="utf-8")
    match = re.search(r'^KEY_ATTRIBUTE\s*=\s*"(\w+)"', source, re.MULTILINE)
    assert match, "skill/storage/store.py no longer defines KEY_ATTRIBUTE; update this test"
    assert match.group(1) == "user_id"


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in nested dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_function_policy_is_scoped_to_the_table(function: dict[str, Any]) -> None:
    policies = function["Policies"]
    assert policies == [{"DynamoDBCrudPolicy": {"TableName": {"Ref": TABLE_ID}}}]
    for key, value in _walk(policies):
        if key == "Resource":
            resources = value if isinstance(value, list) else [value]
            assert not any(isinstance(item, str) and "*" in item for item in resources)


def test_no_wildcard_resource_anywhere(template: dict[str, Any]) -> None:
    for key, value in _walk(template.get("Resources", {})):
        if key == "Resource":
            resources = value if isinstance(value, list) else [value]
            assert "*" not in resources, "an IAM statement grants on every resource"


def test_only_our_skill_can_invoke(function: dict[str, Any]) -> None:
    events = function["Events"]
    assert [event["Type"] for event in events.values()] == ["AlexaSkill"]
    (event,) = events.values()
    assert event["Properties"]["SkillId"] == {"Ref": "SkillId"}


def test_logs_have_a_retention(template: dict[str, Any], function: dict[str, Any]) -> None:
    groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert len(groups) == 1
    ((logical_id, group),) = groups.items()
    assert group["Properties"]["RetentionInDays"]
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": logical_id}


def test_parameters_and_outputs(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert {"SkillId", "Stage", "LogLevel"} <= set(parameters)
    assert set(parameters["LogLevel"]["AllowedValues"]) == {"DEBUG", "INFO", "WARNING", "ERROR"}
    assert re.match(parameters["SkillId"]["AllowedPattern"], "amzn1.ask.skill.0a1b-2c3d")
    outputs = template["Outputs"]
    # The skill endpoint is the published alias (SnapStart applies only to published versions).
    assert outputs["SkillFunctionArn"]["Value"] == {"Ref": f"{FUNCTION_ID}.Alias"}
    assert outputs["ProgressTableName"]["Value"] == {"Ref": TABLE_ID}


def test_snapstart_is_a_switch_on_published_versions(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["SnapStart"]
    assert set(parameter["AllowedValues"]) == {"on", "off"} and parameter["Default"] == "off"
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "on"]}
    assert function["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}
    }
    assert function["AutoPublishAlias"] == "live"


def test_memory_size_states_its_reason(template: dict[str, Any]) -> None:
    """The choice comes from `make bench`'s CPU-share rows; the comment must say so."""
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    memory = template["Globals"]["Function"]["MemorySize"]
    index = next(i for i, line in enumerate(lines) if line.strip() == f"MemorySize: {memory}")
    comment: list[str] = []
    while index > 0 and lines[index - 1].strip().startswith("#"):
        index -= 1
        comment.insert(0, lines[index])
    assert any("make bench" in line for line in comment), comment


def test_deploy_helper_reads_an_output_the_template_has(template: dict[str, Any]) -> None:
    source = (REPO_ROOT / "infrastructure" / "deploy.py").read_text(encoding="utf-8")
    match = re.search(r'^ARN_OUTPUT = "(\w+)"', source, re.MULTILINE)
    assert match and match.group(1) in template["Outputs"]


def test_samconfig_has_safe_defaults() -> None:
    with SAMCONFIG.open("rb") as stream:
        config = tomllib.load(stream)
    for env in ("default", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["region"]
        assert deploy["stack_name"].endswith(env if env != "default" else "dev")
        assert "SkillId" not in deploy.get("parameter_overrides", ""), "skill ID is per developer"
    text = SAMCONFIG.read_text(encoding="utf-8").lower()
    for secret in ("aws_access_key_id", "aws_secret_access_key", "session_token", "password"):
        assert secret not in text


def test_lambda_requirements_are_runtime_only() -> None:
    lines = LAMBDA_REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    names = {
        re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert names == {"ask-sdk-core", "pyyaml", "tzdata"}


# --------------------------------------------------------------------------- tool checks


def _tool(name: str) -> Path:
    """A tool from .venv-tools; skip locally when absent, fail under CI=true."""
    path = TOOLS_BIN / name
    if not path.exists():
        skip_or_fail(f"{path} is missing: run `make tools` (creates .venv-tools with SAM CLI, "
                     "cfn-lint)")
    return path


def _offline_env() -> dict[str, str]:
    """The caller's environment without any way to reach AWS."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"}
    }
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SAM_CLI_TELEMETRY": "0",
        }
    )
    return env


def _run(command: list[str | Path], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        check=False,
        cwd=REPO_ROOT,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_cfn_lint_is_clean() -> None:
    result = _run([_tool("cfn-lint"), TEMPLATE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes() -> None:
    result = _run([_tool("sam"), "validate", "--lint", "--template-file", TEMPLATE])
    assert result.returncode == 0, result.stdout + result.stderr


def _template_with_snapstart(value: str, directory: Path) -> Path:
    """A copy of template.yaml whose SnapStart parameter defaults to `value` (the linters
    validate a template as deployed with its defaults)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    default = '    Default: "off"\n    AllowedValues:\n      - "on"'
    assert text.count(default) == 1, "the SnapStart parameter's layout changed"
    path = directory / f"template-snapstart-{value}.yaml"
    path.write_text(text.replace(default, default.replace('"off"', f'"{value}"', 1)), "utf-8")
    return path


# Runs in .venv-tools' Python (where SAM's translator lives): the template as CloudFormation
# would receive it after the SAM transform, with the parameters given, as JSON.
_TRANSLATE = r"""
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1], encoding="utf-8").read())
# `sam package` would have uploaded the code; the translator only accepts an S3 location.
template["Resources"]["SkillFunction"]["Properties"]["CodeUri"] = "s3://bucket/skill.zip"
print(json.dumps(transform(template, json.loads(sys.argv[2]), NoManagedPolicies())))
"""


@pytest.mark.parametrize("snapstart", ["on", "off"])
def test_template_is_valid_with_snapstart(snapstart: str, tmp_path: Path) -> None:
    path = _template_with_snapstart(snapstart, tmp_path)
    for command in ([_tool("cfn-lint"), path],
                    [_tool("sam"), "validate", "--lint", "--template-file", path]):
        result = _run(command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_alexa_trigger_and_endpoint_use_the_alias() -> None:
    """After SAM's transform the AlexaSkill permission names the alias, not $LATEST (the
    condition stays for CloudFormation to resolve, so one translation covers on and off)."""
    python = _tool("python")
    parameters = {"SkillId": "amzn1.ask.skill.0a1b", "SnapStart": "on"}
    result = _run([python, "-c", _TRANSLATE, TEMPLATE, json.dumps(parameters)])
    assert result.returncode == 0, result.stdout + result.stderr
    translated = json.loads(result.stdout)
    resources = translated["Resources"]
    (alias_id,) = [key for key, body in resources.items() if body["Type"] == "AWS::Lambda::Alias"]
    assert resources[alias_id]["Properties"]["Name"] == "live"
    assert [body for body in resources.values() if body["Type"] == "AWS::Lambda::Version"]
    permissions = [body["Properties"] for body in resources.values()
                   if body["Type"] == "AWS::Lambda::Permission"]
    assert permissions and all(p["FunctionName"] == {"Ref": alias_id} for p in permissions)
    assert resources[FUNCTION_ID]["Properties"]["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}
    }
    assert "SnapStartOn" in translated["Conditions"]


@pytest.fixture(scope="session")
def built_function(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` once per session; the function's artefact directory."""
    sam = _tool("sam")
    build_dir = tmp_path_factory.mktemp("sam-build") / "build"
    result = _run(
        [sam, "build", "--template-file", TEMPLATE, "--build-dir", build_dir], timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    artefact = build_dir / FUNCTION_ID
    assert artefact.is_dir(), f"sam build produced no {artefact}"
    return artefact


def _source_files(root: Path) -> set[Path]:
    return {
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_artefact_ships_the_skill_package_and_its_content(built_function: Path) -> None:
    package = REPO_ROOT / "skill"
    shipped = built_function / "skill"
    missing = _source_files(package) - _source_files(shipped)
    assert not missing, f"not in the artefact: {sorted(map(str, missing))}"
    for relative in _source_files(package):
        assert (shipped / relative).read_bytes() == (package / relative).read_bytes(), relative
    content = [
        path for path in (shipped / "content").rglob("*") if path.suffix in {".yaml", ".json"}
    ]
    assert content, "skill/content data files must ship"


def test_artefact_holds_only_runtime_dependencies(built_function: Path) -> None:
    top = {path.name.split("-")[0].lower() for path in built_function.iterdir()}
    assert not (top & FORBIDDEN_IN_ARTEFACT), sorted(top & FORBIDDEN_IN_ARTEFACT)
    assert {"skill", "ask_sdk_core", "yaml"} <= top


def test_artefact_fits_lambda_limits(
    built_function: Path, tmp_path: Path, record_property: Any
) -> None:
    unzipped = sum(path.stat().st_size for path in built_function.rglob("*") if path.is_file())
    archive = tmp_path / "function.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(built_function.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(built_function))
    zipped = archive.stat().st_size
    record_property("artefact_zip_bytes", zipped)
    record_property("artefact_unzipped_bytes", unzipped)
    print(f"artefact: {zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped")
    assert zipped < LAMBDA_ZIP_LIMIT
    assert unzipped < LAMBDA_UNZIPPED_LIMIT


def _runtime_python() -> str:
    """An interpreter as close to the Lambda runtime (3.12) as this machine has.

    LAMBDA_TEST_PYTHON wins; then python3.12 on PATH or in pyenv; else this interpreter.
    """
    override = os.environ.get("LAMBDA_TEST_PYTHON")
    if override:
        return override
    found = shutil.which("python3.12")
    if (
        found
        and subprocess.run([found, "-c", ""], capture_output=True, check=False).returncode == 0
    ):
        return found
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"))
    return candidates[-1] if candidates else sys.executable


def _site_packages() -> str:
    """This venv's site-packages: stands in for the runtime's boto3 (pure Python)."""
    import boto3

    return str(Path(boto3.__file__).resolve().parent.parent)


# Runs in a fresh interpreter without site-packages (-S): the artefact first on sys.path like
# /var/task, then this venv's site-packages only for what the runtime provides (boto3). It
# reports which top-level modules came from outside the artefact, and any ERROR log record (the
# skill's error handler logs the failure, then answers politely, so a 200 alone proves little).
_INVOKE = r"""
import json, logging, sys
artefact, runtime_site = sys.argv[1], sys.argv[2]
sys.path.insert(0, artefact)
sys.path.append(runtime_site)
errors = []
class Collect(logging.Handler):
    def emit(self, record):
        errors.append(record.getMessage())
logging.getLogger().addHandler(Collect(level=logging.ERROR))
from skill.lambda_function import handler
event = json.load(sys.stdin)
response = handler(event, None)
outside = sorted({
    name.split(".")[0] for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(runtime_site)
})
print(json.dumps({"response": response, "outside": outside, "errors": errors}))
"""


def _launch_request() -> dict[str, Any]:
    """Pointing the Alexa API at 127.0.0.1:9 keeps any test from reaching the real API."""
    device = Device(user_id="amzn1.ask.account.BUILD-TEST", api_endpoint="http://127.0.0.1:9")
    return device.launch(datetime(2024, 1, 1, 12, tzinfo=UTC))



def _invoke_built(artefact: Path, extra_env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    env = {
        key: value
        for key, value in _offline_env().items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV"))
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update({"LOG_LEVEL": "INFO", "PYTHONDONTWRITEBYTECODE": "1", **extra_env})
    result = subprocess.run(
        [_runtime_python(), "-I", "-S", "-B", "-c", _INVOKE, str(artefact), _site_packages()],
        input=json.dumps(_launch_request()),
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert not report["errors"], report["errors"]
    assert set(report["outside"]) <= RUNTIME_PROVIDED, (
        f"imported from outside the artefact: {report['outside']}; add to lambda-requirements.txt"
    )
    return report


def _assert_spoken_answer(report: dict[str, Any]) -> None:
    response = report["response"]
    assert response["version"] == "1.0"
    speech = response["response"]["outputSpeech"]
    assert (speech.get("ssml") or speech.get("text") or "").strip()
    assert response["response"].get("shouldEndSession") in (None, False)


def test_built_handler_answers_launch_with_local_store(
    built_function: Path, tmp_path: Path
) -> None:
    """The artefact imports and answers on its own (progress in a throwaway SQLite file)."""
    report = _invoke_built(
        built_function, {"FOOT_ROUTINE_DB": str(tmp_path / "progress.sqlite3")}, tmp_path
    )
    _assert_spoken_answer(report)


def test_built_handler_answers_launch_with_the_template_table(
    built_function: Path,
    tmp_path: Path,
    dynalite_endpoint: str,
    template: dict[str, Any],
) -> None:
    """As deployed: PROGRESS_TABLE set, table created from the template's own definition."""
    from tests.dynalite_server import dynamodb_client

    client = dynamodb_client(dynalite_endpoint)
    table = create_table(client, resource(template, TABLE_ID)["Properties"], prefix="built")
    report = _invoke_built(
        built_function,
        {
            "PROGRESS_TABLE": table,
            "DYNAMODB_ENDPOINT_URL": dynalite_endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "NO_PROXY": "127.0.0.1,localhost",
        },
        tmp_path,
    )
    _assert_spoken_answer(report)


# --------------------------------------------------------------------------- operations
# The alarms and the dashboard read the metrics skill/ops/metrics.py publishes: one list of names
# (Metric) and the dimension sets each is published under (SPECS). A metric a widget or an
# alarm asks for with other dimensions than the code publishes would show nothing, silently.


def _skill_metrics() -> tuple[set[str], dict[str, set[frozenset[str]]], str, str]:
    from skill.ops.metrics import NAMESPACE, SERVICE_DIMENSION, SPECS, Metric

    published = {
        str(metric): {frozenset({SERVICE_DIMENSION, *map(str, dims)})
                      for dims in SPECS[metric].dimension_sets}
        for metric in Metric
    }
    return {str(metric) for metric in Metric}, published, NAMESPACE, SERVICE_DIMENSION


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: body["Properties"]
            for name, body in resources_of_type(template, "AWS::CloudWatch::Alarm").items()}


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, name, {dimension: value}) of every metric an alarm reads."""
    if "MetricName" in alarm:
        stats = [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                  "Dimensions": alarm.get("Dimensions", [])}]
    else:
        stats = [query["MetricStat"]["Metric"] for query in alarm["Metrics"]
                 if "MetricStat" in query]
    return [(stat["Namespace"], stat["MetricName"],
             {d["Name"]: d["Value"] for d in stat.get("Dimensions", [])}) for stat in stats]


def _alarm_reading(template: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    found = [alarm for alarm in _alarms(template).values()
             if any(m[:2] == (namespace, name) for m in _alarm_metrics(alarm))]
    assert len(found) == 1, f"expected one alarm on {namespace} {name}, found {len(found)}"
    return found[0]


def _dynamodb_operations() -> set[str]:
    """The DynamoDB operations the skill's code calls (get_item -> GetItem, ...)."""
    calls: set[str] = set()
    for path in (REPO_ROOT / "skill").rglob("*.py"):
        calls |= set(re.findall(r"\b(get|put|update|delete)_item\b", path.read_text("utf-8")))
    return {f"{verb.capitalize()}Item" for verb in calls}


def test_lambda_logs_are_json_and_never_filter_out_the_metrics(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    """EMF lines carry no "level", so Lambda files them as INFO: a filter above INFO would drop
    every metric. LOG_LEVEL (Python's logging) is what quietens our own records."""
    logging_config = function["LoggingConfig"]
    assert logging_config["LogFormat"] == "JSON"
    assert logging_config["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Level"]}
    levels = template["Mappings"]["LambdaLogLevel"]
    assert set(levels) == set(template["Parameters"]["LogLevel"]["AllowedValues"])
    order = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    for ours, theirs in levels.items():
        assert order.index(theirs["Level"]) <= order.index("INFO"), ours
        assert theirs["Level"] == ours or ours in ("WARNING", "ERROR")


def test_alarms_cover_what_an_operator_must_hear_about(template: dict[str, Any]) -> None:
    errors = _alarm_reading(template, "AWS/Lambda", "Errors")
    throttles = _alarm_reading(template, "AWS/Lambda", "Throttles")
    duration = _alarm_reading(template, "AWS/Lambda", "Duration")
    for alarm in (errors, throttles, duration):
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": FUNCTION_ID}}]
    assert errors["Threshold"] == 0 and throttles["Threshold"] == 0
    assert duration["ExtendedStatistic"] == "p99" and duration["Threshold"] == 3000
    for name in ("ThrottledRequests", "SystemErrors"):
        alarm = _alarm_reading(template, "AWS/DynamoDB", name)
        operations = {dims["Operation"] for _, _, dims in _alarm_metrics(alarm)}
        assert _dynamodb_operations() <= operations, f"{name}: not every operation is watched"
        for _, _, dims in _alarm_metrics(alarm):
            assert dims["TableName"] == {"Ref": TABLE_ID}
        (total,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                assert query["Id"] in total["Expression"]
    polite = _alarm_reading(template, "FootRoutine", "PoliteErrors")
    assert polite["Threshold"] == {"Ref": "PoliteErrorRateThreshold"}
    assert {m[1] for m in _alarm_metrics(polite)} == {"PoliteErrors", "Turns"}
    budget = _alarm_reading(template, "FootRoutine", "BudgetOverruns")
    assert budget["Threshold"] == {"Ref": "BudgetOverrunThreshold"}


def test_alarms_read_metrics_the_code_publishes(template: dict[str, Any]) -> None:
    names, published, namespace, service = _skill_metrics()
    for alarm_name, alarm in _alarms(template).items():
        for metric_namespace, name, dims in _alarm_metrics(alarm):
            if metric_namespace != namespace:
                continue
            assert name in names, f"{alarm_name} watches {name}, which the code never emits"
            assert frozenset(dims) in published[name], f"{alarm_name}: {name} by {sorted(dims)}"
            assert dims[service] == {"Ref": FUNCTION_ID}


def test_every_alarm_notifies_the_optional_topic_and_points_to_the_readme(
    template: dict[str, Any]
) -> None:
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    topic = resource(template, "AlarmTopic")
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Condition"] == "HasAlarmEmail"
    assert topic["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    operating = readme[readme.index("## Operating it"):]
    notify = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
    for name, alarm in _alarms(template).items():
        assert alarm["AlarmActions"] == notify and alarm["OKActions"] == notify, name
        assert alarm["TreatMissingData"] == "notBreaching", name
        heading = re.search(r"Operating it: ([^.]+)\.", alarm["AlarmDescription"])
        assert heading, f"{name}: the description must name its README entry"
        assert f"**{heading.group(1)}**" in operating, f"README has no entry {heading.group(1)}"


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = resource(template, "Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    # ${Name} and ${Name.Attr} become "<Name>": the JSON as CloudFormation would render it.
    return json.loads(re.sub(r"\$\{([\w:]+)(?:\.\w+)?\}", r"<\1>", body))


def _widget_metrics(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for row in widget.get("properties", {}).get("metrics", []):
        parts = [part for part in row if not isinstance(part, dict)]
        rows.append((parts[0], parts[1], dict(zip(parts[2::2], parts[3::2], strict=True))))
    return rows


def test_dashboard_shows_every_metric_the_code_emits_as_it_is_published(
    template: dict[str, Any]
) -> None:
    names, published, namespace, service = _skill_metrics()
    widgets = _dashboard(template)["widgets"]
    shown = [row for widget in widgets for row in _widget_metrics(widget)]
    ours = [row for row in shown if row[0] == namespace]
    assert {name for _, name, _ in ours} == names, "every emitted metric has a panel"
    for _, name, dims in ours:
        assert frozenset(dims) in published[name], f"{name} is not published by {sorted(dims)}"
        assert dims[service] == f"<{FUNCTION_ID}>"
    aws = {(ns, name) for ns, name, _ in shown if ns != namespace}
    assert {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"), ("AWS/Lambda", "Duration"),
            ("AWS/DynamoDB", "ThrottledRequests"), ("AWS/DynamoDB", "SystemErrors")} <= aws
    (alarms,) = [widget for widget in widgets if widget["type"] == "alarm"]
    assert {f"<{name}>" for name in _alarms(template)} == set(alarms["properties"]["alarms"])


def test_dashboard_funnel_runs_from_launch_through_each_exercise_to_completed(
    template: dict[str, Any]
) -> None:
    from skill.content.routine import load_routine

    (funnel,) = [widget for widget in _dashboard(template)["widgets"]
                 if widget["properties"].get("title", "").startswith("Funnel")]
    rows = _widget_metrics(funnel)
    steps = [name if name != "ExercisesStarted" else dims["Exercise"] for _, name, dims in rows]
    exercises = [exercise.id for exercise in load_routine().exercises]
    assert steps == ["SessionsStarted", "RoutinesStarted", *exercises, "RoutinesCompleted"]
    (stops,) = [widget for widget in _dashboard(template)["widgets"]
                if widget["properties"].get("title") == "Where people stop"]
    dropped = [dims["Exercise"] for _, name, dims in _widget_metrics(stops) if name == "DropOffs"]
    assert dropped == exercises


def test_dashboard_splits_cover_every_phase_and_locale(template: dict[str, Any]) -> None:
    """The per-phase and per-locale rows name values the code really publishes, all of them."""
    from skill.content.texts import available_locales
    from skill.conversation.phases import Phase

    rows = [row for widget in _dashboard(template)["widgets"] for row in _widget_metrics(widget)]
    phases = {dims["Phase"] for _, name, dims in rows if name == "Fallbacks" and "Phase" in dims}
    assert phases == {phase.value for phase in Phase}
    for metric in ("SessionsStarted", "RoutinesStarted"):
        locales = {dims["Locale"] for _, name, dims in rows if name == metric and "Locale" in dims}
        assert locales == set(available_locales()), metric
