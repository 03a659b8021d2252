"""Copy detection: which students of a batch handed in the same code for an exercise.

``grade batch`` keeps, for every student and exercise, the code that was graded as one text file,
``DIR/<student>/code/<exercise>.py`` (:func:`write_snapshots`: the staged package's ``.py`` files
sorted by path, each after a ``# --- <path>`` line; notebooks arrive here already as packages, so
their code cells are what is compared). It is text for the instructor; nothing imports or runs it.
:func:`find_similar` compares every pair of students per exercise; :func:`pairs_html` shows the
pairs side by side with the shared regions marked, for the class report and ``grade similarity``.

**Library: copydetect** (PyPI ``copydetect``, a maintained plagiarism checker built for
programming courses). It tokenizes with Pygments and replaces every identifier with ``V``/``F``/``O``
and every string with ``S``, dropping comments and whitespace, so renamed variables, rewritten
comments and new blank lines change nothing; its fingerprints are winnowed k-grams of that token
stream (the algorithm of MOSS), a set per file, so reordered functions change nothing either. It
reports, per file, the share of its tokens found in the other file and the copied slices in the
text *as written*, which is what the side-by-side view marks; its boilerplate support means code
the stub gives everybody never counts. We use its fingerprints (``CodeFingerprint``) and its slice
arithmetic, not ``CopyDetector``, which reads folders of loose files and writes its own report.
Two things are done here instead: the stub's fingerprints are removed as sets (copydetect's own
removal, ``np.intersect1d(..., assume_unique=True)`` on a list with repeats, also drops
fingerprints that merely repeat inside one file), and the pairwise step is :func:`_compare`, which
gives what ``copydetect.compare_files`` gives (a test holds them equal) without building one numpy
array per shared fingerprint. Importing copydetect costs 1-2 s (it imports matplotlib), once.

**When a pair is flagged.** Measured with copydetect's default k-gram length (25) and window (6)
on the hand-written independent solutions in ``tests/similarity_cases/`` (3 for ``conv``, 2 for
``pooling``) and ``solutions/``, and on copies of each disguised by ``tests/test_similarity.py``
(every variable renamed, functions shuffled, comments and blank lines rewritten; 10 seeds each):

- two independent correct solutions share at most **20 %** of either one's code (lines the task
  dictates: the ``H_out`` formula, ``torch.cat([max, avg], dim=1)``), at most 35 % when both were
  also shuffled and moved the same function (the new seams match); a disguised copy shares at
  least **89 %** of one side (the smaller share at least 78 %). :data:`THRESHOLD` is 0.5, far from both.
- the similarity of a pair is the larger of its two shares, so a student who copied and then
  added code of their own is still found from the other side. A student who wrote only a line or
  two (the docstring's hint for ``_bin_edges``) shares all of it with everybody who followed the
  hint, so a pair must also share :data:`MIN_SHARE_OF_SOLUTION` of an exercise's worth of code
  (the course solution's tokens outside the stub): half of ``pooling`` is about 440 tokens, the
  hint lines are about 150. Without a course nothing is boilerplate and :data:`MIN_MATCHED_TOKENS`
  applies; then the stub's own code matches between every two students, so give the course.
- time for 200 students of one exercise (19,900 pairs; all copies or stubs, the worst case:
  3,120 and 3,675 pairs flagged), on this project's 2-core machine: ``conv`` 4.2 s, ``pooling``
  11 s, most of it Pygments tokenizing each student once (16 and 39 ms a student); pairs that
  share little are dismissed by a set intersection of their fingerprints (:data:`_PREFILTER`).
  ``tests/test_similarity.py::test_two_hundred_students_take_seconds`` measures ``conv``.
"""

from __future__ import annotations

import ast
import bisect
import functools
import io
import itertools
import os
import stat
import typing as t
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write
from ..i18n import _
from .safe_text import clean as _clean
from .safe_text import html as _html
from .safe_text import one_line as _name

if t.TYPE_CHECKING:
    from ..catalog import Course

