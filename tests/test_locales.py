"""The five English locales: one set of intents, one set of prompt keys, en-US as the fallback.

en-US.json is hand-written and infrastructure/locales.py generates the other models from it;
prompts are a shared English base with small per-locale overrides. These tests keep the locales
from drifting apart, since one set of handlers serves them all.
"""

from __future__ import annotations

import copy
import json
import shutil
import string
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill import lambda_function
from skill.content.routine import ROUTINE_FILE, load_routine
from skill.content.texts import BASE, DEFAULT_LOCALE, STRINGS_DIR, available_locales, load_texts
from skill.content.yamlfile import load_yaml
from skill.tools.envelopes import Device
from skill.tools.nlu import Resolved, Resolver, model_path
from tests.conversation import Conversation
from tests.template_loader import REPO_ROOT

# The generator is a script in infrastructure/, not an installed package.
sys.path.insert(0, str(REPO_ROOT / "infrastructure"))
import locales

ENGLISH = ("en-AU", "en-CA", "en-GB", "en-IN", "en-US")
MODEL_DIR = REPO_ROOT / "interaction_model"


def _language_model(locale: str) -> dict[str, Any]:
    path = MODEL_DIR / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --------------------------------------------------------------------------- which locales


def test_models_and_prompts_cover_the_same_english_locales() -> None:
    assert tuple(sorted(path.stem for path in MODEL_DIR.glob("*.json"))) == ENGLISH
    assert available_locales() == ENGLISH


# --------------------------------------------------------------------------- prompts


@pytest.mark.parametrize("locale", ENGLISH)
def test_every_prompt_key_exists_for_every_locale(locale: str) -> None:
    texts, us = load_texts(locale), load_texts(DEFAULT_LOCALE)
    assert texts.locale == locale
    assert set(texts.lines) == set(us.lines)
    assert {key: _fields(line) for key, line in texts.lines.items()} == {
        key: _fields(line) for key, line in us.lines.items()
    }
    assert len(texts.numbers) == len(us.numbers)


@pytest.mark.parametrize("locale", [loc for loc in ENGLISH if loc != DEFAULT_LOCALE])
def test_overrides_are_few_and_real(locale: str) -> None:
    """An override that repeats the base, or a locale file that rewrites everything, is noise."""
    base = load_yaml(STRINGS_DIR / f"{BASE}.yaml")["lines"]
    overrides = load_yaml(STRINGS_DIR / f"{locale}.yaml").get("lines", {})
    assert [key for key, text in overrides.items() if text == base[key]] == []
    assert len(overrides) <= len(base) // 4


def test_physiotherapist_outside_the_us() -> None:
    assert "physical therapist" in load_texts("en-US").line("pain")
    for locale in ("en-GB", "en-CA", "en-AU", "en-IN"):
        texts = load_texts(locale)
        assert "physiotherapist" in texts.line("pain"), locale
        assert "physiotherapist" in texts.line("disclaimer_full"), locale


@pytest.mark.parametrize("locale", ["xx-YY", "fr-FR", "en-NZ", "", "en_GB"])
def test_unsupported_locale_falls_back_to_en_us(locale: str) -> None:
    assert load_texts(locale).locale == DEFAULT_LOCALE


def test_prompts_are_loaded_once_and_read_only() -> None:
    texts = load_texts("en-GB")
    assert load_texts("en-GB") is texts
    with pytest.raises(TypeError):
        texts.lines["finished"] = "changed"  # type: ignore[index]
    with pytest.raises(AttributeError):  # a read-only field
        texts.locale = "en-US"  # type: ignore[misc]
    assert isinstance(texts.numbers, tuple)


@pytest.mark.parametrize(
    ("locale", "expected", "unexpected"),
    [
        ("en-GB", "physiotherapist", "physical therapist"),
        ("en-IN", "physiotherapist", "physical therapist"),
        ("en-US", "physical therapist", "physiotherapist"),
        ("de-DE", "physical therapist", "physiotherapist"),
    ],
)
def test_request_locale_chooses_the_prompts(
    use_store: Any, store: Any, locale: str, expected: str, unexpected: str
) -> None:
    """The prompts follow `request.locale` of each request; an unknown one gets en-US."""
    use_store(store)
    heard = Conversation(lambda_function.handler, Device(locale=locale)).say("PainIntent")
    assert expected in heard.text
    assert unexpected not in heard.text


# --------------------------------------------------------------------------- voice models


