"""A student's feedback: ``feedback.md`` and ``feedback.html`` (the pictures the checks wrote embedded).

Both pages are made from the same :class:`~grader.results.ExerciseResult` records, in the batch's
language (labels through :func:`grader.i18n._`). Student text never becomes markup:

- In ``feedback.md`` prints and messages (which hold the student's exception text and traceback)
  sit in fenced code blocks that they cannot close, and one-line values (student id, check names,
  titles, notes) are backslash-escaped (:mod:`.safe_text`).
- ``feedback.html`` is rendered with **Jinja2 with autoescape on** from the records, not from the
  Markdown: every value is escaped by markupsafe, so a ``<script>`` a student prints is text. The
  page is standalone (inline CSS, no CDN, no script) and carries a Content-Security-Policy that
  allows only inline styles and ``data:`` images, so even a slip could load nothing remote.
  Pictures are embedded as ``data:`` URIs after :func:`picture` checked them: a regular file inside
  the student's output folder (after resolving symlinks), PNG/JPEG/SVG by its first bytes (SVG in
  an ``<img>`` runs no script), at most :data:`MAX_PICTURE_BYTES`.
"""

from __future__ import annotations

import base64
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from ..i18n import _, language
from ..results import CheckResult, ExerciseResult
from . import safe_text

__all__ = ["feedback_markdown", "feedback_html", "picture", "Picture", "MAX_PICTURE_BYTES"]

#: A picture larger than this is listed but not embedded (a check's plots are a few hundred KB).
MAX_PICTURE_BYTES = 2 << 20
#: All pictures of one page together; past it the rest are listed only.
MAX_PAGE_PICTURE_BYTES = 16 << 20
#: Lines of a message and of the student's output shown per check (the output is byte-capped already).
MESSAGE_LINES, OUTPUT_LINES = 40, 30

#: Labels of the outcomes (translated with ``_()`` when shown).
_LABEL = {"passed": "✅ passed", "failed": "❌ failed", "error": "💥 error", "timeout": "⏱ timeout",
          "skipped": "– skipped"}
#: Symbols for the HTML page that every common font has (emoji need a colour-emoji font, which a
#: plain Linux box or headless Chromium often lacks: they would show as empty boxes).
_SYMBOL = {"passed": "✓", "failed": "✗", "error": "✗", "timeout": "⌛", "skipped": "–"}


def shown_checks(result: ExerciseResult) -> list[CheckResult]:
    """The checks to list: none for an exercise that was not submitted (its note says why once,
    instead of the same sentence under each of its checks)."""
    ran = [c for c in result.checks if c.outcome != "skipped"]
    if result.notes and ran and all(c.kind == "missing" for c in ran):
        return []
    return list(result.checks)


def _points(value: float) -> str:
    return f"{value:g}"


def _head(text: str, limit: int) -> str:
    """The first ``limit`` lines of :func:`safe_text.clean` text, with a "…" line when cut."""
    rows = safe_text.clean(text).rstrip("\n").split("\n")
    return "\n".join(rows[:limit] + (["…"] if len(rows) > limit else []))


def _inside(path: str | Path, folder: Path | None) -> Path | None:
    """``path`` resolved (symlinks too), when it is inside ``folder``; else None."""
    if folder is None:
        return None
    try:
        resolved, root = Path(path).resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) and resolved != root else None


def _relative_url(path: Path, folder: Path) -> str:
    """A relative URL (percent-encoded, so never a scheme such as ``javascript:``) from ``folder``."""
    return quote(path.relative_to(folder.resolve()).as_posix(), safe="/")


# -- Markdown ------------------------------------------------------------------------------------

def _md_notes(notes: t.Sequence[str]) -> list[str]:
    """Notes as block quotes, every line escaped (a note may quote a student's file name or code)."""
    out: list[str] = []
    for note in notes:
        out += [f"> {safe_text.md_inline(row)}" if row.strip() else ">" for row in safe_text.clean(note).split("\n")]
        out.append("")
    return out


def _md_file(path: str, folder: Path | None) -> str:
    """"Written for you: NAME", a relative link only to a file inside the student's folder."""
    name = safe_text.md_inline(Path(path).name)
    inside = _inside(path, folder)
    if inside is not None and folder is not None and inside.is_file():
        name = f"[{name}](<{_relative_url(inside, folder)}>)"
    return _("Written for you: {path}").format(path=name)