__all__ = ["SimilarPair", "THRESHOLD", "MIN_SHARE_OF_SOLUTION", "MIN_MATCHED_TOKENS", "SNAPSHOT_LIMIT",
           "snapshot_text", "write_snapshots", "compare_snapshots", "find_similar", "pairs_html",
           "similarity_page", "write_similarity_html", "CSS", "snapshot_index",
           "pairs_table", "no_pairs_text"]

#: A pair is flagged when one student's code is at least this share of code found in the other's.
THRESHOLD = 0.5
#: ... and they share at least this fraction of the course solution's fingerprinted tokens.
MIN_SHARE_OF_SOLUTION = 0.5
#: ... or, without a solution to measure an exercise by, at least this many tokens.
MIN_MATCHED_TOKENS = 100
#: Bytes of code kept per student and exercise; the snapshot says where it was cut.
SNAPSHOT_LIMIT = 512 * 1024
#: Lines of code shown around each shared region in :func:`pairs_html` (the rest are counted).
CONTEXT_LINES = 3
#: Pairs shown side by side in :func:`pairs_html` (the most similar first); the rest are listed.
MAX_PAIRS_SHOWN = 50
#: copydetect's k-gram length (noise threshold) and winnowing window (its defaults, 25 and 30 - 25 + 1).
NOISE_TOKENS, WINDOW = 25, 6
#: A pair is compared in full only when this share of the threshold of its fingerprints is common
#: (measured: at a token share of 0.45-0.55 the fingerprint share is 0.29-0.55, never below 0.6 of it).
_PREFILTER = 0.4

_HEADER = "# --- "


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code for one exercise is too alike, and where."""

    #: The exercise compared.
    exercise: str
    #: The two student ids, in sorted order.
    students: tuple[str, str]
    #: The larger of the two shares below (0..1): what the threshold is compared with.
    similarity: float
    #: For each student, the share of their fingerprinted code found in the other's.
    shares: tuple[float, float]
    #: Tokens (after copydetect's filtering) of the first student's code that match.
    matched_tokens: int
    #: For each student, the matched regions as ``(start, end)`` character offsets into ``code``.
    regions: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
    #: The two snapshots compared.
    code: tuple[str, str]


# -- snapshots: the code that was graded, as one text per student and exercise -------------------

def _python_files(package: Path) -> list[Path]:
    """The regular ``.py`` files under ``package``, sorted by path; symlinks are neither followed nor read."""
    found = []
    for folder, dirs, files in os.walk(package, followlinks=False):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            try:
                regular = stat.S_ISREG(path.lstat().st_mode)
            except OSError:
                continue
            if regular and name.endswith(".py"):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(package).as_posix())


def snapshot_text(package: Path, limit: int = SNAPSHOT_LIMIT) -> str:
    """The ``.py`` files of ``package`` as one text, each after ``# --- <package>/<path>``.

    At most ``limit`` bytes of code (UTF-8); a cut is said in the text. Bytes that are not UTF-8
    become U+FFFD, control characters are dropped.
    """
    parts: list[str] = []
    used = 0
    files = _python_files(package)
    for index, path in enumerate(files):
        rel = f"{package.name}/{path.relative_to(package).as_posix()}"
        try:
            code = _clean(path.read_bytes().decode("utf-8", errors="replace"))
        except OSError:
            continue
        block = f"{_HEADER}{_name(rel)}\n{code.rstrip()}\n\n"
        size = len(block.encode("utf-8"))
        if used + size > limit:
            room = block.encode("utf-8")[: max(limit - used, 0)].decode("utf-8", errors="ignore")
            parts.append(room[: room.rfind("\n") + 1])
            parts.append(f"{_HEADER}cut: the snapshot stops at {limit // 1024} KiB; "
                         f"{len(files) - index} file(s) not shown in full\n")
            break
        parts.append(block)
        used += size
    return "".join(parts)


def write_snapshots(stage_root: Path, student_dir: Path, exercises: t.Iterable[str]) -> None:
    """``student_dir/code/<exercise>.py`` for every exercise staged under ``stage_root``.

    An exercise that was not handed in leaves no snapshot (an older one is removed), so a
    re-graded student is never compared on code they no longer submit.
    """
    folder = student_dir / "code"
    for name in exercises:
        package, target = stage_root / name, folder / f"{name}.py"
        if package.is_dir() and not package.is_symlink():
            atomic_write(target, snapshot_text(package))
        else:
            target.unlink(missing_ok=True)
    for leftover in folder.glob(".*.py.*") if folder.is_dir() else ():
        leftover.unlink(missing_ok=True)  # a killed batch's half-written snapshot


# -- comparison ------------------------------------------------------------------------------------

@dataclass
class _Print:
    """One snapshot's copydetect fingerprint (its ``hashes`` as a plain set, for fast intersections)."""

    fp: t.Any  # copydetect.CodeFingerprint, the stub's fingerprints removed
    hashes: set[int]


