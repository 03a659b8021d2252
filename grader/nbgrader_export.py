"""nbgrader, for instructors who already use it: export the course, read ``submitted/``, fill the gradebook.

* :func:`export_course` writes an nbgrader course: ``nbgrader_config.py`` and
  ``source/<name>/<name>.ipynb`` per exercise, made from the *solution* like the exercise notebooks
  are made from the stub (``grader.notebooks``). Cells holding a ``# BEGIN SOLUTION`` region are
  nbgrader solution cells (``nbgrader generate_assignment`` replaces the region with its stub);
  the explanation is a locked markdown cell; the last cell is a locked, autograded test cell worth
  the exercise's points that runs the public checks. Solution regions at module level are left
  out, as in the stubs (nbgrader's stub would raise at import).
* :func:`stage_submitted` turns nbgrader's ``submitted/<student>/<assignment>/<notebook>.ipynb`` into
  the folder ``grade batch`` reads (``<student>/<assignment>.ipynb``).
* :func:`write_gradebook` puts each student's score per exercise into the gradebook (the test
  cell's ``auto_score``), so ``nbgrader export`` and formgrader show it.

The grades come from ``grade batch`` (hidden checks, sandboxed); nbgrader's own autograder, which
runs the tests in the student's kernel, is not needed.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import typing as t
from pathlib import Path

from .catalog import Course, Exercise
from .errors import GradeError

__all__ = ["export_course", "source_notebook", "max_points", "stage_submitted", "is_nbgrader_layout",
           "write_gradebook", "CHECKS_CELL"]

#: ``grade_id`` suffix of the autograded cell of each exercise notebook.
CHECKS_CELL = "checks"

_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")

_CONFIG = """# nbgrader configuration written by `grade export-nbgrader`.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
# Solution regions are the course's `# BEGIN SOLUTION` / `# END SOLUTION` markers.
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {{"python": "# TODO: your code here\\nraise NotImplementedError()"}}
"""


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: float | None = None) -> dict[str, t.Any]:
    meta: dict[str, t.Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                              "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _without_module_level_regions(source: str) -> str:
    out, skipping = [], False
    for line in source.splitlines(keepends=True):
        begin = _BEGIN.match(line)
        if begin and not begin.group(1):
            skipping = True
            continue
        if skipping:
            if _END.match(line):
                skipping = False
            continue
        out.append(line)
    return "".join(out)


def max_points(exercise: Exercise, hidden: bool = True) -> float:
    """The points of the exercise's checks (``points`` markers; parametrized cases count each)."""
    import contextlib
    import io
    import sys

    import pytest

    from .runner import _INI

    class Collector:
        points = 0.0

        def pytest_configure(self, config: pytest.Config) -> None:
            for marker in ("points(n)", "check_timeout(s)", "cpu_budget(s)", "gate"):
                config.addinivalue_line("markers", marker)

        def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
            for item in items:
                marker = item.get_closest_marker("points")
                self.points += float(marker.args[0]) if marker else 1.0

    root = str(exercise.course_root)
    if root not in sys.path:
        sys.path.append(root)
    collector = Collector()
    args = [*map(str, exercise.check_files(hidden)), "--collect-only", "-q", "-c", str(_INI), "--rootdir", root,
            "--import-mode=importlib", "--noconftest", "-p", "no:cacheprovider"]
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(args, plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise GradeError(f"The checks of {exercise.name!r} could not be collected (pytest exit status {code}).")
    return collector.points


def source_notebook(exercise: Exercise, points: float) -> t.Any:
    """nbgrader's source notebook for ``exercise`` (an ``nbformat`` node)."""
    import nbformat

    from .notebooks import CHECK_CELL_MARK, _code_cells, _markdown

    name = exercise.name
    module = exercise.solution / f"{name}.py"
    if not module.is_file():
        raise GradeError(f"{module} does not exist: nbgrader's source notebook is made from the solution.")
    doc, code = _code_cells(_without_module_level_regions(module.read_text(encoding="utf-8")))
    heading = f"# {exercise.title}" + (f"\n*{exercise.title_de}*" if exercise.title_de else "")
    cells = [nbformat.v4.new_markdown_cell(heading + "\n\n" + _markdown(doc),
                                           metadata={"nbgrader": _meta(f"{name}-intro", locked=True)})]
    for index, source in enumerate(code):
        cell = nbformat.v4.new_code_cell(source)
        if "BEGIN SOLUTION" in source:
            cell.metadata["nbgrader"] = _meta(f"{name}-code-{index}", solution=True)
        cells.append(cell)
    checks = nbformat.v4.new_code_cell(
        f"{CHECK_CELL_MARK} (save it first). The grade comes from the course's grader (hidden checks too).\n"
        f"from grader.notebooks import check_notebook\n\n"
        f"assert check_notebook({name!r}) == 0, \"Some public checks fail: see the report above.\"",
        metadata={"nbgrader": _meta(f"{name}-{CHECKS_CELL}", grade=True, locked=True, points=points)})
    cells.append(checks)
    for index, cell in enumerate(cells):
        cell["id"] = f"{name}-{index}"
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def export_course(course: Course, out: Path, exercises: t.Sequence[str] = (), course_id: str = "dl-course") -> list[str]:
    """Write the nbgrader course to ``out``; returns the files written (relative to ``out``)."""
    import nbformat

    chosen = [course.exercise(n) for n in exercises] if exercises else \
        [ex for ex in course.exercises().values() if (ex.solution / f"{ex.name}.py").is_file()]
    if not chosen:
        raise GradeError("No exercise with a solution to export.")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    config = out / "nbgrader_config.py"
    if not config.exists():
        config.write_text(_CONFIG.format(course_id=course_id), encoding="utf-8")
        written.append("nbgrader_config.py")
    for ex in chosen:
        target = out / "source" / ex.name / f"{ex.name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(source_notebook(ex, max_points(ex))) + "\n", encoding="utf-8")
        written.append(str(target.relative_to(out)))
    return written


# -- submitted/ -> grade batch ---------------------------------------------------------------------

def is_nbgrader_layout(path: Path) -> Path | None:
    """nbgrader's ``submitted/`` folder when ``path`` is it or a course folder holding it, else None.

    A folder named ``submitted`` counts when its course folder has ``nbgrader_config.py``, or it
    holds nbgrader's ``<student>/<assignment>/timestamp.txt``, or notebooks at that depth and no
    Python files (a plain ``grade batch`` folder has ``<student>/<exercise>/*.py`` there).
    """
    if (path / "submitted").is_dir() and (path / "nbgrader_config.py").is_file():
        return path / "submitted"
    if path.name != "submitted" or not path.is_dir():
        return None
    if (path.parent / "nbgrader_config.py").is_file() or next(path.glob("*/*/timestamp.txt"), None):
        return path
    if next(path.glob("*/*/*.ipynb"), None) and not next(path.glob("*/*/*.py"), None):
        return path
    return None


def stage_submitted(submitted: Path, exercises: t.Iterable[str]) -> tuple[Path, list[str]]:
    """A temporary folder ``<student>/<assignment>.ipynb`` made from ``submitted/``, and notes.

    An assignment counts when its name is an exercise's; its notebook is ``<assignment>.ipynb``,
    or the only notebook in the folder. The caller removes the folder.
    """
    known = set(exercises)
    staged = Path(tempfile.mkdtemp(prefix="grade-nbgrader-"))
    notes = []
    for student in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.is_symlink()):
        for assignment in sorted(p for p in student.iterdir() if p.is_dir() and not p.is_symlink()):
            if assignment.name not in known:
                notes.append(f"{student.name}/{assignment.name}: no exercise of that name; skipped.")
                continue
            notebooks = sorted(p for p in assignment.glob("*.ipynb") if p.is_file() and not p.is_symlink())
            preferred = assignment / f"{assignment.name}.ipynb"
            chosen = preferred if preferred in notebooks else (notebooks[0] if len(notebooks) == 1 else None)
            if chosen is None:
                notes.append(f"{student.name}/{assignment.name}: expected {assignment.name}.ipynb; skipped.")
                continue
            (staged / student.name).mkdir(exist_ok=True)
            shutil.copyfile(chosen, staged / student.name / f"{assignment.name}.ipynb")
    return staged, notes