def _md_check(c: CheckResult, folder: Path | None) -> list[str]:
    name = safe_text.md_inline(c.check_id.split("::", 1)[-1])
    title = f": {safe_text.md_inline(c.title)}" if c.title else ""
    md = [f"- **{name}** — {_(_LABEL[c.outcome])} ({_points(c.score)}/{_points(c.max_score)}){title}"]
    if c.message and not c.passed:
        md += ["", *safe_text.md_fence(_head(c.message, MESSAGE_LINES), indent="  ")]
    for path in c.files:
        md += ["", "  " + _md_file(path, folder)]
    if c.output:
        md += ["", "  " + _("Your output:"), "", *safe_text.md_fence(_head(c.output, OUTPUT_LINES), indent="  ")]
    return md


def feedback_markdown(student_id: str, results: t.Sequence[ExerciseResult], notes: t.Sequence[str],
                      out_dir: Path | None = None) -> str:
    """The student's ``feedback.md``; files checks wrote inside ``out_dir`` are linked relative to it."""
    total, maximum = sum(r.score for r in results), sum(r.max_score for r in results)
    md = ["# " + _("Feedback for {student}").format(student=safe_text.md_inline(student_id)), "",
          "**" + _("Total: {score} / {max_score} points").format(score=_points(total), max_score=_points(maximum))
          + "**", ""]
    md += _md_notes(notes)
    for r in results:
        md += ["", "## " + _("{exercise}: {score} / {max_score} points").format(
            exercise=safe_text.md_inline(r.exercise), score=_points(r.score), max_score=_points(r.max_score)), ""]
        md += _md_notes(r.notes)
        for c in shown_checks(r):
            md += _md_check(c, out_dir)
    return "\n".join(md) + "\n"


# -- HTML ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    """A file a check wrote, as the page shows it: embedded (``src`` is a data: URI) or only named."""

    name: str
    src: str = ""
    #: A relative link to the file when it is not embedded but lies in the student's folder.
    href: str = ""
    #: Why it is not embedded (translated), or "".
    why: str = ""


_MIME = (("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff"))


def _mime(head: bytes) -> str:
    """The picture type by its first bytes (never by the file name): PNG, JPEG or SVG; else ""."""
    for mime, magic in _MIME:
        if head.startswith(magic):
            return mime
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<svg", b"<?xml")) and b"<svg" in head[:4096].lower():
        return "image/svg+xml"
    return ""