def _fingerprint(text: str, boilerplate: t.AbstractSet[int]) -> _Print:
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    fp = CodeFingerprint("snapshot.py", NOISE_TOKENS, WINDOW, language="python", fp=io.StringIO(text))
    common = fp.hashes & boilerplate
    if common:
        fp.hashes = fp.hashes - common
        for value in common:
            fp.hash_idx.pop(value, None)
        fp.token_coverage = get_token_coverage(fp.hash_idx, NOISE_TOKENS, len(fp.filtered_code))
    return _Print(fp, set(fp.hashes))


def _all_kgrams(text: str) -> set[int]:
    """Every k-gram hash of ``text`` (no winnowing): what boilerplate removal compares against."""
    from copydetect import CodeFingerprint

    return set(CodeFingerprint("stub.py", NOISE_TOKENS, 1, language="python", fp=io.StringIO(text)).hashes)


def _compare(a: _Print, b: _Print) -> tuple[int, tuple[float, float], tuple[t.Any, t.Any]]:
    """``copydetect.compare_files(a.fp, b.fp)``, vectorized: the same tokens, shares and slices.

    copydetect builds one small numpy array per shared fingerprint; with 19,900 pairs in a class
    of 200 that was most of the time, so the positions are gathered into one array directly.
    """
    import numpy as np
    from copydetect.utils import get_copied_slices

    common = a.hashes & b.hashes
    out = []
    for p in (a, b):
        index = p.fp.hash_idx
        at = np.fromiter((i for h in common for i in index[h]), dtype=np.int64)
        slices = get_copied_slices(at, NOISE_TOKENS).astype(np.int64)
        overlap = int(np.sum(slices[1] - slices[0])) if slices.size else 0
        share = overlap / p.fp.token_coverage if p.fp.token_coverage else 0.0
        offsets = p.fp.offsets
        if slices.size and len(offsets):  # filtered positions -> positions in the code as written
            slices = slices + offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], slices), 0, len(offsets) - 1)]
        out.append((overlap, float(share), slices))
    return out[0][0], (out[0][1], out[1][1]), (out[0][2], out[1][2])


def _regions(slices: t.Any, size: int) -> tuple[tuple[int, int], ...]:
    """A 2xN slice array as sorted, merged, in-bounds ``(start, end)`` pairs."""
    spans = sorted((max(0, int(a)), min(size, int(b))) for a, b in zip(*slices) if int(b) > int(a))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


@functools.lru_cache(maxsize=64)
def _course_side(boilerplate: tuple[str, ...], solution: str | None) -> tuple[frozenset[int], float]:
    """The stub's k-grams and the least code a flagged pair must share: the same for every batch of
    the course, so computed once per process (``grade batch`` does it while the students are graded)."""
    common: set[int] = set()
    for text in boilerplate:
        common |= _all_kgrams(text)
    solution_tokens = float(_fingerprint(solution, common).fp.token_coverage) if solution is not None else 0.0
    min_tokens = MIN_SHARE_OF_SOLUTION * solution_tokens if solution_tokens else float(MIN_MATCHED_TOKENS)
    return frozenset(common), min_tokens


