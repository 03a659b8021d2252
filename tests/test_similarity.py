"""Copy detection (grader.reports.similarity): what is flagged, what is not, the snapshots and the views.

The independent solutions are hand-written in tests/similarity_cases/ (see its README); copies are
made from them and from solutions/ by :func:`disguise`, which renames every variable, shuffles the
functions and rewrites comments and blank lines, as a student hiding a copy would.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import itertools
import json
import os
import random
import time
import tokenize
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.intake import stage_submission
from grader.reports import similarity as sim

REPO = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "similarity_cases"
INDEPENDENT = {"conv": ["conv_loops", "conv_strided_einsum", "conv_tensor_unfold"],
               "pooling": ["pooling_loops", "pooling_funfold"]}


def disguise(source: str, seed: int) -> str:
    """``source`` with its variables renamed, its functions reordered and its comments and blank lines changed."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    keywords = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    public = {a.arg for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")
              for a in ast.walk(f.args) if isinstance(a, ast.arg)}
    names -= keywords | public | {"self"}  # names callers pass by keyword stay, so the copy still works
    fresh = rng.sample(range(1000), len(names))
    mapping = {name: f"{rng.choice(['tmp', 'val', 'my', 'q'])}{n}" for name, n in zip(sorted(names), fresh)}
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in mapping:
            tok = tok._replace(string=mapping[tok.string])
        elif tok.type == tokenize.COMMENT:
            tok = tok._replace(string=rng.choice(["# step", "# das hier ist wichtig", "# my idea"]))
        tokens.append(tok)
    renamed = tokenize.untokenize(tokens)
    tree = ast.parse(renamed)
    lines = renamed.splitlines()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    start = min(n.decorator_list[0].lineno if n.decorator_list else n.lineno for n in defs) - 1
    chunks = ["\n".join(lines[n.lineno - 1:n.end_lineno]) for n in defs]
    rng.shuffle(chunks)
    return "\n".join(lines[:start]) + "\n\n" + ("\n" * rng.randint(1, 3)).join(chunks) + "\n"


