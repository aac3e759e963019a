"""Generate the other English interaction models from the hand-written en-US one.

interaction_model/en-US.json is the single source of truth. en-GB, en-CA, en-AU and en-IN are
written from it by this script, with a small per-locale table: spellings the locale writes
differently (Alexa transcribes speech in the locale's own spelling, so a sample spelt the US way
would never match), variants the locale adds beside the US word, and a few extra samples people
in that locale naturally say. Everything else (intents, slots, slot values and ids, the
``_nameFreeInteraction`` container) is copied unchanged, so the handlers serve every locale alike.

    python infrastructure/locales.py           # rewrite the generated models
    python infrastructure/locales.py --check   # exit 1 if any generated model is stale

Standard library only, like skill_package.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "interaction_model"
SOURCE_LOCALE = "en-US"


class LocaleError(ValueError):
    """The locale table would produce a model Alexa rejects or that routes a phrase twice."""


@dataclass(frozen=True)
class LocaleRules:
    """How one English locale differs from en-US in what people say."""

    # Replace the US form everywhere (samples, synonyms, name-free phrases): Alexa writes what
    # it hears in the locale's spelling, so the US form would never be transcribed there.
    respell: Mapping[str, str] = field(default_factory=dict)
    # Add the locale's form beside the US one: both are said, e.g. "anticlockwise".
    variants: Mapping[str, str] = field(default_factory=dict)
    # Samples only this locale needs, appended to the intent's samples.
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# Commonwealth spellings and words, for phrases a user could plausibly use with this skill.
# None occurs in en-US.json today; they are here so a sample added there later is carried over
# correctly ("ask my physical therapist" -> "physiotherapist" outside the US).
_PHYSIO = {"physical therapist": "physiotherapist", "physical therapy": "physiotherapy"}
_SPELLING = {"favorite": "favourite", "favorites": "favourites", **_PHYSIO}
_ANTICLOCKWISE = {"counter clockwise": "anticlockwise", "counterclockwise": "anticlockwise"}
# "I've got cramp" without the article is the British and Australian form.
_CRAMP = ("i've got cramp", "i've got cramp in my foot")
# "Sore" is the everyday word for pain in Britain and Australia; PainIntent is a safety stop,
# so it should rather catch too much than too little.
_SORE = ("it's sore", "that's sore", "my foot's sore")

LOCALES: dict[str, LocaleRules] = {
    "en-GB": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let's get cracking",),
            "NextExerciseIntent": ("crack on", "let's crack on"),
            "PainIntent": (*_CRAMP, *_SORE),
            "AMAZON.PauseIntent": ("hang on a tick", "just a tick", "give me a tick"),
            "AMAZON.YesIntent": ("go on then", "yes go on", "righto"),
            "AMAZON.NoIntent": ("not just now",),
            "AMAZON.StopIntent": ("that'll do", "that'll do for today"),
        },
    ),
    # Canada keeps most US phrasing (and "counterclockwise"), but says physiotherapist.
    "en-CA": LocaleRules(respell=_PHYSIO),
    "en-AU": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let's get cracking", "let's get into it"),
            "PainIntent": (*_CRAMP, *_SORE),
            "AMAZON.PauseIntent": ("hang on a tick", "just a tick"),
            "AMAZON.YesIntent": ("righto", "yeah righto"),
            # "Yeah nah" is an Australian "no".
            "AMAZON.NoIntent": ("yeah nah", "nah mate", "not just now"),
            "AMAZON.StopIntent": ("that'll do",),
        },
    ),
    # Indian English contracts less ("let us start"), says "one minute" for "wait", and
    # describes pain as "paining" or "having pain".
    "en-IN": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let us start", "let us begin"),
            "NextExerciseIntent": ("completed", "i have completed it", "let us move on"),
            "PainIntent": ("it is paining", "my foot is paining", "i am having pain"),
            "AMAZON.PauseIntent": ("one minute", "just one minute", "wait one minute"),
        },
    ),
}


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w']){re.escape(phrase)}(?![\w'])")


def _respell(text: str, table: Mapping[str, str]) -> str:
    for us, local in table.items():
        text = _phrase_pattern(us).sub(local, text)
    return text


def _with_variants(texts: Iterable[str], rules: LocaleRules) -> list[str]:
    """Respell each text, add its variant after it, and drop repeats (first one wins)."""
    out: list[str] = []
    for text in texts:
        text = _respell(text, rules.respell)
        for candidate in (text, _respell(text, rules.variants)):
            if candidate not in out:
                out.append(candidate)
    return out


def _key(sample: str) -> str:
    return " ".join(sample.lower().split())


def localise(source: dict[str, Any], locale: str, rules: LocaleRules) -> dict[str, Any]:
    """The en-US model rewritten for one locale; raises LocaleError on a routing conflict."""
    model = copy.deepcopy(source)
    language_model = model["interactionModel"]["languageModel"]
    intents = {intent["name"]: intent for intent in language_model["intents"]}
    unknown = set(rules.extra) - intents.keys()
    if unknown:
        raise LocaleError(f"{locale}: extra samples for intents not in en-US: {sorted(unknown)}")

    us_keys = {_key(s) for intent in intents.values() for s in intent.get("samples", [])}
    for name, intent in intents.items():
        if "samples" not in intent:
            continue
        samples = _with_variants(intent["samples"], rules)
        for extra in rules.extra.get(name, ()):
            if _key(extra) in us_keys:
                raise LocaleError(f"{locale}: {extra!r} is already an en-US sample; drop it")
            samples.append(extra)
        intent["samples"] = samples

    owners: dict[str, set[str]] = {}
    for name, intent in intents.items():
        for sample in intent.get("samples", []):
            owners.setdefault(_key(sample), set()).add(name)
    clashes = {sample: sorted(names) for sample, names in owners.items() if len(names) > 1}
    if clashes:
        raise LocaleError(f"{locale}: samples claimed by two intents: {clashes}")

    for slot_type in language_model.get("types", []):
        for value in slot_type.get("values", []):
            name = value["name"]
            if "synonyms" in name:
                # The canonical value stays as in en-US: the handlers resolve it to an exercise.
                forms = _with_variants(name["synonyms"], rules)
                name["synonyms"] = [form for form in forms if form != name["value"]]

    name_free = model["interactionModel"].get("_nameFreeInteraction")
    if name_free:
        for point in name_free.get("ingressPoints", []):
            for utterance in point.get("sampleUtterances", []):
                utterance["value"] = _respell(utterance["value"], rules.respell)
    return model


def render(model: dict[str, Any]) -> str:
    """The file text, formatted exactly like the hand-written en-US.json."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def generated(model_dir: Path = MODEL_DIR) -> dict[Path, str]:
    """Every generated model file and the text it should have."""
    source = json.loads((model_dir / f"{SOURCE_LOCALE}.json").read_text(encoding="utf-8"))
    return {
        model_dir / f"{locale}.json": render(localise(source, locale, rules))
        for locale, rules in LOCALES.items()
    }


def stale(model_dir: Path = MODEL_DIR) -> list[str]:
    """Generated models that are missing or differ from what en-US.json produces now."""
    return sorted(
        path.name
        for path, text in generated(model_dir).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    )


def write(model_dir: Path = MODEL_DIR, log: Callable[[str], None] = print) -> None:
    for path, text in generated(model_dir).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            log(f"wrote {path.relative_to(model_dir.parent)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a generated model is out of date"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            out_of_date = stale()
            if out_of_date:
                print(
                    f"out of date with {SOURCE_LOCALE}.json: {', '.join(out_of_date)}; "
                    "run python infrastructure/locales.py",
                    file=sys.stderr,
                )
                return 1
            return 0
        write()
    except LocaleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