def course_texts(course: "Course", exercise: str) -> tuple[list[str], str | None]:
    """The stub texts (boilerplate) and the solution's text of ``exercise``."""
    folder = course.exercise(exercise).solution
    return _stub_texts(course, exercise), (snapshot_text(folder) if folder.is_dir() else None)


def prepare(course: "Course", exercises: t.Sequence[str]) -> None:
    """Compute the course's side of copy detection ahead of :func:`find_similar` (cached)."""
    for exercise in exercises:
        boilerplate, solution = course_texts(course, exercise)
        _course_side(tuple(boilerplate), solution)


def compare_snapshots(exercise: str, snapshots: t.Mapping[str, str], boilerplate: t.Sequence[str] = (),
                      solution: str | None = None, threshold: float = THRESHOLD) -> list[SimilarPair]:
    """Every pair of ``snapshots`` (student id -> code) that is flagged, the most similar first.

    ``boilerplate``: texts whose code never counts (the stub, as a package and as a notebook).
    ``solution``: the course's solution, whose size sets how much code a pair must share.
    """
    common, min_tokens = _course_side(tuple(boilerplate), solution)
    by_text: dict[str, _Print] = {}  # students who hand in the same text (the stub, often) are read once
    prints = {sid: by_text.get(text) or by_text.setdefault(text, _fingerprint(text, common))
              for sid, text in sorted(snapshots.items())}
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        pa, pb = prints[a], prints[b]
        if pa.fp.token_coverage < min_tokens or pb.fp.token_coverage < min_tokens:
            continue  # one side is too small to tell
        if len(pa.hashes & pb.hashes) < _PREFILTER * threshold * min(len(pa.hashes), len(pb.hashes)):
            continue  # cheap: the fingerprints alone show the pair is far below the threshold
        matched, shares, slices = _compare(pa, pb)
        similarity = max(shares)
        if similarity < threshold or matched < min_tokens:
            continue
        pairs.append(SimilarPair(exercise, (a, b), similarity, shares, matched,
                                 (_regions(slices[0], len(pa.fp.raw_code)), _regions(slices[1], len(pb.fp.raw_code))),
                                 (pa.fp.raw_code, pb.fp.raw_code)))
    return sorted(pairs, key=lambda p: (-p.similarity, p.students))