def as_notebook(source: str) -> str:
    """``source`` pasted into a notebook: one code cell per top-level statement group, a markdown cell first."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells = [nbformat.v4.new_markdown_cell("# Meine Lösung")]
    for node in tree.body:
        first = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
        cells.append(nbformat.v4.new_code_cell("\n".join(lines[first - 1:node.end_lineno])))
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def module(exercise: str, name: str) -> str:
    """A source: ``solution`` (the course's), ``stub`` (untouched) or a file of tests/similarity_cases/."""
    if name == "solution":
        return (REPO / "solutions" / exercise / f"{exercise}.py").read_text(encoding="utf-8")
    if name == "stub":
        return (REPO / "exercises" / exercise / f"{exercise}.py").read_text(encoding="utf-8")
    return (CASES / f"{name}.py").read_text(encoding="utf-8")


def submit(root: Path, student: str, exercise: str, source: str, *, notebook: bool = False) -> Path:
    """A student's submission folder holding ``exercise`` as a package (the stub's __init__.py) or a notebook."""
    folder = root / "submissions" / student
    folder.mkdir(parents=True)
    if notebook:
        (folder / f"{exercise}.ipynb").write_text(as_notebook(source), encoding="utf-8")
    else:
        (folder / exercise).mkdir()
        (folder / exercise / "__init__.py").write_bytes((REPO / "exercises" / exercise / "__init__.py").read_bytes())
        (folder / exercise / f"{exercise}.py").write_text(source, encoding="utf-8")
    return folder


def batch_snapshots(tmp_path: Path, exercise: str, sources: dict[str, str], notebooks: set[str] = frozenset()) -> Path:
    """What grade batch leaves for copy detection: intake, then the snapshots (no grading)."""
    out = tmp_path / "results"
    for student, source in sources.items():
        entry = submit(tmp_path, student, exercise, source, notebook=student in notebooks)
        intake = stage_submission(entry, tmp_path / "stage" / student, [exercise])
        assert not intake.fatal, intake.fatal
        sim.write_snapshots(intake.root, out / student, [exercise])
    return out


def flagged(tmp_path: Path, course, exercise: str, sources: dict[str, str], notebooks: set[str] = frozenset(),
            threshold: float = sim.THRESHOLD) -> dict[frozenset[str], sim.SimilarPair]:
    out = batch_snapshots(tmp_path, exercise, sources, notebooks)
    pairs = sim.find_similar(out, sorted(sources), [exercise], course, threshold=threshold)
    return {frozenset(p.students): p for p in pairs}


# -- what is flagged and what is not -----------------------------------------------------------------

@pytest.mark.parametrize("exercise", sorted(INDEPENDENT))
def test_independent_correct_solutions_are_not_flagged(tmp_path, course, exercise):
    sources = {name: module(exercise, name) for name in ["solution", *INDEPENDENT[exercise]]}
    assert flagged(tmp_path, course, exercise, sources) == {}
    # not even close: with no threshold at all, no pair shares more than a fifth of its code
    everything = flagged(tmp_path / "all", course, exercise, sources, threshold=0.0)
    assert max((p.similarity for p in everything.values()), default=0.0) < 0.2


ORIGINALS = [(e, n) for e in sorted(INDEPENDENT) for n in ["solution", *INDEPENDENT[e]]]


@pytest.mark.parametrize("exercise,original", ORIGINALS)
def test_copy_with_renamed_variables_and_reordered_functions_is_flagged(tmp_path, course, exercise, original):
    source = module(exercise, original)
    copy = disguise(source, seed=len(original))
    assert copy != source and ast.dump(ast.parse(copy)) != ast.dump(ast.parse(source))
    others = {name: module(exercise, name) for name in ["solution", *INDEPENDENT[exercise]] if name != original}
    pairs = flagged(tmp_path, course, exercise, {"anna": source, "ben": copy, **others})
    assert set(pairs) == {frozenset({"anna", "ben"})}
    pair = pairs[frozenset({"anna", "ben"})]
    assert pair.similarity >= 0.75 and min(pair.shares) >= 0.7
    assert pair.regions[0] and pair.regions[1]


def test_students_who_left_the_stub_untouched_are_not_flagged(tmp_path, course):
    stub = module("pooling", "stub")
    sources = {"anna": stub, "ben": stub, "cleo": stub, "dora": stub, "emil": module("pooling", "solution")}
    assert flagged(tmp_path, course, "pooling", sources, notebooks={"cleo", "dora"}) == {}


@pytest.mark.parametrize("exercise", sorted(INDEPENDENT))
def test_untouched_stub_notebooks_from_the_course_are_not_flagged(tmp_path, course, exercise):
    out = tmp_path / "results"
    for student in ("anna", "ben"):
        (tmp_path / student).mkdir()
        notebook = (REPO / "notebooks" / f"{exercise}.ipynb").read_bytes()
        (tmp_path / student / f"{exercise}.ipynb").write_bytes(notebook)
        intake = stage_submission(tmp_path / student, tmp_path / "stage" / student, [exercise])
        sim.write_snapshots(intake.root, out / student, [exercise])
    snapshot = (out / "anna" / "code" / f"{exercise}.py").read_text()
    assert "# ---- cell" in snapshot
    assert sim.find_similar(out, ["anna", "ben"], [exercise], course, threshold=0.0) == []
    # not a token of it is the student's own: the stub's notebook layout is boilerplate too
    common = set().union(*(sim._all_kgrams(text) for text in sim._stub_texts(course, exercise)))
    assert sim._fingerprint(snapshot, common).fp.token_coverage == 0


def test_a_notebook_copy_of_another_students_package_is_flagged(tmp_path, course):
    original = module("pooling", "pooling_loops")
    sources = {"anna": original, "ben": disguise(original, seed=7), "cleo": module("pooling", "pooling_funfold")}
    pairs = flagged(tmp_path, course, "pooling", sources, notebooks={"ben"})
    assert set(pairs) == {frozenset({"anna", "ben"})}
    snapshot = (tmp_path / "results" / "ben" / "code" / "pooling.py").read_text()
    assert "# ---- cell" in snapshot and "Meine Lösung" not in snapshot  # code cells only


def test_students_who_only_typed_the_hints_are_not_flagged(tmp_path, course):
    """The docstrings dictate a few one-liners; two students who wrote only those share all of their code."""
    stub = module("pooling", "stub")
    todo = ('    # TODO: your code here\n'
            '    raise NotImplementedError("_bin_edges: not implemented yet (exercise pooling)")')
    hinted = stub.replace(todo, "    return [(i * size // out, -((-(i + 1) * size) // out)) for i in range(out)]")
    assert hinted != stub
    sources = {"anna": hinted, "ben": hinted, "cleo": module("pooling", "solution")}
    assert flagged(tmp_path, course, "pooling", sources) == {}


@pytest.mark.slow
@pytest.mark.parametrize("exercise", ["conv"])  # pooling, 2.5 times the code, is measured in the module docstring
def test_two_hundred_students_take_seconds(course, capsys, exercise):
    """200 students (19,900 pairs), each a disguised copy of the solution, of an independent
    solution or of the untouched stub: every copy is found, nothing else."""
    names = ["solution", *INDEPENDENT[exercise], "stub"]
    variants = [[disguise(module(exercise, name), seed) for seed in range(8)] for name in names]
    # each text differs (a comment of its own), so each student is tokenized: nothing is cached
    snapshots = {f"s{i:03d}": f"# Abgabe {i}\n" + variants[i % len(names)][i // len(names) % 8] for i in range(200)}
    stub = sim.snapshot_text(course.exercise(exercise).stub)
    solution = sim.snapshot_text(course.exercise(exercise).solution)
    started, cpu = time.perf_counter(), time.process_time()
    pairs = sim.compare_snapshots(exercise, snapshots, [stub], solution)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with capsys.disabled():
        print(f"\n200 students, 19,900 pairs of {exercise}: {seconds:.1f} s ({cpu:.1f} s CPU), "
              f"{len(pairs)} pairs flagged")
    group = {f"s{i:03d}": i % len(names) for i in range(200)}
    expected = {frozenset((a, b)) for a, b in itertools.combinations(snapshots, 2)
                if group[a] == group[b] != len(names) - 1}
    assert {frozenset(p.students) for p in pairs} == expected
    assert cpu < 20


def test_the_fast_pairwise_step_agrees_with_copydetects_compare_files(course):
    from copydetect import compare_files

    common = sim._all_kgrams(sim.snapshot_text(course.exercise("pooling").stub))
    original = module("pooling", "pooling_funfold")
    for other in (disguise(original, seed=5), module("pooling", "solution")):
        a, b = sim._fingerprint(original, common), sim._fingerprint(other, common)
        tokens, shares, slices = compare_files(a.fp, b.fp)
        assert sim._compare(a, b)[:2] == (int(tokens), (pytest.approx(shares[0]), pytest.approx(shares[1])))
        assert [sim._regions(s, 10**6) for s in sim._compare(a, b)[2]] == [sim._regions(s, 10**6) for s in slices]


# -- snapshots -----------------------------------------------------------------------------------------

def test_snapshot_is_the_packages_python_files_sorted_with_their_paths(tmp_path):
    package = tmp_path / "stage" / "conv"
    (package / "sub").mkdir(parents=True)
    (package / "conv.py").write_text("def conv2d():\r\n    return 1\x1b[2J\n")
    (package / "__init__.py").write_text("from .conv import conv2d\n")
    (package / "sub" / "helpers.py").write_bytes(b"x = '\xff'\n")
    (package / "notes.txt").write_text("not code")
    (tmp_path / "secret.py").write_text("SECRET = 1\n")
    os.symlink(tmp_path / "secret.py", package / "link.py")
    sim.write_snapshots(tmp_path / "stage", tmp_path / "out" / "anna", ["conv"])
    text = (tmp_path / "out" / "anna" / "code" / "conv.py").read_text(encoding="utf-8")
    headers = [line for line in text.splitlines() if line.startswith("# --- ")]
    assert headers == ["# --- conv/__init__.py", "# --- conv/conv.py", "# --- conv/sub/helpers.py"]
    assert "return 1\n" in text and "\r" not in text and "\x1b" not in text
    assert "x = '\ufffd'" in text and "SECRET" not in text and "not code" not in text


def test_snapshot_is_capped_and_says_so(tmp_path):
    package = tmp_path / "stage" / "conv"
    package.mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n" * 100)
    (package / "b.py").write_text("y = 2\n" * 100)
    text = sim.snapshot_text(package, limit=1024)
    assert len(text.encode()) < 1024 + 200
    assert text.rstrip().splitlines()[-1] == "# --- cut: the snapshot stops at 1 KiB; 1 file(s) not shown in full"
    assert text.count("x = 1") == 100 and 0 < text.count("y = 2") < 100  # b.py is cut at a line's end


def test_a_snapshot_of_an_exercise_no_longer_submitted_is_removed(tmp_path):
    (tmp_path / "stage" / "conv").mkdir(parents=True)
    (tmp_path / "stage" / "conv" / "conv.py").write_text("x = 1\n")
    student = tmp_path / "out" / "anna"
    sim.write_snapshots(tmp_path / "stage", student, ["conv", "pooling"])
    assert sorted(p.name for p in (student / "code").iterdir()) == ["conv.py"]
    (student / "code" / "pooling.py").write_text("old")
    sim.write_snapshots(tmp_path / "stage", student, ["conv", "pooling"])
    assert not (student / "code" / "pooling.py").exists()


def test_grade_batch_writes_the_snapshot_of_what_it_grades(tmp_path, monkeypatch):
    """grade_student after intake, with the sandbox and the checks stubbed out (no torch, no worker)."""
    import sys
    import types

    import grader.sandbox
    from grader.batch import Entry, grade_student

    class NoSandbox:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def mark_unavailable(self, name, message):
            pass

    monkeypatch.setattr(grader.sandbox, "Sandbox", NoSandbox)
    monkeypatch.setitem(sys.modules, "grader.runner", types.SimpleNamespace(run_many=lambda *a, **k: []))
    entry = submit(tmp_path, "anna", "pooling", module("pooling", "pooling_loops"), notebook=True)
    (entry / "conv").mkdir()
    (entry / "conv" / "conv.py").write_text("def conv2d(x, w):\n    return x\n")
    out = tmp_path / "results"
    (out / "anna" / "code").mkdir(parents=True)
    (out / "anna" / "code" / "padding_stride.py").write_text("stale")
    grade_student(str(REPO), Entry(entry, "anna"), str(out), ["conv", "pooling", "padding_stride"], "cpu")
    code = out / "anna" / "code"
    assert sorted(p.name for p in code.iterdir()) == ["conv.py", "pooling.py"]  # nothing handed in, nothing kept
    assert (code / "conv.py").read_text().startswith("# --- conv/__init__.py\nfrom .conv import *")
    assert "# ---- cell" in (code / "pooling.py").read_text() and "def _bin_edges" in (code / "pooling.py").read_text()


# -- views -----------------------------------------------------------------------------------------------

def hostile_pair() -> sim.SimilarPair:
    code = "# --- conv/conv.py\ndef f():\n    return '</pre><script>alert(1)</script>'\n"
    return sim.SimilarPair("conv", ("<img src=x onerror=alert(1)>", "ben\x1b[31m"), 1.0, (1.0, 1.0), 40,
                           (((18, len(code)),), ((0, 10), (18, len(code)))), (code, code))


def test_pairs_html_escapes_code_and_ids_and_marks_the_matches():
    fragment = sim.pairs_html([hostile_pair()])
    assert "<html" not in fragment
    assert "<script>" not in fragment and "<img" not in fragment and "\x1b" not in fragment
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert fragment.count("<mark>") == 5 and fragment.count("<pre>") == 2 and "&lt;mark&gt;" not in fragment  # per line
    assert "<mark>    return &#39;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;</mark>" in fragment
    assert "&lt;img src=x onerror=alert(1)&gt;" in fragment


def test_pairs_html_shows_the_matches_with_some_context_and_counts_the_rest():
    code = "# --- conv/conv.py\n" + "".join(f"line_{i} = {i}\n" for i in range(40))
    start = code.index("line_20")
    pair = sim.SimilarPair("conv", ("anna", "ben"), 1.0, (1.0, 1.0), 40, (((start, start + 12),),) * 2, (code, code))
    fragment = sim.pairs_html([pair])
    assert "<mark>line_20 = 20</mark>" in fragment and "line_17" in fragment and "line_23" in fragment
    assert "line_16 " not in fragment and "line_24 " not in fragment and "# --- conv/conv.py" in fragment
    assert fragment.count("... 17 line(s) without shared code ...") == 4  # before and after, on both sides


def test_pairs_html_without_pairs_says_so_and_the_page_wraps_it():
    assert "No two students" in sim.pairs_html([])
    page = sim.similarity_page([hostile_pair()])
    assert page.startswith("<!doctype html>") and "Content-Security-Policy" in page and "<script>" not in page


def test_pairs_table_shows_student_ids_as_text_not_markup():
    from rich.console import Console

    pair = dataclasses.replace(hostile_pair(), students=("[red]x[/red]", "ben\x1b[2J\x07"))
    console = Console(record=True, width=200, color_system=None)
    console.print(sim.pairs_table([pair]))
    shown = console.export_text()
    assert "[red]x[/red]" in shown and "\x1b" not in shown and "\x07" not in shown and "ben" in shown


def test_grade_similarity_prints_the_pairs_and_writes_the_page(tmp_path, course):
    original = module("conv", "conv_tensor_unfold")
    out = batch_snapshots(tmp_path, "conv", {"anna": original, "ben": disguise(original, seed=1),
                                             "cleo": module("conv", "solution")})
    result = CliRunner().invoke(cli, ["--course", str(REPO), "similarity", str(out), "--lang", "en"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "anna" in result.output and "ben" in result.output and "cleo" not in result.output
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "<mark>" in page and "anna" in page
    strict = CliRunner().invoke(cli, ["--course", str(REPO), "similarity", str(out), "--exercise", "conv",
                                      "--threshold", "1", "--lang", "de"], catch_exceptions=False)
    assert strict.exit_code == 0 and "Keine zwei der 3 Studierenden" in strict.output


def test_grade_similarity_explains_itself_and_refuses_a_folder_without_snapshots(tmp_path):
    help_text = CliRunner().invoke(cli, ["similarity", "--help"]).output
    assert "--threshold" in help_text and "--exercise" in help_text and "grade similarity results/" in help_text
    (tmp_path / "anna").mkdir()
    (tmp_path / "anna" / "results.json").write_text(json.dumps({}))
    result = CliRunner().invoke(cli, ["--course", str(REPO), "similarity", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 1 and "holds no code snapshots" in result.output
