"""Generate the interaction models: slot values from the routine, locales from en-US.

interaction_model/en-US.json is hand-written, except its content slot types: EXERCISE_NAME (each
exercise's name and synonyms from skill/content/routine.yaml, plus the places people name it by,
"the third one", "number three") and EQUIPMENT (the things the exercises need, as people name
them: "band", "pencil", "chair"). Those are written from the routine into every model, so a new
exercise or synonym is one YAML edit plus `make content`.

en-GB, en-CA, en-AU and en-IN are then written from en-US with a small per-locale table:
spellings the locale writes differently (Alexa transcribes speech in the locale's own spelling,
so a sample spelt the US way would never match), variants the locale adds beside the US word, and
a few extra samples people in that locale naturally say. Everything else (intents, slots, slot
value ids, the ``_nameFreeInteraction`` container) is copied unchanged, so the handlers serve
every locale alike.

    python infrastructure/locales.py           # rewrite the models (make content runs this)
    python infrastructure/locales.py --check   # exit 1 if any model is stale

It reads the routine through the skill's own loader (so the same validation applies), hence it
runs with the project's environment (.venv).
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
# Run as a script, this file's folder is on the path but the project may not be installed.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from skill.content.routine import ROUTINE_FILE, Routine, load_routine

MODEL_DIR = REPO_ROOT / "interaction_model"
SOURCE_LOCALE = "en-US"
EXERCISE_TYPE = "EXERCISE_NAME"
EQUIPMENT_TYPE = "EQUIPMENT"


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
_KNACKERED = ("i'm knackered", "i'm absolutely knackered")

LOCALES: dict[str, LocaleRules] = {
    "en-GB": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let's get cracking",),
            "NextExerciseIntent": ("crack on", "let's crack on"),
            "PainIntent": _SORE,
            "CrampIntent": _CRAMP,
            "DizzyIntent": ("i feel giddy", "i've had a fall"),
            "TiredIntent": (*_KNACKERED, "i'm shattered"),
            "AMAZON.PauseIntent": ("hang on a tick", "just a tick", "give me a tick"),
            "AMAZON.YesIntent": ("go on then", "yes go on", "righto"),
            "AMAZON.NoIntent": ("not just now",),
            "AMAZON.StopIntent": ("that'll do",),
        },
    ),
    # Canada keeps most US phrasing (and "counterclockwise"), but says physiotherapist.
    "en-CA": LocaleRules(respell=_PHYSIO),
    "en-AU": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let's get cracking", "let's get into it"),
            "PainIntent": _SORE,
            "CrampIntent": _CRAMP,
            "TiredIntent": (*_KNACKERED, "i'm stuffed"),
            "AMAZON.PauseIntent": ("hang on a tick", "just a tick"),
            "AMAZON.YesIntent": ("righto", "yeah righto"),
            # "Yeah nah" is an Australian "no".
            "AMAZON.NoIntent": ("yeah nah", "nah mate", "not just now"),
            "AMAZON.StopIntent": ("that'll do",),
        },
    ),
    # Indian English contracts less ("let us start"), says "one minute" for "wait", "giddy"
    # for dizzy, and describes pain as "paining" or "having pain".
    "en-IN": LocaleRules(
        respell=_SPELLING,
        variants=_ANTICLOCKWISE,
        extra={
            "StartRoutineIntent": ("let us start", "let us begin"),
            "NextExerciseIntent": ("let us move on",),
            "SetDoneIntent": ("completed", "i have completed it"),
            "PainIntent": ("it is paining", "my foot is paining", "i am having pain"),
            "DizzyIntent": ("i am feeling giddy", "i feel giddy"),
            "AMAZON.PauseIntent": ("one minute", "just one minute", "wait one minute"),
        },
    ),
}


# Places people name an exercise by: "exercise three", "the third one", "number three".
_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth", "eleventh", "twelfth")
# Names of equipment people use beyond the routine's own words, by equipment id. The routine
# says what is needed ("an exercise band"); people say what they have ("a resistance band").
EQUIPMENT_SPOKEN: Mapping[str, tuple[str, ...]] = {
    "band": ("resistance band", "elastic band", "stretchy band", "stretch band", "theraband"),
}
# What Alexa accepts as a slot value: lower-case words, apostrophes only inside a word.
_SLOT_VALUE = re.compile(r"[a-z]+(?:'[a-z]+)*(?: [a-z]+(?:'[a-z]+)*)*")
_ARTICLE = re.compile(r"^(?:a|an|the|some) ")


def _slot_form(text: str, where: str) -> str:
    """Content words as Alexa transcribes them: lower case, a hyphen heard as a space."""
    form = " ".join(text.lower().replace("-", " ").split())
    if not _SLOT_VALUE.fullmatch(form):
        raise LocaleError(f"{where}: {text!r} cannot be a slot value (letters and spaces only)")
    return form


def _distinct(forms: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(forms))


def _by_place(place: int, count: int) -> list[str]:
    """How people name the exercise at this place in the routine."""
    if place >= len(_NUMBERS):
        raise LocaleError(f"routine has {count} exercises; name places beyond {len(_NUMBERS)}")
    number, ordinal = _NUMBERS[place], _ORDINALS[place]
    forms = [f"exercise {number}", f"{ordinal} exercise", f"the {ordinal} exercise",
             f"{ordinal} one", f"the {ordinal} one", f"number {number}"]
    if place == count - 1 and count > 1:
        forms += ["last exercise", "the last exercise"]
    return forms


def _slot_type(name: str, values: dict[str, list[str]]) -> dict[str, Any]:
    """A custom slot type from {id: [canonical form, synonyms...]}; a form names one id only."""
    owner: dict[str, str] = {}
    for value_id, forms in values.items():
        for form in forms:
            if owner.setdefault(form, value_id) != value_id:
                raise LocaleError(f"{name}: {form!r} names both {owner[form]} and {value_id}")
    return {
        "name": name,
        "values": [
            {"id": value_id, "name": {"value": forms[0], "synonyms": forms[1:]}}
            for value_id, forms in values.items()
        ],
    }


def exercise_type(routine: Routine) -> dict[str, Any]:
    """EXERCISE_NAME: each exercise's name, its synonyms and its place, from the routine."""
    count = len(routine.exercises)
    return _slot_type(EXERCISE_TYPE, {
        exercise.id: _distinct([
            *(_slot_form(text, f"routine {exercise.id}")
              for text in (exercise.name, *exercise.synonyms)),
            *_by_place(place, count),
        ])
        for place, exercise in enumerate(routine.exercises)
    })


