"""Content files: they load, they validate with useful errors, and they are our words."""

from __future__ import annotations

import copy
import re
import string
import sys
from pathlib import Path

import pytest
import yaml

from skill.content.routine import load_content, load_routine, parse_routine, routine_for
from skill.content.texts import available_locales, load_texts
from skill.content.yamlfile import ContentError, load_yaml
from skill.conversation.coach import coach_for
from tests.child_process import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
ROUTINE_FILE = REPO / "skill" / "content" / "routine.yaml"
ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "foot-exercises-article.txt"
RAW = load_yaml(ROUTINE_FILE)


def test_routine_has_the_five_exercises_in_order():
    ids = [exercise.id for exercise in load_routine().exercises]
    assert ids == ["toe_presses", "toe_walking", "ankle_circles", "resisted_flexion",
                   "toe_pencil_pickups"]


def test_facts_from_the_source_are_kept():
    routine = {exercise.id: exercise for exercise in load_routine().exercises}
    assert routine["toe_presses"].sets[0].reps == 10
    walk = routine["toe_walking"].sets[0]
    assert (walk.reps, walk.hold, walk.rest) == (6, 20, 15)
    assert [s.side for s in routine["ankle_circles"].sets] == ["left", "left", "right", "right"]
    assert all(s.reps == 10 for s in routine["ankle_circles"].sets)
    flex = routine["resisted_flexion"].sets[0]
    assert (flex.reps, flex.hold) == (10, 5)
    assert {(s.side, s.reps, s.hold) for s in routine["toe_pencil_pickups"].sets} == {
        ("left", 5, 10), ("right", 5, 10)}


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda raw: raw["exercises"][1].pop("name"), "exercise 2 (toe_walking): missing field 'name'"),
        (lambda raw: raw["exercises"][0]["sets"][0].update(reps="ten"), "toe_presses) set 1: field 'reps'"),
        (lambda raw: raw["exercises"][2]["sets"][1].update(side="middle"), "ankle_circles) set 2: field 'side'"),
        (lambda raw: raw["exercises"][3].update(sets=[]), "resisted_flexion): field 'sets' must not be empty"),
        (lambda raw: raw["exercises"].append(copy.deepcopy(raw["exercises"][0])), "appears twice"),
        (lambda raw: raw["exercises"][3].pop("seated"),
         "exercise 4 (resisted_flexion): 'uses_floor' needs a 'seated' version"),
        (lambda raw: raw["exercises"][0].update(seated=raw["exercises"][3]["seated"]),
         "exercise 1 (toe_presses): a 'seated' version is for exercises that have 'uses_floor"),
        (lambda raw: raw["exercises"][3]["equipment"][0]["substitute"].pop("seated_setup"),
         "exercise 4 (resisted_flexion) equipment 1 (band): substitute: the exercise has a"),
        (lambda raw: raw["exercises"][4]["sets"][0].update(instruction="Grip the {chair}."),
         "toe_pencil_pickups) set 1: field 'instruction' names ['chair']"),
        (lambda raw: raw["exercises"][4]["sets"][1].pop("hold_cue"),
         "toe_pencil_pickups) set 2: 'lead_in' and 'hold_cue' go together"),
        (lambda raw: raw["exercises"][1]["equipment"].extend(
            copy.deepcopy(raw["exercises"][0]["equipment"] + raw["exercises"][4]["equipment"])),
         "exercise 2 (toe_walking): only one item of an exercise may have a substitute"),
        (lambda raw: raw["levels"][2]["exercises"].update(toe_jumps={"reps": 1.2}),
         "level 3 (harder): no exercise 'toe_jumps' to override"),
        (lambda raw: raw["levels"][0].update(reps=0.2),
         "level 1 (easier): field 'reps' must be at least 0.5"),
        (lambda raw: raw["levels"][2]["exercises"].update(toe_walking={"hold": 2.0}),
         "level harder: toe_walking set 1: a 40 s hold, outside 2-30 s"),
        (lambda raw: raw["levels"][2]["exercises"].update(ankle_circles={"reps": 2.0})
         or raw["exercises"][2]["sets"][0].update(reps=12),
         "level harder: ankle_circles set 1: 24 reps, outside 1-20"),
        (lambda raw: raw["levels"][2]["exercises"].update(toe_pencil_pickups={"hold": 2.0})
         or raw["exercises"][4]["sets"][0].update(hold=12),
         "level harder: toe_pencil_pickups set 1: 'count_hold' is for holds of 20 seconds"),
        (lambda raw: raw["levels"][0].update(reps=0.5, hold=0.5)
         or raw["exercises"][0]["sets"][0].update(hold=2),
         "level easier: toe_presses set 1: a 1 s hold, outside 2-30 s"),
        (lambda raw: raw.update(default_level="hardest"), "default_level 'hardest' is not one"),
        (lambda raw: raw["pace"].update(steps=[0.5, 1.0]), "pace: 'steps' must rise, each from 0.75"),
        (lambda raw: raw["pace"].update(default=1.1), "pace: the default 1.1 must be one of"),
        (lambda raw: raw["short"].update(exercises=["toe_presses", "toe_jumps"]),
         "short: 'exercises' must name exercises of the routine"),
        (lambda raw: raw["short"]["streak"].update(min_share_done=0.3),
         "short: streak: field 'min_share_done' must be at least 0.5"),
        (lambda raw: raw["safety"].pop("dizzy"), "safety: missing field 'dizzy'"),
    ],
)
def test_bad_content_names_file_exercise_and_field(mutate, message):
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(ContentError) as error:
        parse_routine(raw, "routine.yaml")
    assert "routine.yaml" in str(error.value) and message in str(error.value)