def _shape(model: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        intent["name"]: sorted((slot["name"], slot["type"]) for slot in intent.get("slots", []))
        for intent in model["intents"]
    }


def _slot_values(model: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        slot_type["name"]: [(v["id"], v["name"]["value"]) for v in slot_type["values"]]
        for slot_type in model["types"]
    }


@pytest.mark.parametrize("locale", ENGLISH)
def test_every_model_has_the_same_intents_slots_and_exercise_ids(locale: str) -> None:
    model, us = _language_model(locale), _language_model(DEFAULT_LOCALE)
    assert model["invocationName"] == us["invocationName"]
    assert _shape(model) == _shape(us)
    assert _slot_values(model) == _slot_values(us)
    assert {v[0] for v in _slot_values(model)["EXERCISE_NAME"]} == {
        v[0] for v in _slot_values(us)["EXERCISE_NAME"]
    }


@pytest.mark.parametrize("locale", ENGLISH)
def test_every_model_keeps_all_en_us_samples(locale: str) -> None:
    """Generated locales only add (or respell) samples; none of en-US's phrasing is lost."""
    model, us = _language_model(locale), _language_model(DEFAULT_LOCALE)
    samples = {i["name"]: set(i.get("samples", [])) for i in model["intents"]}
    rules = locales.LOCALES.get(locale, locales.LocaleRules())
    for intent in us["intents"]:
        expected = {locales._respell(s, rules.respell) for s in intent.get("samples", [])}
        assert expected <= samples[intent["name"]], (locale, intent["name"])


@pytest.mark.parametrize(
    ("locale", "utterance", "intent"),
    [
        ("en-GB", "I've got cramp", "CrampIntent"),
        ("en-GB", "it's sore", "PainIntent"),
        ("en-GB", "I'm knackered", "TiredIntent"),
        ("en-IN", "I feel giddy", "DizzyIntent"),
        ("en-IN", "completed", "SetDoneIntent"),
        ("en-GB", "just a tick", "AMAZON.PauseIntent"),
        ("en-GB", "go on then", "AMAZON.YesIntent"),
        ("en-AU", "yeah nah", "AMAZON.NoIntent"),
        ("en-AU", "it's sore", "PainIntent"),
        ("en-IN", "my foot is paining", "PainIntent"),
        ("en-IN", "let us start", "StartRoutineIntent"),
        ("en-IN", "one minute", "AMAZON.PauseIntent"),
    ],
)
def test_locale_phrasing_is_understood_there(locale: str, utterance: str, intent: str) -> None:
    assert Resolver.from_model_file(model_path(locale)).resolve(utterance) == Resolved(
        intent=intent, slots={}
    )


# --------------------------------------------------------------------------- the generator


def test_generated_models_match_en_us_and_the_routine() -> None:
    """Edit en-US.json, routine.yaml or the table in infrastructure/locales.py, then run
    `make content` (or the generator)."""
    assert locales.stale() == []
    assert locales.main(["--check"]) == 0


def test_check_reports_a_hand_edited_or_missing_model(tmp_path: Path) -> None:
    models = tmp_path / "interaction_model"
    shutil.copytree(MODEL_DIR, models)
    assert locales.stale(models) == []
    edited = json.loads((models / "en-GB.json").read_text(encoding="utf-8"))
    edited["interactionModel"]["languageModel"]["invocationName"] = "feet"
    (models / "en-GB.json").write_text(locales.render(edited), encoding="utf-8")
    (models / "en-AU.json").unlink()
    assert locales.stale(models) == ["en-AU.json", "en-GB.json"]
    locales.write(models, log=lambda line: None)
    assert locales.stale(models) == []


def test_generator_refuses_a_sample_in_two_intents() -> None:
    source = json.loads((MODEL_DIR / "en-US.json").read_text(encoding="utf-8"))
    with pytest.raises(locales.LocaleError, match="already an en-US sample"):
        locales.localise(source, "en-GB", locales.LocaleRules(extra={"PainIntent": ("next",)}))
    clash = locales.LocaleRules(extra={"PainIntent": ("crikey",), "AMAZON.NoIntent": ("crikey",)})
    with pytest.raises(locales.LocaleError, match="two intents"):
        locales.localise(source, "en-AU", clash)
    with pytest.raises(locales.LocaleError, match="not in en-US"):
        locales.localise(source, "en-AU", locales.LocaleRules(extra={"NoSuchIntent": ("hi",)}))