def _without_docstring(source: str) -> str:
    """``source`` without its module docstring (a notebook has it as markdown, not code)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return "\n".join(source.splitlines()[body[0].end_lineno or 0:]) + "\n"
    return source


def _stub_texts(course: "Course", exercise: str) -> list[str]:
    """The stub as a student gets it: the package, and the package its notebook becomes at intake.

    The notebook's code cells are the stub module's code without its docstring (``grade
    notebooks`` makes them so); they are laid out as intake lays out a notebook
    (:func:`grader.notebooks.write_notebook_package`) without reading the notebook, because
    nbformat's import costs seconds here (jsonschema's format checkers compile a grammar).
    """
    import tempfile

    from ..notebooks import ConvertedNotebook, write_notebook_package

    stub = course.exercise(exercise).stub
    if not stub.is_dir():
        return []
    texts = [snapshot_text(stub)]
    module = stub / f"{exercise}.py"
    if module.is_file():
        code = _without_docstring(module.read_text(encoding="utf-8", errors="replace"))
        with tempfile.TemporaryDirectory() as tmp:
            write_notebook_package(ConvertedNotebook(code), Path(tmp) / exercise, exercise)
            texts.append(snapshot_text(Path(tmp) / exercise))
    return texts


def find_similar(out: Path, students: t.Sequence[str], exercises: t.Sequence[str],
                 course: "Course | None" = None, threshold: float = THRESHOLD) -> list[SimilarPair]:
    """The flagged pairs among ``students``, per exercise, from ``out/<student>/code/<exercise>.py``.

    With a ``course``, the exercise's stub is boilerplate and its solution sets how much code
    a pair must share; without one, nothing is boilerplate and :data:`MIN_MATCHED_TOKENS` applies.
    """
    pairs: list[SimilarPair] = []
    for exercise in exercises:
        snapshots = {}
        for student in students:
            try:
                snapshots[student] = (out / student / "code" / f"{exercise}.py").read_text(encoding="utf-8",
                                                                                          errors="replace")
            except OSError:
                continue
        if len(snapshots) < 2:
            continue
        boilerplate, solution = course_texts(course, exercise) if course is not None else ([], None)
        pairs += compare_snapshots(exercise, snapshots, boilerplate, solution, threshold)
    return pairs


def snapshot_index(out: Path) -> tuple[list[str], list[str]]:
    """The students of a results folder with snapshots, and the exercises they have snapshots of."""
    students, exercises = [], set()
    for folder in sorted(out.iterdir()) if out.is_dir() else ():
        code = folder / "code"
        if folder.is_dir() and not folder.is_symlink() and code.is_dir() and not code.is_symlink():
            names = {p.stem for p in code.glob("*.py") if p.is_file() and not p.name.startswith(".")}
            if names:
                students.append(folder.name)
                exercises |= names
    return students, sorted(exercises)


def pairs_table(pairs: t.Sequence[SimilarPair]) -> t.Any:
    """The pairs as a rich table for the terminal (student ids as plain text, never markup)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=_("Similar code"), title_justify="left")
    for header, justify in ((_("Exercise"), "left"), (_("Student"), "left"), (_("Student"), "left"),
                            (_("Similarity"), "right"), (_("Shares"), "right"), (_("Matched tokens"), "right")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for p in pairs:
        table.add_row(Text(_name(p.exercise)), Text(_name(p.students[0])), Text(_name(p.students[1])),
                      f"{p.similarity:.0%}", f"{p.shares[0]:.0%} / {p.shares[1]:.0%}", str(p.matched_tokens))
    return table


def no_pairs_text(students: int, exercises: t.Sequence[str]) -> str:
    """The line ``grade similarity`` prints when no pair is flagged."""
    return _("No two of the {count} students handed in code this alike ({exercises}).").format(
        count=students, exercises=", ".join(_name(e) for e in exercises) or "-")


# -- HTML --------------------------------------------------------------------------------------------

#: The fragment's style; :func:`pairs_html` includes it unless the page puts it in its ``<head>``.
CSS = """.similarity table.pairs{border-collapse:collapse;margin-bottom:1em}
.similarity table.pairs td,.similarity table.pairs th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.similarity .side{display:flex;gap:1em;align-items:flex-start}
.similarity .side>div{flex:1 1 0;min-width:0}
.similarity pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;overflow:auto;max-height:40em;
font-size:12px;line-height:1.35;white-space:pre}
.similarity mark{background:#ffd54f;color:inherit}
.similarity .skip{color:#888;font-style:italic}
"""


def _marked(code: str, regions: t.Sequence[tuple[int, int]], context: int = CONTEXT_LINES) -> str:
    """``code`` escaped for HTML, the ``regions`` in ``<mark>``; far from them, only a count of lines.

    Lines within ``context`` lines of a match and the ``# --- <path>`` headers are shown; each
    longer stretch without a match becomes one line saying how many lines it holds (the whole
    snapshot is ``<student>/code/<exercise>.py``).
    """
    lines = code.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    marks: list[list[tuple[int, int]]] = [[] for _ in lines]
    for start, end in regions:
        for i in range(bisect.bisect_right(starts, start) - 1, bisect.bisect_right(starts, max(start, end - 1))):
            a, b = max(start, starts[i]) - starts[i], min(end, starts[i] + len(lines[i])) - starts[i]
            if a < b:
                marks[i].append((a, b))
    hot = [i for i, m in enumerate(marks) if m]
    keep = {j for i in hot for j in range(i - context, i + context + 1)} if hot else set(range(len(lines)))
    out, skipped = [], 0
    for i, line in enumerate(lines):
        if i not in keep and not line.startswith(_HEADER):
            skipped += 1
            continue
        if skipped:
            out.append(_skip_line(skipped))
            skipped = 0
        at, parts = 0, []
        for a, b in marks[i]:
            parts += [str(_html(line[at:a])), "<mark>", str(_html(line[a:b])), "</mark>"]
            at = b
        out.append("".join(parts) + str(_html(line[at:])))
    if skipped:
        out.append(_skip_line(skipped))
    return "\n".join(out)


def _skip_line(count: int) -> str:
    return f"<span class='skip'>{_html(_('... {count} line(s) without shared code ...').format(count=count))}</span>"


def _one(text: str) -> str:
    """A student id or exercise name for HTML: one line, escaped."""
    return str(_html(_name(text)))


def pairs_html(pairs: t.Sequence[SimilarPair], *, style: bool = True) -> str:
    """An HTML fragment (no ``<html>``): a table of the pairs, then each pair side by side.

    Every piece of code and every student id is escaped; matched regions are in ``<mark>``.
    ``style=False`` leaves out the ``<style>`` element (the page then includes :data:`CSS`).
    """
    css = f"<style>{CSS}</style>" if style else ""
    if not pairs:
        return f"{css}<div class='similarity'><p>{_html(_('No two students handed in code this alike.'))}</p></div>"
    rows = []
    for n, p in enumerate(pairs):
        who = f"{_one(p.students[0])} ↔ {_one(p.students[1])}"
        link = f"<a href='#pair-{n}'>{who}</a>" if n < MAX_PAIRS_SHOWN else who
        rows.append(f"<tr><td>{_one(p.exercise)}</td><td>{link}</td><td>{p.similarity:.0%} "
                    f"({p.shares[0]:.0%} / {p.shares[1]:.0%})</td><td>{p.matched_tokens}</td></tr>")
    head = "".join(f"<th>{_html(h)}</th>" for h in (_("Exercise"), _("Students"), _("Similarity"),
                                                     _("Matched tokens")))
    parts = [css, "<div class='similarity'>", f"<table class='pairs'><tr>{head}</tr>{''.join(rows)}</table>"]
    for n, p in enumerate(pairs[:MAX_PAIRS_SHOWN]):
        title = _("{exercise}: {first} and {second}, {similarity} alike").format(
            exercise=_name(p.exercise), first=_name(p.students[0]), second=_name(p.students[1]),
            similarity=f"{p.similarity:.0%}")
        sides = "".join(f"<div><h4>{_one(p.students[i])} ({p.shares[i]:.0%})</h4>"
                        f"<pre>{_marked(p.code[i], p.regions[i])}</pre></div>" for i in (0, 1))
        parts.append(f"<section id='pair-{n}'><h3>{_html(title)}</h3><div class='side'>{sides}</div></section>")
    if len(pairs) > MAX_PAIRS_SHOWN:
        more = _("{count} more pairs are listed above but not shown side by side.")
        parts.append(f"<p>{_html(more.format(count=len(pairs) - MAX_PAIRS_SHOWN))}</p>")
    parts.append("</div>")
    return "".join(parts)


def similarity_page(pairs: t.Sequence[SimilarPair]) -> str:
    """A standalone page around :func:`pairs_html` (renders offline, runs no script)."""
    title = _html(_("Similar code"))
    note = _html(_("Marked: code both students share that the stub does not give them. "
                   "A high similarity is a reason to look, not proof of copying."))
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}\n{CSS}</style></head>"
            f"<body><h1>{title}</h1><p>{note}</p>{pairs_html(pairs, style=False)}</body></html>\n")


def write_similarity_html(out: Path, pairs: t.Sequence[SimilarPair]) -> Path:
    """``out/similarity.html``: the pairs, side by side."""
    path = out / "similarity.html"
    atomic_write(path, similarity_page(pairs))
    return path