def test_unreadable_yaml_names_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("exercises: [unclosed")
    with pytest.raises(ContentError, match="broken.yaml"):
        load_yaml(broken)


def _sentences(text: str) -> set[str]:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return {part.strip().lower() for part in parts if len(part.split()) >= 6}


def test_no_sentence_is_copied_from_the_article():
    if not ARTICLE.exists():
        # Without the article this check proves nothing: CI must not pass it by skipping.
        skip_or_fail(f"source article not found at {ARTICLE}")
    article = _sentences(ARTICLE.read_text(encoding="utf-8"))
    ours = set()
    for path in (REPO / "skill" / "content").rglob("*.yaml"):
        ours |= _sentences(path.read_text(encoding="utf-8"))
    assert not ours & article


def test_unsafe_source_instructions_are_corrected_and_say_so():
    text = ROUTINE_FILE.read_text(encoding="utf-8")
    assert "over the" in text and "SAFETY" in text
    ankles = next(e for e in load_routine().exercises if e.id == "ankle_circles")
    assert "over the head" not in ankles.setup and "sit" in ankles.setup.lower()


def test_every_locale_has_every_prompt_with_the_same_fields():
    base = load_texts("en-US")
    for locale in available_locales():
        texts = load_texts(locale)
        assert set(texts.lines) == set(base.lines)
        coach_for(locale)  # compiles every step: a missing field would raise here


def test_unknown_locale_falls_back_to_en_us():
    assert load_texts("fr-FR").locale == "en-US"


def test_compiled_snapshot_matches_the_yaml():
    from skill.content.yamlfile import main

    assert main(["--check"]) == 0, "run `make content` after editing skill/content/*.yaml"


def test_content_is_read_from_the_snapshot_only_while_the_yaml_is_unchanged(tmp_path, monkeypatch):
    from skill.content import yamlfile

    copy = tmp_path / "content"
    copy.mkdir()
    (copy / "note.yaml").write_text("lines: {hello: Hi}\n")
    monkeypatch.setattr(yamlfile, "CONTENT_DIR", copy)
    snapshot = yamlfile.compile_snapshot()
    monkeypatch.setattr(yamlfile, "_snapshot", lambda: snapshot)
    assert yamlfile.load_yaml(copy / "note.yaml") == {"lines": {"hello": "Hi"}}
    (copy / "note.yaml").write_text("lines: {hello: Hello again}\n")
    assert yamlfile.load_yaml(copy / "note.yaml") == {"lines": {"hello": "Hello again"}}


# --------------------------------------------------------------------------- substitutes


def _fields(template):
    return {name for _, name, _, _ in string.Formatter().parse(template or "") if name}


def _exercise(routine, exercise_id):
    return routine.exercises[routine.index_of(exercise_id)]


def test_every_item_has_a_substitute_and_every_floor_exercise_a_seated_version():
    for exercise in load_routine().exercises:
        for item in exercise.items:
            assert item.substitute is not None, (exercise.id, item.id)
        assert exercise.uses_floor == (exercise.seated is not None), exercise.id
    assert _exercise(load_routine(), "resisted_flexion").uses_floor