def _plural(phrase: str) -> str:
    if phrase.endswith(("s", "sh", "ch", "x", "z")):
        return phrase + "es"
    if phrase.endswith("y") and phrase[-2:-1] not in "aeiou":
        return phrase[:-1] + "ies"
    return phrase + "s"


def equipment_type(routine: Routine) -> dict[str, Any]:
    """EQUIPMENT: what the exercises need, by its head noun ("an exercise band" -> band).

    A routine entry may offer alternatives ("a pencil or pen"): all are forms of one item, named
    by the first. Singular and plural, with and without the describing word, are all forms.
    """
    values: dict[str, list[str]] = {}
    for exercise in routine.exercises:
        for needed in exercise.equipment:
            where = f"routine {exercise.id} equipment"
            choices = [_ARTICLE.sub("", _slot_form(part, where)) for part in needed.split(" or ")]
            item = choices[0].split()[-1]
            forms = values.setdefault(item, [choices[0]])
            for choice in choices:
                head = choice.split()[-1]
                forms += [choice, _plural(choice), head, _plural(head)]
    unknown = set(EQUIPMENT_SPOKEN) - values.keys()
    if unknown:
        raise LocaleError(f"spoken names for equipment the routine does not use: {sorted(unknown)}")
    for item, spoken in EQUIPMENT_SPOKEN.items():
        values[item] += [form for phrase in spoken for form in (phrase, _plural(phrase))]
    return _slot_type(EQUIPMENT_TYPE, {item: _distinct(forms) for item, forms in values.items()})


def with_content_types(source: dict[str, Any], routine: Routine) -> dict[str, Any]:
    """The model with its content slot types rewritten from the routine; other types kept."""
    model = copy.deepcopy(source)
    language_model = model["interactionModel"]["languageModel"]
    generated_types = {t["name"]: t for t in (exercise_type(routine), equipment_type(routine))}
    types = [generated_types.pop(t["name"], t) for t in language_model.get("types", [])]
    language_model["types"] = [*types, *generated_types.values()]
    return model


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


def generated(model_dir: Path = MODEL_DIR, routine_file: Path = ROUTINE_FILE) -> dict[Path, str]:
    """Every model file (en-US too, for its slot types) and the text it should have."""
    written = json.loads((model_dir / f"{SOURCE_LOCALE}.json").read_text(encoding="utf-8"))
    source = with_content_types(written, load_routine(routine_file))
    return {
        model_dir / f"{SOURCE_LOCALE}.json": render(source),
        **{
            model_dir / f"{locale}.json": render(localise(source, locale, rules))
            for locale, rules in LOCALES.items()
        },
    }


def stale(model_dir: Path = MODEL_DIR, routine_file: Path = ROUTINE_FILE) -> list[str]:
    """Models that are missing or differ from what en-US.json and the routine produce now."""
    return sorted(
        path.name
        for path, text in generated(model_dir, routine_file).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    )


def write(
    model_dir: Path = MODEL_DIR,
    log: Callable[[str], None] = print,
    routine_file: Path = ROUTINE_FILE,
) -> None:
    for path, text in generated(model_dir, routine_file).items():
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
                    f"out of date with {SOURCE_LOCALE}.json or the routine: "
                    f"{', '.join(out_of_date)}; "
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