# -- grades -> gradebook ------------------------------------------------------------------------------

def write_gradebook(db: Path, out: Path) -> list[str]:
    """Put the scores in ``out/<student>/results.json`` into the nbgrader gradebook ``db``.

    Each exercise's score becomes the ``auto_score`` of its notebook's test cell; submissions
    missing from the gradebook are added. Returns notes (assignments the gradebook lacks).
    """
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise GradeError("--nbgrader-db needs nbgrader (pip install 'dl-grader[nbgrader]').") from None
    import warnings

    if not db.is_file():
        raise GradeError(f"{db} does not exist (nbgrader creates gradebook.db in the course folder).")
    notes: list[str] = []
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db.resolve()}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy warns inside nbgrader's add_submission
        for results in sorted(out.glob("*/results.json")):
            student = results.parent.name
            try:
                per = json.loads(results.read_text(encoding="utf-8"))["extra_data"]["per_exercise"]
            except (ValueError, KeyError, TypeError):
                notes.append(f"{results}: unreadable; skipped.")
                continue
            gb.update_or_create_student(student)
            for exercise, (score, _max) in per.items():
                try:
                    gb.find_assignment(exercise)
                except MissingEntry:
                    notes.append(f"{exercise}: not in the gradebook (run nbgrader generate_assignment {exercise}).")
                    continue
                try:
                    gb.find_submission(exercise, student)
                except MissingEntry:
                    gb.add_submission(exercise, student)
                grade = gb.find_grade(f"{exercise}-{CHECKS_CELL}", exercise, exercise, student)
                grade.auto_score = float(score)
                gb.db.commit()
    return list(dict.fromkeys(notes))