def test_equipment_ids_are_the_equipment_slot_values():
    sys.path.insert(0, str(REPO / "infrastructure"))
    import locales

    ids = {item.id for item in load_routine().items()}
    assert ids == {"chair", "band", "pencil"}
    assert ids == {value["id"] for value in locales.equipment_type(load_routine())["values"]}


def test_a_missing_band_or_pencil_gets_its_substitute_with_its_own_words():
    routine = routine_for(missing={"band", "pencil"})
    flexion = _exercise(routine, "resisted_flexion")
    assert flexion.equipment == ("a long scarf or a towel",)
    assert "scarf" in flexion.setup and "band feels gently tight" not in flexion.setup
    assert flexion.substituted == {"band"} and not flexion.lacking({"band", "pencil"})
    pickups = _exercise(routine, "toe_pencil_pickups")
    assert pickups.equipment == ("a rolled-up sock or a small towel",)
    assert "sock or towel" in pickups.sets[0].instruction
    assert "pencil" not in pickups.sets[0].rep_cue
    written = _exercise(load_routine(), "toe_pencil_pickups")
    assert written.sets[0].rep_cue == "Grip the pencil."


def test_seated_version_replaces_the_floor_set_up_and_combines_with_a_substitute():
    seated = _exercise(routine_for(seated=True), "resisted_flexion")
    assert seated.seated_version and "floor with your legs" not in seated.setup
    assert "chair" in seated.setup and "bed" in seated.setup and "band" in seated.setup
    assert seated.cautions != _exercise(load_routine(), "resisted_flexion").cautions
    both = _exercise(routine_for(seated=True, missing={"band"}), "resisted_flexion")
    assert "scarf" in both.setup and "chair" in both.setup
    # Exercises off the floor are the same seated or not.
    assert _exercise(routine_for(seated=True), "toe_walking") == _exercise(
        load_routine(), "toe_walking")


def test_an_item_without_a_substitute_is_lacking_so_the_exercise_is_skipped(tmp_path):
    raw = copy.deepcopy(RAW)
    raw["exercises"][4]["equipment"] = ["a pencil or pen"]
    path = tmp_path / "routine.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    pickups = _exercise(routine_for(missing={"pencil"}, path=path), "toe_pencil_pickups")
    assert [item.id for item in pickups.lacking({"pencil"})] == ["pencil"]
    assert pickups.substituted == frozenset()


def test_no_variant_leaves_a_placeholder_or_an_unpunctuated_sentence():
    content = load_content()
    for seated in (False, True):
        for missing in ((), ("chair",), ("band", "pencil"), ("chair", "band", "pencil")):
            routine = routine_for(seated=seated, missing=missing)
            for exercise in routine.exercises:
                texts = [exercise.setup, exercise.benefit, *exercise.cautions]
                for s in exercise.sets:
                    texts += [t for t in (s.instruction, s.hold_cue, s.release) if t]
                    assert _fields(s.rep_cue) <= {"rep", "reps"}, (exercise.id, s.rep_cue)
                for text in texts:
                    assert "{" not in text and text.rstrip()[-1] in ".!?", (exercise.id, text)
    safety = content.safety
    for text in (safety.cramp, safety.dizzy, safety.pain_check, safety.pain_still,
                 safety.pain_better, content.kind("short").intro):
        assert text.rstrip()[-1] in ".!?"


# --------------------------------------------------------------------------- safety words


def test_cramp_advice_agrees_with_the_pencil_exercises_own_caution():
    cramp = load_content().safety.cramp.lower()
    caution = _exercise(load_routine(), "toe_pencil_pickups").cautions[0].lower()
    for advice in ("put", "rest it", "carry on", "ease"):
        assert advice in cramp and advice in caution, advice
    assert "doctor" not in cramp  # a cramp is not a reason to send someone to a doctor


def test_dizziness_and_pain_words_say_stop_sit_get_help_and_see_a_doctor():
    safety = load_content().safety
    dizzy = safety.dizzy.lower()
    for advice in ("stop", "sit down", "fall", "help", "doctor"):
        assert advice in dizzy, advice
    assert "doctor" in safety.pain_still.lower()
    assert "hurt" in safety.pain_check.lower() and "stop" in safety.pain_better.lower()