def picture(path: str, folder: Path | None, budget: int = MAX_PICTURE_BYTES) -> Picture:
    """``path`` as a :class:`Picture`: embedded only when it is a regular file inside ``folder``
    (symlinks resolved), a PNG/JPEG/SVG by content, and at most ``min(budget, MAX_PICTURE_BYTES)``."""
    name = safe_text.one_line(Path(path).name)
    inside = _inside(path, folder)
    if inside is None or folder is None:
        return Picture(name, why=_("not shown: it is not in your output folder"))
    href = _relative_url(inside, folder)
    try:
        if not inside.is_file():
            return Picture(name, why=_("not shown: it is not a file"))
        size = inside.stat().st_size
        if size > min(budget, MAX_PICTURE_BYTES):
            return Picture(name, href=href, why=_("not shown here: it is too large; open the file"))
        with open(inside, "rb") as f:
            data = f.read(MAX_PICTURE_BYTES + 1)
    except OSError:
        return Picture(name, why=_("not shown: it could not be read"))
    mime = _mime(data)
    if not mime or len(data) > MAX_PICTURE_BYTES:
        return Picture(name, href=href, why=_("not shown here: it is not a PNG, JPEG or SVG picture; open the file"))
    return Picture(name, src=f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")


_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.total { font-size: 1.1rem; font-weight: 600; }
.note { border-left: 4px solid #c77d00; background: #fff7e6; margin: .6rem 0; padding: .1rem .8rem; }
ul.checks { list-style: none; padding: 0; }
li.check { border: 1px solid #e2e2e2; border-left: 5px solid #999; border-radius: 4px; margin: .6rem 0;
           padding: .5rem .8rem; }
li.passed { border-left-color: #2e8540; } li.failed, li.error { border-left-color: #c62828; }
li.timeout { border-left-color: #c77d00; } li.skipped { border-left-color: #bbb; }
.name { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
.points { float: right; font-variant-numeric: tabular-nums; }
.title { color: #555; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border-radius: 4px;
      padding: .5rem .7rem; font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
figure { margin: .6rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
summary { cursor: pointer; color: #555; }
</style>
</head>
<body>
<h1>{{ heading }}</h1>
<p class="total">{{ total }}</p>
{% for note in notes %}<div class="note"><pre>{{ note }}</pre></div>
{% endfor %}
{% for ex in exercises %}<section class="exercise">
<h2>{{ ex.heading }}</h2>
{% for note in ex.notes %}<div class="note"><pre>{{ note }}</pre></div>
{% endfor %}<ul class="checks">
{% for c in ex.checks %}<li class="check {{ c.outcome }}">
<div><span class="status">{{ c.label }}</span> <strong class="name">{{ c.name }}</strong>
<span class="points">{{ c.points }}</span></div>
{% if c.title %}<div class="title">{{ c.title }}</div>{% endif %}
{% if c.message %}<pre class="message">{{ c.message }}</pre>{% endif %}
{% for p in c.pictures %}<figure>{% if p.src %}<img src="{{ p.src }}" alt="{{ p.name }}">{% endif %}
<figcaption>{{ p.caption }}</figcaption></figure>
{% endfor %}{% if c.output %}<details open><summary>{{ your_output }}</summary><pre class="output">{{ c.output }}</pre></details>
{% endif %}</li>
{% endfor %}</ul>
</section>
{% endfor %}</body>
</html>
"""

def _caption(shown: Picture) -> Markup:
    """"Written for you: NAME (why)" as markup; Markup.format escapes every value it fills in."""
    name = Markup('<a href="{}">{}</a>').format(shown.href, shown.name) if shown.href else escape(shown.name)
    caption = escape(_("Written for you: {path}")).format(path=name)
    return caption + Markup(" ({})").format(shown.why) if shown.why else caption


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_TEMPLATE = _ENV.from_string(_PAGE)


def feedback_html(student_id: str, results: t.Sequence[ExerciseResult], notes: t.Sequence[str],
                  out_dir: Path | None = None) -> str:
    """The student's ``feedback.html``: a standalone page; pictures inside ``out_dir`` embedded."""
    budget = MAX_PAGE_PICTURE_BYTES
    exercises = []
    for r in results:
        checks = []
        for c in shown_checks(r):
            pictures = []
            for path in c.files:
                shown = picture(path, out_dir, budget)
                budget -= len(shown.src)
                pictures.append({"src": shown.src, "name": shown.name, "caption": _caption(shown)})
            checks.append({
                "outcome": c.outcome,
                "label": f"{_SYMBOL[c.outcome]} {_(_LABEL[c.outcome]).split(' ', 1)[-1]}",
                "name": safe_text.one_line(c.check_id.split("::", 1)[-1]), "title": safe_text.one_line(c.title),
                "points": f"{_points(c.score)}/{_points(c.max_score)}",
                "message": _head(c.message, MESSAGE_LINES) if c.message and not c.passed else "",
                "output": _head(c.output, OUTPUT_LINES) if c.output else "", "pictures": pictures})
        exercises.append({"heading": _("{exercise}: {score} / {max_score} points").format(
            exercise=safe_text.one_line(r.exercise), score=_points(r.score), max_score=_points(r.max_score)),
            "notes": [safe_text.clean(n) for n in r.notes], "checks": checks})
    total, maximum = sum(r.score for r in results), sum(r.max_score for r in results)
    # Jinja2 escapes every value (autoescape); clean() has removed control characters before.
    return _TEMPLATE.render(
        lang=language(), heading=_("Feedback for {student}").format(student=safe_text.one_line(student_id)),
        total=_("Total: {score} / {max_score} points").format(score=_points(total), max_score=_points(maximum)),
        notes=[safe_text.clean(n) for n in notes], exercises=exercises, your_output=_("Your output:"))
