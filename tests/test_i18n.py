"""German feedback: gettext catalogs, complete for every message a student can read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO
from grader.catalog import find_course
from grader.cli import cli
from grader.i18n import (MESSAGE_MODULES, Translator, audit_exercise, audit_results, compile_po, detect_language, extract_messages,
                         missing_translations, po_path, read_po, skeleton)

GRADER = REPO / "grader"
#: Exercises whose check texts are translated in full; the others are a documented gap until
#: their authors add checks/<name>/de.po (and reference/<name>/de.po), then they are held to it too.
TRANSLATED = ("conv", "padding_stride", "callbacks", "basics", "batchnorm", "optimizers", "learner", "keypoints",
              "transforms", "siamese", "pooling", "one_cycle", "lr_find", "resnet", "unet", "cnn_learner",
              "fine_tune")
COURSE = find_course(REPO)


def _fields(text: str) -> list[str]:
    return sorted(re.findall(r"\{(\w*)\}", text))


def _all_catalogs() -> list[Path]:
    return [po_path("de"), *sorted(REPO.glob("checks/*/de.po")), *sorted(REPO.glob("reference/*/de.po"))]


@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "de_DE.UTF-8"}, "de"), ({"LANG": "de_AT.UTF-8"}, "de"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"), ({}, "en"), ({"LC_ALL": "de_DE.UTF-8", "LANG": "en_GB.UTF-8"}, "de"),
    ({"LC_ALL": "C", "LANG": "de_DE.UTF-8"}, "en"), ({"LANGUAGE": "de:en", "LANG": "C"}, "de")])
def test_language_comes_from_the_locale(environ, expected):
    assert detect_language(environ) == expected


@pytest.mark.parametrize("path", _all_catalogs(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_catalog_entry_is_translated_with_the_same_placeholders(path):
    entries = read_po(path.read_text(encoding="utf-8"), with_fuzzy=True)
    assert "charset=UTF-8" in entries.pop("")
    assert entries
    untranslated = [k for k, v in entries.items() if not v]
    assert not untranslated, f"{path}: no German for {untranslated}"
    assert read_po(path.read_text(encoding="utf-8")) == {"": read_po(path.read_text())[""], **entries}, "fuzzy entries"
    wrong = [k for k, v in entries.items() if _fields(k) != _fields(v)]
    assert not wrong, f"{path}: placeholders differ between msgid and msgstr: {wrong}"


def test_compiled_catalog_is_up_to_date_and_what_msgfmt_makes():
    import gettext

    po = po_path("de")
    mo = po.with_suffix(".mo")
    assert mo.read_bytes() == compile_po(read_po(po.read_text(encoding="utf-8"))), \
        "grader.mo is stale: run python -m grader.i18n compile"
    if shutil.which("msgfmt"):  # GNU gettext agrees with our compiler on every entry
        reference = subprocess.run(["msgfmt", "--check", "-o", "-", str(po)], capture_output=True, check=True).stdout
        import io

        ours = gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))._catalog  # type: ignore[attr-defined]
        theirs = gettext.GNUTranslations(io.BytesIO(reference))._catalog  # type: ignore[attr-defined]
        assert ours == theirs


def test_every_platform_message_has_a_german_translation():
    """Each message a student may read that the grader's code can produce, found in its source."""
    known = {skeleton(k) for k, v in read_po(po_path("de").read_text(encoding="utf-8")).items() if v}
    missing = [f"grader/{module}:{line}: {template}" for module in MESSAGE_MODULES
               for template, line in extract_messages(GRADER / module) if skeleton(template) not in known]
    assert not missing, ("messages without German (add them to grader/locale/de/LC_MESSAGES/grader.po, then run "
                         "python -m grader.i18n compile):\n" + "\n".join(missing))
    assert len({skeleton(t) for m in MESSAGE_MODULES for t, _ in extract_messages(GRADER / m)}) > 60


@pytest.mark.parametrize("name", sorted(COURSE.exercises()))
def test_every_check_text_of_an_exercise_has_german(name):
    exercise = COURSE.exercise(name)
    has_catalog = (exercise.public_checks / "de.po").is_file() or (exercise.reference / "de.po").is_file()
    if name not in TRANSLATED and not has_catalog:
        pytest.skip(f"documented gap: {name} has no German catalog yet (checks/{name}/de.po, reference/{name}/de.po)")
    missing = missing_translations(exercise)
    assert not missing, (f"{name}: texts without German (public ones belong in checks/{name}/de.po, which ships; "
                         f"hidden ones in reference/{name}/de.po):\n" + "\n".join(missing))