# --------------------------------------------------------------------------- streak, pace, time


@pytest.mark.parametrize(
    "done,counts",
    [
        (("toe_presses", "ankle_circles"), False),  # a go-to plus one exercise
        (("toe_presses", "toe_walking", "ankle_circles"), False),
        (("toe_presses", "toe_walking", "ankle_circles", "resisted_flexion"), True),
        (("toe_walking", "ankle_circles", "resisted_flexion", "toe_pencil_pickups"), True),
        (("toe_presses", "toe_walking", "ankle_circles", "gone_exercise"), False),
    ],
)
def test_a_routine_counts_only_when_most_of_it_was_done(done, counts):
    routine = load_routine()
    assert routine.streak.needed(len(routine.exercises)) == 4
    assert routine.counts(done) is counts


def test_pace_steps_stretch_rests_and_counts_but_never_holds():
    pace = load_content().pace
    assert pace.default == 1.0 and pace.steps[0] >= 0.75 and pace.steps[-1] <= 1.5
    assert pace.slower(1.0) == 1.25 and pace.faster(1.0) == 0.75
    assert pace.slower(pace.steps[-1]) is None and pace.faster(pace.steps[0]) is None
    assert pace.nearest(None) == 1.0 and pace.nearest(9.0) == pace.steps[-1]
    slow, normal = routine_for(pace=1.5), load_routine()
    for slow_exercise, exercise in zip(slow.exercises, normal.exercises, strict=True):
        for slow_set, written in zip(slow_exercise.sets, exercise.sets, strict=True):
            assert slow_set.hold == written.hold and slow_set.reps == written.reps
            assert slow_set.rest == pytest.approx(written.rest * 1.5)
            assert slow_set.pace == pytest.approx(written.pace * 1.5)
            assert slow_set.lead_in == pytest.approx(written.lead_in * 1.5)
    assert routine_for(pace=1.26) is routine_for(pace=1.25)


def test_time_estimates_come_from_the_timings():
    routine = load_routine()
    assert routine.minutes == 20  # the article's "20 minutes", from our own timings
    seconds = [routine.seconds_from(index) for index in range(len(routine.exercises) + 1)]
    assert seconds == sorted(seconds, reverse=True) and seconds[-1] == 0
    pickups = _exercise(routine, "toe_pencil_pickups").sets[0]
    # cue, lead-in, "lift", a 10 s hold, the release, the rest
    assert pickups.rep_seconds(routine.cue_seconds) == 3 * 1.5 + 3 + 10 + 3


# --------------------------------------------------------------------------- prompts


def test_prompts_take_counts_and_equipment_from_the_routine():
    raw_lines = load_yaml(REPO / "skill" / "content" / "strings" / "en.yaml")["lines"]
    for key in ("welcome_first", "help_idle"):
        assert not re.search(r"\b(5|five|band|pencil|chair)\b", raw_lines[key]), key
    texts = load_texts("en-GB")
    welcome = texts.line("welcome_first", minutes=20)
    assert "5 exercises" in welcome
    assert "a sturdy chair, an exercise band and a pencil or pen" in welcome
    assert "five foot exercises" in texts.line("help_idle")


def test_plural_prompts_never_say_one_times():
    texts = load_texts("en-US")
    assert texts.plural("streak_total", 1, times=1) == "You've finished the routine once so far."
    assert "3 times" in texts.plural("streak_total", 3, times=3)
    assert texts.plural("week_days", 1, days="one") != texts.plural("week_days", 2, days="two")


# Prompts that are words inside other prompts, titles or labels: not sentences.
FRAGMENTS = {"and", "that_one", "side_left", "side_right", "am", "pm", "clock_on_the_hour",
             "clock_time", "card_title", "screen_position", "screen_next",
             "screen_repeat", "screen_no_equipment", "week_card_title", "week_card"}


def test_every_spoken_prompt_ends_its_sentence():
    """Sentences that run together ("five And let go") read badly on a card and a screen."""
    for key, line in load_texts("en-US").lines.items():
        if key in FRAGMENTS:
            continue
        # A prompt may end with a field that is itself a sentence ({text}, {benefit}).
        assert line.rstrip()[-1] in ".!?" or re.search(r"\{\w+\}$", line), key
    assert load_texts().line("count", number="five") == "five."