def test_generator_respells_and_adds_variants() -> None:
    source = json.loads((MODEL_DIR / "en-US.json").read_text(encoding="utf-8"))
    intents = source["interactionModel"]["languageModel"]["intents"]
    help_intent = next(i for i in intents if i["name"] == "AMAZON.HelpIntent")
    help_intent["samples"] += ["ask my physical therapist", "circle counter clockwise"]
    model = locales.localise(source, "en-GB", locales.LOCALES["en-GB"])
    samples = next(
        i["samples"]
        for i in model["interactionModel"]["languageModel"]["intents"]
        if i["name"] == "AMAZON.HelpIntent"
    )
    assert "ask my physiotherapist" in samples
    assert "ask my physical therapist" not in samples
    assert {"circle counter clockwise", "circle anticlockwise"} <= set(samples)


def _routine_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of routine.yaml changed by `edit`, for generator tests that must not touch it.

    Each copy gets its own name: the routine loader caches by path.
    """
    data = copy.deepcopy(load_yaml(ROUTINE_FILE))
    edit(data)
    path = tmp_path / f"routine-{len(list(tmp_path.glob('routine-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _exercise(data: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    return next(e for e in data["exercises"] if e["id"] == exercise_id)


def test_a_routine_edit_makes_every_model_stale_until_regenerated(tmp_path: Path) -> None:
    """The routine is the single source of the exercise names every locale's model knows."""
    models = tmp_path / "interaction_model"
    shutil.copytree(MODEL_DIR, models)
    routine = _routine_copy(
        tmp_path, lambda data: _exercise(data, "ankle_circles")["synonyms"].append("foot circles")
    )
    assert locales.stale(models, routine) == [f"{locale}.json" for locale in sorted(ENGLISH)]
    locales.write(models, log=lambda line: None, routine_file=routine)
    assert locales.stale(models, routine) == []
    for locale in ENGLISH:
        heard = Resolver.from_model_file(models / f"{locale}.json").resolve("go to foot circles")
        assert heard is not None and heard.slots["exercise"].value_id == "ankle_circles", locale


def test_exercise_values_come_from_the_routine_with_their_places() -> None:
    routine = load_routine()
    values = locales.exercise_type(routine)["values"]
    assert [v["id"] for v in values] == [e.id for e in routine.exercises]
    for place, (value, exercise) in enumerate(zip(values, routine.exercises, strict=True)):
        assert value["name"]["value"] == exercise.name.lower()
        assert set(exercise.synonyms) <= set(value["name"]["synonyms"])
        assert "the " + ("first", "second", "third", "fourth", "fifth")[place] + " one" in (
            value["name"]["synonyms"]
        )
    assert "the last exercise" in values[-1]["name"]["synonyms"]


def test_equipment_values_name_each_thing_by_its_head_word(tmp_path: Path) -> None:
    routine = _routine_copy(
        tmp_path,
        lambda data: _exercise(data, "toe_walking")["equipment"].append("a foam roller or a ball"),
    )
    values = {v["id"]: v["name"] for v in locales.equipment_type(load_routine(routine))["values"]}
    assert values["roller"]["value"] == "foam roller"
    assert {"roller", "rollers", "foam rollers", "ball", "balls"} <= set(values["roller"]["synonyms"])
    assert {"pen", "pencils"} <= set(values["pencil"]["synonyms"])
    assert "resistance band" in values["band"]["synonyms"]


def test_generator_refuses_a_name_for_two_exercises_or_a_name_alexa_rejects(
    tmp_path: Path,
) -> None:
    twice = _routine_copy(
        tmp_path, lambda data: _exercise(data, "toe_walking")["synonyms"].append("toe press")
    )
    with pytest.raises(locales.LocaleError, match="'toe press' names both"):
        locales.exercise_type(load_routine(twice))
    digits = _routine_copy(
        tmp_path, lambda data: _exercise(data, "toe_walking")["synonyms"].append("walk 2")
    )
    with pytest.raises(locales.LocaleError, match="cannot be a slot value"):
        locales.exercise_type(load_routine(digits))


def test_spoken_names_for_equipment_must_be_equipment_of_the_routine(tmp_path: Path) -> None:
    without_band = _routine_copy(
        tmp_path, lambda data: _exercise(data, "resisted_flexion").update(equipment=[])
    )
    with pytest.raises(locales.LocaleError, match="does not use: \\['band'\\]"):
        locales.equipment_type(load_routine(without_band))
