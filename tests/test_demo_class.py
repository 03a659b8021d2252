"""scripts/demo_class.py builds the demo class of `make demo` from examples/demo_class.toml (nothing is graded)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO
from grader.notebooks import notebook_to_module

SPEC = REPO / "examples" / "demo_class.toml"
#: The full-marks sample predates the demo class; test_isolation and test_from_scratch_scan grade and
#: scan it as it is. It is the solution without its markers: the one copy allowed until those tests
#: build it from solutions/ the way scripts/demo_class.py does.
OLD_SAMPLE_COPIES = {"examples/submissions/full_marks/callbacks/callbacks.py"}


def _load_script():
    spec = importlib.util.spec_from_file_location("demo_class", REPO / "scripts" / "demo_class.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = _load_script()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-class"
    return out, demo.build_class(out, SPEC)


def test_every_student_has_the_intended_exercises(built):
    out, made = built
    course = demo.find_course(REPO)
    students = demo.load_spec(SPEC, course)
    assert len(students) >= 8 and {s.name for s in students} == {p.name for p in out.iterdir() if p.is_dir()}
    covered = set()
    for student in students:
        handed_in = {p.name.removesuffix(".ipynb") for p in (out / student.name).iterdir()}
        assert handed_in == set(student.entries), student.name
        covered |= handed_in
    assert covered == set(course.exercises()), "the class covers every exercise"
    kinds = {what.split(":", 1)[0] for s in students for what in s.entries.values()}
    assert {"solution", "mutant", "stub", "copy-of", "broken", "notebook", "sample"} <= kinds


def test_solutions_mutants_and_samples_are_what_the_spec_names(built):
    out, _ = built
    conv = REPO / "solutions" / "conv"
    assert (out / "anna" / "conv" / "conv.py").read_text() == (conv / "conv.py").read_text()
    ben = (out / "ben" / "conv" / "conv.py").read_text()
    assert ben.startswith((conv / "conv.py").read_text()) and "# ---- mutant flipped_kernel ----" in ben
    assert (out / "clara" / "unet" / "unet.py").read_text() == (REPO / "exercises" / "unet" / "unet.py").read_text()
    for student, sample in (("mallory", "hostile"), ("emil", "broken"), ("greta", "partial")):
        assert (out / student / "conv" / "conv.py").read_text() == \
            (REPO / "examples" / "submissions" / sample / "conv" / "conv.py").read_text()
    assert not list(out.rglob("__pycache__"))


def test_broken_code_does_not_run(built):
    out, _ = built
    with pytest.raises(SyntaxError):
        ast.parse((out / "emil" / "siamese" / "siamese.py").read_text())
    text = (out / "emil" / "transforms" / "transforms.py").read_text()
    ast.parse(text)
    assert f"from .{demo.MISSING_MODULE} import" in text and not (out / "emil" / "transforms" / "helpers.py").exists()


def test_the_copy_differs_textually_but_parses_and_keeps_what_the_checks_call(built):
    out, _ = built
    for exercise in ("conv", "padding_stride", "pooling", "batchnorm", "optimizers"):
        original = (out / "ben" / exercise / f"{exercise}.py").read_text()
        copy = (out / "david" / exercise / f"{exercise}.py").read_text()
        assert copy != original
        a, b = ast.parse(original), ast.parse(copy)
        assert ast.dump(a) != ast.dump(b), "more than layout changed"

        def top(tree):
            return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]

        def params(tree):
            return sorted((n.name, ast.dump(n.args)) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))

        assert sorted(top(a)) == sorted(top(b)) and params(a) == params(b), "same API, same arguments"
    conv_a = ast.parse((out / "ben" / "conv" / "conv.py").read_text())
    conv_b = ast.parse((out / "david" / "conv" / "conv.py").read_text())
    names = lambda tree: {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}  # noqa: E731
    assert names(conv_a) - names(conv_b), "locals were renamed"


def test_disguise_keeps_behaviour():
    source = '''
import math

def helper(values, scale=2):
    total = 0
    for v in values:
        total += v * scale
    try:
        root = math.sqrt(total)
    except ValueError as err:
        root = -1
    return [root for _ in range(1)][0]

def api(x, *, k=3):
    out = [helper([i], scale=k) for i in range(x)]
    def inner(total):
        return total + len(out)
    return inner(sum(out))

first = api
def winner():
    return 1
def winner():
    return 2
'''
    disguised = demo.disguise(source)
    assert disguised != source
    env_a, env_b = {}, {}
    exec(compile(source, "a", "exec"), env_a)  # noqa: S102 - our own test source
    exec(compile(disguised, "b", "exec"), env_b)  # noqa: S102
    assert env_a["api"](5, k=4) == env_b["api"](5, k=4) and env_b["winner"]() == 2 and env_b["first"] is env_b["api"]


def test_the_notebook_student_hands_in_code_cells_the_grader_converts(built):
    out, _ = built
    path = out / "frieda" / "one_cycle.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    converted = notebook_to_module(path.read_bytes(), path.name)
    solution = (REPO / "solutions" / "one_cycle" / "one_cycle.py").read_text()
    assert "def one_cycle_schedule(" in converted.source and converted.notes, "the magic line is dropped, with a note"
    assert ast.dump(ast.parse(converted.source)).count("FunctionDef") == ast.dump(ast.parse(solution)).count("FunctionDef")
    keypoints = notebook_to_module((out / "frieda" / "keypoints.ipynb").read_bytes()).source
    assert "# ---- mutant flip_no_eye_swap ----" in keypoints, "notebook:mutant:<name> holds the mutant's code"


def test_no_solution_file_is_committed_under_examples():
    def meaningful(text: str) -> list[str]:  # what a copy keeps when its comments and blank lines go
        return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]

    def stub_of(path):  # exercises/<name>/<file> beside solutions/<name>/<file>
        stub = REPO / "exercises" / path.relative_to(REPO / "solutions")
        return meaningful(stub.read_text()) if stub.is_file() else None

    # What a solution adds to the stub (an __init__.py that only re-exports is the stub's too).
    solutions = {tuple(meaningful(p.read_text())) for p in (REPO / "solutions").rglob("*.py")
                 if meaningful(p.read_text()) != stub_of(p)}
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "examples"],
                             cwd=REPO, capture_output=True, text=True, check=True)  # what is or would be committed
    files = [REPO / rel for rel in tracked.stdout.split()]
    assert (REPO / "examples" / "demo_class.toml") in files
    copies = {str(path.relative_to(REPO)) for path in files if tuple(meaningful(path.read_text())) in solutions}
    assert copies <= OLD_SAMPLE_COPIES, f"copies of solutions under examples/: {sorted(copies - OLD_SAMPLE_COPIES)}"


def test_the_builder_never_removes_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "demo-class").mkdir()
    (tmp_path / "demo-class" / "mine.txt").write_text("keep me")
    with pytest.raises(SystemExit):
        demo.build_class(tmp_path / "demo-class", SPEC)
    assert (tmp_path / "demo-class" / "mine.txt").read_text() == "keep me"


def test_a_spec_naming_nothing_real_is_refused(tmp_path):
    course = demo.find_course(REPO)
    for body, words in (('[students.x]\nconv = "mutant:no_such"', "no mutant"),
                        ('[students.x]\nnot_an_exercise = "solution"', "no exercise"),
                        ('[students.x]\nconv = "copy-of:nobody"', "no student"),
                        ('[students.x]\nconv = "magic"', "none of")):
        (tmp_path / "spec.toml").write_text(body)
        with pytest.raises(demo.SpecError, match=words):
            demo.load_spec(tmp_path / "spec.toml", course)
