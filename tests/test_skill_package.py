"""Checks of the Alexa skill package: manifest, example phrases, locales and the assembler.

Why: the manifest and the voice model are only validated by Amazon when deployed or submitted
for certification. An example phrase that the model cannot route, a missing health disclaimer or
a stale copy of the model in the package would be found weeks late, by a certification reviewer
or a user. These tests find them on every `make test`, offline.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.template_loader import REPO_ROOT

INFRA = REPO_ROOT / "infrastructure"
MODEL_DIR = REPO_ROOT / "interaction_model"
MANIFEST_SOURCE = INFRA / "skill.json"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:foot-routine-dev-SkillFunction-AbC123"
HTTPS_URL = "https://skill.example.org/alexa"

# The deploy helpers are scripts in infrastructure/, not an installed package.
sys.path.insert(0, str(INFRA))
import deploy
import skill_package


def _model_paths() -> list[Path]:
    return sorted(MODEL_DIR.glob("*.json"))


def _language_model(path: Path) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["interactionModel"][
        "languageModel"
    ]
    return model


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    """The hand-kept manifest (endpoint still a placeholder)."""
    data: dict[str, Any] = json.loads(MANIFEST_SOURCE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """The manifest as `make deploy` writes it, one locale per interaction model."""
    locales = skill_package.model_locales(MODEL_DIR)
    source = json.loads(MANIFEST_SOURCE.read_text(encoding="utf-8"))
    return skill_package.render_manifest(source, locales, skill_package.Endpoint(LAMBDA_ARN))


# --------------------------------------------------------------------------- the manifest


def test_manifest_has_the_publishing_information(source: dict[str, Any]) -> None:
    publishing = source["manifest"]["publishingInformation"]
    assert publishing["category"] == "HEALTH_AND_FITNESS"
    assert publishing["distributionMode"] == "PUBLIC"
    text = publishing["locales"]["en-US"]
    assert text["name"] == "Foot Routine"
    assert 0 < len(text["summary"]) <= 160
    assert 0 < len(text["description"]) <= 4000
    assert 1 <= len(text["examplePhrases"]) <= 3
    assert 1 <= len(text["keywords"]) <= 30
    assert publishing["testingInstructions"].strip()


def test_description_carries_the_health_disclaimer(source: dict[str, Any]) -> None:
    """Certification asks health skills to say they are no substitute for medical advice."""
    for text in source["manifest"]["publishingInformation"]["locales"].values():
        description = " ".join(text["description"].lower().split())
        assert "not a substitute for professional medical advice" in description


def test_privacy_and_compliance_answers_every_question(source: dict[str, Any]) -> None:
    answers = source["manifest"]["privacyAndCompliance"]
    for question in (
        "allowsPurchases",
        "usesPersonalInfo",
        "isChildDirected",
        "isExportCompliant",
        "containsAds",
    ):
        assert isinstance(answers[question], bool), question
    assert answers["isChildDirected"] is False
    assert answers["isExportCompliant"] is True


def test_permissions_events_and_interfaces(source: dict[str, Any]) -> None:
    manifest = source["manifest"]
    assert {"name": "alexa::alerts:reminders:skill:readwrite"} in manifest["permissions"]
    subscriptions = {item["eventName"] for item in manifest["events"]["subscriptions"]}
    assert "SKILL_DISABLED" in subscriptions
    custom = manifest["apis"]["custom"]
    types = {item["type"] for item in custom["interfaces"]}
    assert {"CAN_FULFILL_INTENT_REQUEST", "ALEXA_PRESENTATION_APL"} <= types
    apl = next(item for item in custom["interfaces"] if item["type"] == "ALEXA_PRESENTATION_APL")
    assert apl["supportedViewports"]
    assert custom["endpoint"]["uri"] == skill_package.PLACEHOLDER
    assert manifest["events"]["endpoint"]["uri"] == skill_package.PLACEHOLDER


def test_personalisation_is_enabled_for_recognised_voices(rendered: dict[str, Any]) -> None:
    """Alexa sends context.System.person (a household member's own progress, greeted by name)
    only to a skill whose manifest asks for the person id; the deployed manifest keeps it."""
    permissions = rendered["manifest"]["permissions"]
    assert {"name": "alexa::person_id:read"} in permissions
    names = [permission["name"] for permission in permissions]
    assert len(names) == len(set(names)), "each permission once"


# --------------------------------------------------------------------------- example phrases


def _key(text: str) -> str:
    """Comparison key: case-insensitive, punctuation but apostrophes dropped, spaces collapsed."""
    return " ".join(re.sub(r"[^\w'{} ]", " ", text.lower()).split())


def _slot_pattern(model: dict[str, Any], slot_type: str) -> str:
    """Regex for what can fill a slot: the custom type's values and synonyms, else any words."""
    for declared in model.get("types", []):
        if declared["name"] == slot_type:
            words = []
            for value in declared["values"]:
                words.append(value["name"]["value"])
                words.extend(value["name"].get("synonyms", []))
            return "(?:" + "|".join(re.escape(_key(word)) for word in words) + ")"
    return r"(?:[\w']+(?: [\w']+)*)"


def _sample_matchers(model: dict[str, Any]) -> list[tuple[str, re.Pattern[str]]]:
    """(intent, regex) for every sample; {slot} references become their slot's values."""
    matchers = []
    for intent in model["intents"]:
        slot_types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            parts = re.split(r"(\{\w+\})", _key(sample))
            pattern = "".join(
                _slot_pattern(model, slot_types[part[1:-1]])
                if part.startswith("{") and part[1:-1] in slot_types
                else re.escape(part)
                for part in parts
            )
            matchers.append((intent["name"], re.compile(f"^{pattern}$")))
    return matchers


def _phrase_request(phrase: str, invocation: str) -> tuple[str, list[str]] | None:
    """("launch", []) or ("intent", candidate utterances) for an example phrase; None if malformed.

    "Alexa, open foot routine" is a launch; "Alexa, ask foot routine to start my foot routine" and
    "Alexa, ask foot routine how many are left" carry an utterance after the invocation name
    (with or without a connecting word such as "to").
    """
    key = _key(phrase)
    name = re.escape(_key(invocation))
    if re.fullmatch(rf"alexa (?:open|launch|start|begin|load|play|use) {name}", key):
        return "launch", []
    match = re.fullmatch(rf"alexa (?:ask|tell) {name} (?P<rest>.+)", key)
    if not match:
        match = re.fullmatch(
            rf"alexa (?:open|launch|start|begin|use) {name} (?:and|to) (?P<rest>.+)", key
        )
        if not match:
            return None
        return "intent", [match.group("rest")]
    rest = match.group("rest")
    connector = re.fullmatch(r"(?:to|for|about|whether|if|and) (?P<tail>.+)", rest)
    return "intent", [connector.group("tail"), rest] if connector else [rest]


@pytest.mark.parametrize("model_path", _model_paths(), ids=lambda path: path.stem)
def test_example_phrases_match_the_model(model_path: Path, rendered: dict[str, Any]) -> None:
    model = _language_model(model_path)
    invocation = model["invocationName"]
    matchers = _sample_matchers(model)
    text = rendered["manifest"]["publishingInformation"]["locales"][model_path.stem]
    phrases = text["examplePhrases"]
    first = _phrase_request(phrases[0], invocation)
    assert first is not None, f"first example phrase must name the skill: {phrases[0]!r}"
    for phrase in phrases:
        parsed = _phrase_request(phrase, invocation)
        assert parsed is not None, f"{phrase!r} does not start with 'Alexa, open/ask {invocation}'"
        kind, utterances = parsed
        if kind == "launch":
            continue
        routed = {
            intent for utterance in utterances for intent, rule in matchers if rule.match(utterance)
        }
        assert routed, (
            f"{phrase!r}: none of {utterances} is a sample utterance of {model_path.name}"
        )


def test_phrase_parser_rejects_what_alexa_would_not_route() -> None:
    """Guard the guard: a phrase without the invocation name is not accepted as launch."""
    assert _phrase_request("Alexa, open foot routine", "foot routine") == ("launch", [])
    assert _phrase_request("Alexa, start my foot routine", "foot routine") is None
    assert _phrase_request("Alexa, ask foot routine to go", "foot routine") == (
        "intent",
        ["go", "to go"],
    )


# --------------------------------------------------------------------------- locales


def _intent_shape(model: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        intent["name"]: sorted((slot["name"], slot["type"]) for slot in intent.get("slots", []))
        for intent in model["intents"]
    }


def test_every_locale_has_the_same_intents() -> None:
    """The code serves all locales with one set of handlers, so the intents must agree."""
    paths = _model_paths()
    assert paths, "interaction_model/ has no <locale>.json"
    reference = _intent_shape(_language_model(paths[0]))
    for path in paths[1:]:
        assert _intent_shape(_language_model(path)) == reference, f"{path.name} vs {paths[0].name}"


def test_manifest_publishes_exactly_the_model_locales(rendered: dict[str, Any]) -> None:
    published = set(rendered["manifest"]["publishingInformation"]["locales"])
    assert published == set(skill_package.model_locales(MODEL_DIR))


# --------------------------------------------------------------------------- the assembler


def test_assembled_package_has_the_ask_cli_layout(tmp_path: Path) -> None:
    output = tmp_path / "skill-package"
    skill_package.assemble(output, skill_package.Endpoint(LAMBDA_ARN))
    manifest = json.loads((output / "skill.json").read_text(encoding="utf-8"))
    for path in _model_paths():
        copied = output / "interactionModels" / "custom" / path.name
        assert copied.read_bytes() == path.read_bytes(), "the package must be an exact copy"
    custom = manifest["manifest"]["apis"]["custom"]
    assert custom["endpoint"] == {"uri": LAMBDA_ARN}
    assert manifest["manifest"]["events"]["endpoint"] == {"uri": LAMBDA_ARN}
    assert skill_package.PLACEHOLDER not in (output / "skill.json").read_text(encoding="utf-8")


def test_https_endpoint_variant_carries_the_certificate_type(tmp_path: Path) -> None:
    endpoint = skill_package.endpoint_from_args(None, HTTPS_URL, "Wildcard")
    skill_package.assemble(tmp_path, endpoint)
    manifest = json.loads((tmp_path / "skill.json").read_text(encoding="utf-8"))["manifest"]
    expected = {"uri": HTTPS_URL, "sslCertificateType": "Wildcard"}
    assert manifest["apis"]["custom"]["endpoint"] == expected
    assert manifest["events"]["endpoint"] == expected


def test_package_without_endpoint_is_for_creating_the_skill(tmp_path: Path) -> None:
    skill_package.assemble(tmp_path, None)
    manifest = json.loads((tmp_path / "skill.json").read_text(encoding="utf-8"))["manifest"]
    assert "endpoint" not in manifest["apis"]["custom"]
    assert "events" not in manifest, "event subscriptions need an endpoint"


@pytest.mark.parametrize(
    ("uri", "certificate"),
    [
        ("http://insecure.example.org/alexa", "Trusted"),
        ("arn:aws:s3:::bucket", None),
        (HTTPS_URL, None),
        (LAMBDA_ARN, "Trusted"),
    ],
)
def test_bad_endpoints_are_refused(uri: str, certificate: str | None) -> None:
    with pytest.raises(skill_package.PackageError):
        skill_package.Endpoint(uri, certificate)


def test_new_english_locale_is_picked_up_and_stale_ones_removed(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(MODEL_DIR / "en-US.json", models / "en-US.json")
    shutil.copyfile(MODEL_DIR / "en-US.json", models / "en-GB.json")
    output = tmp_path / "package"
    skill_package.assemble(output, skill_package.Endpoint(LAMBDA_ARN), model_dir=models)
    manifest = json.loads((output / "skill.json").read_text(encoding="utf-8"))["manifest"]
    publishing = manifest["publishingInformation"]
    assert set(publishing["locales"]) == {"en-US", "en-GB"}
    assert "GB" in publishing["distributionCountries"]
    assert (output / "interactionModels" / "custom" / "en-GB.json").is_file()

    (models / "en-GB.json").unlink()
    skill_package.assemble(output, skill_package.Endpoint(LAMBDA_ARN), model_dir=models)
    assert not (output / "interactionModels" / "custom" / "en-GB.json").exists()


def test_generated_package_is_git_ignored_and_used_by_ask_cli() -> None:
    """One source of truth: the assembled folder is never committed."""
    ignored = (INFRA / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/skill-package/" in ignored
    assert "/.ask/" in ignored
    assert skill_package.DEFAULT_OUTPUT == INFRA / "skill-package"
    resources = json.loads((INFRA / "ask-resources.json").read_text(encoding="utf-8"))
    for profile in resources["profiles"].values():
        assert (INFRA / profile["skillMetadata"]["src"]).resolve() == skill_package.DEFAULT_OUTPUT


def test_cli_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = skill_package.main(["--output", str(tmp_path), "--lambda-arn", LAMBDA_ARN])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "skill.json").is_file()
    assert skill_package.main(["--output", str(tmp_path), "--lambda-arn", "nope"]) == 2


# --------------------------------------------------------------------------- deploy helper


def test_deploy_helpers_read_samconfig_and_stack_outputs(tmp_path: Path) -> None:
    """The offline parts of `make deploy` (the rest needs AWS and is never run here)."""
    settings = deploy.deploy_settings("dev")
    assert settings["stack_name"] == "foot-routine-dev"
    assert deploy.deploy_settings("prod")["stack_name"] == "foot-routine-prod"
    overrides = deploy.parse_overrides(settings["parameter_overrides"])
    assert overrides["Stage"] == "dev"
    assert deploy.format_overrides({"SkillId": "amzn1.ask.skill.x", "Stage": "dev"}) == (
        'SkillId="amzn1.ask.skill.x" Stage="dev"'
    )
    outputs = [
        {"OutputKey": "ProgressTableName", "OutputValue": "table"},
        {"OutputKey": deploy.ARN_OUTPUT, "OutputValue": LAMBDA_ARN},
    ]
    assert deploy.function_arn(outputs) == LAMBDA_ARN
    with pytest.raises(deploy.DeployError):
        deploy.function_arn(outputs[:1])

    states = tmp_path / "ask-states.json"
    assert deploy.skill_id_from_states("default", states) is None
    states.write_text(
        json.dumps({"askcliStatesVersion": "2020-03-31", "profiles": {"default": {"skillId": "S"}}})
    )
    assert deploy.skill_id_from_states("default", states) == "S"
    assert "ask deploy" in deploy.next_steps("S", "default", "dev")