def test_translator_composes_sentences_and_leaves_tracebacks_alone():
    tr = Translator("de", COURSE.exercise("conv"))
    text = tr.text("conv2d(x, w) has shape (1, 2), but shape (2, 1) is expected. Two axes look swapped (height "
                   "and width?).\nIt looks like the bias is not added.\nIn your code:\n  File \"conv/conv.py\", "
                   "line 3, in conv2d\n    return x  # not translated")
    assert text == ("conv2d(x, w) hat die Form (1, 2), erwartet wird aber die Form (2, 1). Zwei Achsen scheinen "
                    "vertauscht zu sein (Höhe und Breite?).\nVermutlicher Fehler: der Bias wird nicht addiert.\n"
                    "In deinem Code:\n  File \"conv/conv.py\", line 3, in conv2d\n    return x  # not translated")
    assert tr.untranslated == []
    tr.text("Something nobody wrote a translation for.\nIt looks like a mistake nobody described.")
    assert tr.untranslated == ["Something nobody wrote a translation for.", "a mistake nobody described"]
    assert Translator("en").text("It looks like x.") == "It looks like x."


def _invoke(*args, lang_env="de_DE.UTF-8"):
    env = {"LANG": lang_env, "LC_ALL": None, "LC_MESSAGES": None, "LANGUAGE": None}
    return CliRunner(env=env).invoke(cli, ["--course", str(REPO), "check", *args], catch_exceptions=False)


def test_german_locale_gives_a_german_report_of_the_stub():
    result = _invoke("conv")
    assert result.exit_code == 1
    out = result.output
    for german in ("Aufgabe conv", "Prüfung", "Ergebnis", "Punkte", "Meldung", "✗ Fehler", "In deinem Code:",
                   "conv: 0/3 Punkte (0/3 Prüfungen bestanden"):
        assert german in out, german
    assert not set(re.findall(r"[A-Za-z]+", out)) & {"Exercise", "Result", "Points", "Message", "points", "passed"}
    assert _invoke("nope", "--lang", "en").output.startswith("Error: No exercise named")  # --lang wins
    data = json.loads(_invoke("conv", "--json").stdout)
    for test in data["tests"]:
        message, _sep, traceback = test["output"].partition("\nIn deinem Code:\n")
        assert message == "conv2d(...) ist noch nicht implementiert (es wurde NotImplementedError ausgelöst)."
        assert traceback.startswith('  File "conv/conv.py"')  # the student's own code, as it is
    titles = [t["name"].split(" — ", 1)[1] for t in data["tests"]]
    assert titles[0] == "Ein 5x6-Bild, ein 3x2-Kernel, kein Bias, kein Padding."


def test_errors_are_german_too():
    result = _invoke("nope", "--lang", "de")
    assert result.exit_code == 1 and result.output.startswith("Fehler: Keine Aufgabe namens 'nope'.")
    result = _invoke("conv", "--submission", "/no/such/folder")
    assert result.output.strip() == "Fehler: Der Abgabeordner /no/such/folder existiert nicht."


#: Mutants whose feedback covers the message kinds of each translated exercise (hints, shapes,
#: dtypes, exceptions, the from-scratch rule, traces). `python -m grader.i18n audit NAME` runs all.
AUDITED = {"conv": ["flipped_kernel", "uses_f_conv2d", "squeezes_result", "bias_none_crashes"],
           "padding_stride": ["float_division", "no_argument_checks", "p_not_2p"],
           "callbacks": ["events_out_of_order"],
           "basics": ["grads_missing_factor_2", "uses_at_operator", "relu_in_place", "precision_float32_in_float64"],
           "batchnorm": ["eps_outside_sqrt", "stats_not_buffers", "params_not_trainable", "uses_f_batch_norm"],
           "optimizers": ["no_bias_correction", "shared_state", "uses_torch_optim", "precision_float32_in_float64"],
           "learner": ["naive_log_softmax", "dataloader_drops_last", "parameter_no_grad", "unweighted_metric_means"],
           "keypoints": ["flip_no_eye_swap", "width_no_factor", "head_no_sigmoid_range", "uses_fastai_sigmoid_range"],
           "transforms": ["pipeline_not_sorted", "categorize_returns_int", "setups_on_all_items",
                          "uses_fasttransform_pipeline"],
           "siamese": ["swapped_concat", "two_encoders", "splitter_swapped", "pairs_unbalanced"],
           "fine_tune": ["groups_wrong_order", "no_halving", "freeze_freezes_batchnorm", "uses_torch_optim"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(AUDITED))
def test_german_feedback_of_mutants_has_no_english_line(name, validation_reports):
    """The validation's graded results of the stub and these mutants, translated: no English line is left
    (validation grades a mutant until its first failing check, so that is the feedback audited)."""
    exercise = COURSE.exercise(name)
    chosen = {"stub", *(f"mutant {m}" for m in AUDITED[name])}
    results = {what: r for what, r in validation_reports[name].results.items() if what in chosen}
    assert len(results) >= 2, sorted(validation_reports[name].results)
    found = audit_results(exercise, results, "de")
    assert not found, f"{name}: lines without German: {found}"


def test_audit_grades_only_the_mutants_named(tmp_path):
    """`python -m grader.i18n audit` grades what it is asked for (here: the stub and one conv mutant)."""
    found = audit_exercise(COURSE.exercise("conv"), "de", mutants=["flipped_kernel"])
    assert found == {}
