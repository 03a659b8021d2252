"""German (and English) feedback with gettext catalogs.

**Platform messages** (table headers, timeouts, "has shape …, but …", …) are in the gettext catalog
``grader/locale/<lang>/LC_MESSAGES/grader.po`` (compiled to ``grader.mo`` next to it; both are in
the repository, ``python -m grader.i18n compile`` rebuilds the ``.mo``). **Exercise texts** (check
titles, hints such as "the kernel is flipped", an exercise's own messages) are in a catalog per
exercise: ``checks/<name>/de.po`` for the public checks (it ships to students) and
``reference/<name>/de.po`` for the hidden ones (it does not). Every catalog is keyed by the English
text, so checks are written in English as before.

Text the report writes itself goes through :func:`_` (``gettext``). Messages made elsewhere (by the
sandbox, ``grader.testing``, a check) are English strings with values in them; a msgid with
``{placeholders}`` (``python-brace-format``) is a *template* that matches such a message line, and
its msgstr is filled with the same values. Values that are themselves catalog texts (a hint, "is
NaN", why a worker died) are translated too. A message line may be several templates in a row
("… is expected. Two axes look swapped …"). Lines after "In your code:" are the student's
traceback and stay as they are. :class:`Translator` records every line it could not translate,
so the tests can prove that a German report has no English message left.
"""

from __future__ import annotations

import ast
import gettext
import io
import os
import re
import struct
import sys
import typing as t
from dataclasses import replace
from pathlib import Path

if t.TYPE_CHECKING:
    from .catalog import Exercise
    from .results import ExerciseResult

__all__ = ["LANGUAGES", "detect_language", "set_language", "language", "_", "Translator", "read_po",
           "compile_po", "extract_messages", "extract_exercise_texts", "missing_translations", "audit_exercise", "audit_results", "skeleton", "exercise_catalog_paths", "translate_text"]

DOMAIN = "grader"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "de")
#: The line after which a message holds the student's traceback (never translated).
TRACEBACK_MARK = "In your code:"

#: Placeholders whose values are themselves catalog texts (a hint, why a worker died): a value no
#: catalog translates counts as untranslated. Other values (calls, numbers, names) stay as they are.
TEXT_FIELDS = {"mistake", "why", "magnitude", "quantity", "outcome", "before"}

_active: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def detect_language(environ: t.Mapping[str, str] | None = None) -> str:
    """``de`` when the locale is German (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, in
    gettext's order; the first one set decides), else ``en``."""
    env = os.environ if environ is None else environ
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(key, "")
        if value:
            first = value.split(":", 1)[0].lower()
            return "de" if first.startswith("de") else "en"
    return "en"


def platform_translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang], fallback=True)


def set_language(lang: str) -> None:
    """Make ``lang`` the language of :func:`_` and of :func:`translate_text` for this process."""
    global _active, _language
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _active, _language = platform_translations(lang), lang


def language() -> str:
    return _language


def _(message: str) -> str:
    """gettext for the platform's own texts, in the language set with :func:`set_language`."""
    return _active.gettext(message)


def translate_text(message: str) -> str:
    """A platform message (e.g. an error) in the current language; unmatched lines stay as they are."""
    return message if _language == "en" else Translator(_language).text(message)


# -- .po / .mo -----------------------------------------------------------------------------------

_PO_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def read_po(text: str, *, with_fuzzy: bool = False) -> dict[str, str]:
    """``{msgid: msgstr}`` of a ``.po`` file (header under ``""``). Fuzzy entries are left out, as
    ``msgfmt`` does, unless ``with_fuzzy``; untranslated entries have ``""``."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, fuzzy
        if msgid is not None and msgstr is not None and (with_fuzzy or not fuzzy):
            entries["".join(msgid)] = "".join(msgstr)
        msgid = msgstr = None
        fuzzy = False

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if msgstr is not None:
                flush()
            fuzzy = True
        elif line.startswith("#") or not line:
            if msgstr is not None:
                flush()
        elif line.startswith("msgid "):
            was_fuzzy = fuzzy
            flush()
            fuzzy = was_fuzzy
            msgid, current = [], None
            current = msgid
            current.extend(_unquote(m) for m in _PO_STRING.findall(line[6:]))
        elif line.startswith("msgstr "):
            msgstr = []
            current = msgstr
            current.extend(_unquote(m) for m in _PO_STRING.findall(line[7:]))
        elif line.startswith('"') and current is not None:
            current.extend(_unquote(m) for m in _PO_STRING.findall(line))
    flush()
    return entries


def compile_po(entries: t.Mapping[str, str]) -> bytes:
    """A GNU ``.mo`` file of the translated ``entries`` (what ``msgfmt`` writes, without a hash table)."""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in entries.items() if v)
    count = len(pairs)
    originals_at = 28
    translations_at = originals_at + 8 * count
    data_at = translations_at + 8 * count
    table_o, table_t, blob = [], [], b""
    for key, _value in pairs:
        table_o.append((len(key), data_at + len(blob)))
        blob += key + b"\0"
    for _key, value in pairs:
        table_t.append((len(value), data_at + len(blob)))
        blob += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    return (header + b"".join(struct.pack("<2I", *e) for e in table_o)
            + b"".join(struct.pack("<2I", *e) for e in table_t) + blob)


def load_po(path: Path) -> gettext.GNUTranslations:
    """A ``.po`` file compiled in memory and loaded with gettext's own ``GNUTranslations``."""
    return gettext.GNUTranslations(io.BytesIO(compile_po(read_po(path.read_text(encoding="utf-8")))))


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def exercise_catalog_paths(exercise: "Exercise", lang: str = "de") -> list[Path]:
    """``checks/<name>/<lang>.po`` and ``reference/<name>/<lang>.po``, those that exist."""
    return [p for p in (exercise.public_checks / f"{lang}.po", exercise.reference / f"{lang}.po") if p.is_file()]


# -- templates -----------------------------------------------------------------------------------

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def skeleton(template: str) -> str:
    """A template with every placeholder written ``{}``, for comparing source and catalog."""
    return re.sub(r"\{[^{}]*\}", "{}", template)


def _pattern(msgid: str) -> re.Pattern[str]:
    parts, names, last = [], [], 0
    for m in _FIELD.finditer(msgid):
        parts.append(re.escape(msgid[last:m.start()]))
        name = m.group(1)
        group = f"{name}{names.count(name)}" if name in names else name
        names.append(name)
        parts.append(f"(?P<{group}>.*?)")
        last = m.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("".join(parts), re.S)


def _prepare(lang: str, paths: t.Sequence[Path]) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str, str]]]:
    """The exact entries and the templates (most specific first) of ``paths`` and the platform catalog."""
    catalogs: list[dict[str, str]] = []
    if lang != "en":
        catalogs += [_catalog(load_po(p)) for p in paths]
        catalogs.append(_catalog(platform_translations(lang)))
    exact: dict[str, str] = {}
    for catalog in reversed(catalogs):  # the exercise's own texts win over the platform's
        exact.update({k: v for k, v in catalog.items() if k and v})
    templates = [(k, v) for k, v in exact.items() if _FIELD.search(k)]
    # most specific first: more literal text, then fewer placeholders
    templates.sort(key=lambda kv: (-len(_FIELD.sub("", kv[0])), len(_FIELD.findall(kv[0]))))
    return exact, [(_pattern(k), k, v) for k, v in templates]


#: (lang, catalog files with their mtimes) -> what :func:`_prepare` made of them
_PREPARED: dict[tuple[str, tuple[tuple[str, int], ...]], tuple[dict[str, str], list[t.Any]]] = {}


class Translator:
    """Translates result texts into ``lang`` with the platform catalog and, given an exercise, its
    own catalogs. ``untranslated`` collects the lines that no catalog entry matched."""

    def __init__(self, lang: str, exercise: "Exercise | None" = None) -> None:
        self.lang = lang
        self.untranslated: list[str] = []
        paths = exercise_catalog_paths(exercise, lang) if lang != "en" and exercise is not None else []
        for dep in exercise.depends if lang != "en" and exercise is not None else ():
            # a check that blames a dependency quotes that exercise's check titles and messages
            paths += [p for p in (exercise.public_checks.parent / dep / f"{lang}.po",
                                  exercise.reference.parent / dep / f"{lang}.po") if p.is_file()]
        # a batch makes a Translator per student and exercise: read and compile each set of catalogs once
        platform = po_path(lang).with_suffix(".mo")
        files = [*paths, platform] if platform.is_file() else paths
        key = (lang, tuple((str(p), p.stat().st_mtime_ns) for p in files))
        if key not in _PREPARED:
            _PREPARED[key] = _prepare(lang, paths)
        self.exact, self.templates = _PREPARED[key]

    # -- one piece of text --
    def _full(self, text: str, depth: int) -> str | None:
        if text in self.exact:
            return self.exact[text]
        if depth > 3:
            return None
        for pattern, _msgid, msgstr in self.templates:
            m = pattern.fullmatch(text)
            if m:
                return self._fill(msgstr, m, depth)
        return None

    def _fill(self, msgstr: str, m: re.Match[str], depth: int) -> str:
        values = {}
        for key, value in m.groupdict().items():
            values[key] = self._value(value, depth)
            if values[key] == value and key.rstrip("0123456789") in TEXT_FIELDS and value.strip():
                self.untranslated.append(value)  # a hint or a reason that no catalog knows
        counters: dict[str, int] = {}

        def sub(f: re.Match[str]) -> str:
            name = f.group(1)
            n = counters.get(name, 0)
            counters[name] = n + 1
            return values.get(f"{name}{n}" if n else name, values.get(name, f.group(0)))

        return _FIELD.sub(sub, msgstr)

    def _value(self, value: str, depth: int) -> str:
        core = value.strip()
        if not core or not re.search(r"[A-Za-z]{2}", core):
            return value
        found = self._full(core, depth + 1)
        if found is None and "; " in core:  # a list of messages ("conv.py, line 3: F.conv2d; …")
            parts = [self._full(part, depth + 1) for part in core.split("; ")]
            if all(p is not None for p in parts):
                found = "; ".join(t.cast(list[str], parts))
        if found is None:
            return value
        start = value.index(core)
        return value[:start] + found + value[start + len(core):]

    def line(self, text: str, depth: int = 0) -> str | None:
        """The translation of one line, or ``None``. A line may be several messages in a row."""
        stripped = text.strip()
        if not stripped:
            return text
        lead = text[: len(text) - len(text.lstrip())]
        found = self._full(stripped, depth)
        if found is not None:
            return lead + found
        for pattern, msgid, msgstr in self.templates:
            m = None if msgid.endswith("}") else pattern.match(stripped)
            if m and m.end() < len(stripped) and stripped[m.end()].isspace():
                rest = self.line(stripped[m.end():].lstrip(), depth)
                if rest is not None:
                    return lead + self._fill(msgstr, m, depth) + " " + rest
        for msgid, msgstr in self._sentences():
            if stripped.startswith(msgid + " "):
                rest = self.line(stripped[len(msgid):].lstrip(), depth)
                if rest is not None:
                    return lead + msgstr + " " + rest
        return None

    def _sentences(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_plain"):
            self._plain = sorted(((k, v) for k, v in self.exact.items() if not _FIELD.search(k)),
                                 key=lambda kv: -len(kv[0]))
        return self._plain

    def text(self, message: str) -> str:
        """A whole message: line by line, the student's traceback (after "In your code:") as is."""
        if self.lang == "en" or not message:
            return message
        out, in_traceback = [], False
        for raw in message.split("\n"):
            if in_traceback:
                out.append(raw)
                continue
            found = self.line(raw)
            if found is None:
                self.untranslated.append(raw)
                found = raw
            out.append(found)
            if raw.strip() == TRACEBACK_MARK:
                in_traceback = True
        return "\n".join(out)

    def title(self, title: str) -> str:
        return self.text(title)

    def result(self, result: "ExerciseResult") -> "ExerciseResult":
        """A copy of ``result`` with titles, messages and notes translated (outputs stay)."""
        if self.lang == "en":
            return result
        checks = [replace(c, title=self.title(c.title), message=self.text(c.message),
                          hint=self.text(c.hint) if c.hint else "") for c in result.checks]
        return replace(result, checks=checks, notes=[self.text(n) for n in result.notes])


def _catalog(translations: gettext.NullTranslations) -> dict[str, str]:
    # gettext keeps a GNU catalog's entries in ``_catalog`` (there is no public way to list them);
    # templates have to be listed to be matched against messages.
    return dict(getattr(translations, "_catalog", {}) or {})


# -- extraction: which messages the code can produce ----------------------------------------------

#: The modules whose messages a student may read (``grade check``, the feedback); the tests require a
#: German catalog entry for every message these modules can produce.
MESSAGE_MODULES = ("sandbox.py", "testing.py", "plugin.py", "proxy.py", "scenarios.py", "runner.py",
                   "notebooks.py", "report.py", "summary.py", "catalog.py", "cli.py", "reports/exports.py",
                   "reports/feedback.py", "reports/similarity.py", "reports/class_report.py",
                   "dependencies.py", "webapp/app.py", "webapp/uploads.py", "webapp/student_model.py")
#: Calls whose string arguments are messages a student may read.
MESSAGE_CALLS = {"fail", "skip", "CheckFailed", "StudentTimeout", "WorkerCrashed", "BadReply", "GradeError",
                 "ExerciseNotFound", "SubmissionNotFound", "CourseNotFound", "ExerciseConfigError",
                 "NotebookError", "_give_up_imports", "mark_unavailable", "AssertionError", "_", "gettext"}
#: Strings in message positions that are not messages (outcome codes, code the grader writes).
NOT_MESSAGES = {"passed", "failed", "error", "timeout", "skipped", "{value}pass  # IPython line dropped by the grader"}
#: Variables that hold (parts of) such messages.
MESSAGE_NAMES = {"message", "text", "why", "extra", "magnitude", "note", "lines", "mentions", "notes"}
#: Functions whose returned strings are such messages.
MESSAGE_RETURNS = {"describe_returncode", "_text", "_hint", "_outcome", "_first_problem"}
#: Module-level dicts whose values are such messages.
MESSAGE_DICTS = {"_SIGNAL_HINTS", "_LABEL"}


def _template(node: ast.AST) -> list[str]:
    """The template(s) a string expression can produce: ``f"{what} has {n}"`` -> ``{what} has {n}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                out.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                expr = value.value
                name = (expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute)
                        else getattr(getattr(expr, "func", None), "id", None) or "value")
                out.append("{" + name + "}")
        return ["".join(out)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        def side(operand: ast.AST) -> list[str]:
            return _template(operand) or ["{value}"]

        return [a + b for a in side(node.left) for b in side(node.right)]
    if isinstance(node, ast.IfExp):
        return _template(node.body) + _template(node.orelse)
    if isinstance(node, (ast.Tuple, ast.List)):
        return [s for e in node.elts for s in _template(e)]
    if isinstance(node, ast.ListComp):
        return _template(node.elt)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "join":
            return []
        return _template(node.func.value)  # "...".rstrip(), f"...".format(...)
    if isinstance(node, ast.Subscript):
        return _template(node.value)
    return []


def _pieces(template: str) -> list[str]:
    """The message lines of a template, without bare placeholders and punctuation."""
    out = []
    for piece in template.split("\n"):
        piece = piece.strip()
        if piece not in NOT_MESSAGES and re.search(r"[A-Za-z]{2}", re.sub(r"\{[^{}]*\}", "", piece)):
            out.append(piece)
    return out


def extract_messages(path: Path) -> list[tuple[str, int]]:
    """``(template, line)`` for every message a student may read that ``path``'s code can produce."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []

    def add(node: ast.AST | None) -> None:
        if node is not None:
            for template in _template(node):
                found.extend((p, getattr(node, "lineno", 0)) for p in _pieces(template))

    class Visitor(ast.NodeVisitor):
        function: list[str] = []

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            self.function.append(node.name)
            self.generic_visit(node)
            self.function.pop()

        visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            target = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if name in MESSAGE_CALLS or (name in ("append", "extend") and target in MESSAGE_NAMES):
                for arg in node.args[:1]:
                    add(arg)
            self.generic_visit(node)

        def visit_Assign(self, node: ast.Assign) -> None:
            for target in node.targets:
                if (isinstance(target, ast.Name) and target.id in MESSAGE_NAMES) or (
                        isinstance(target, ast.Attribute) and target.attr in MESSAGE_NAMES):
                    add(node.value)
                if isinstance(target, ast.Name) and target.id in MESSAGE_DICTS and isinstance(node.value, ast.Dict):
                    for value in node.value.values:
                        add(value)
            self.generic_visit(node)

        def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
            if isinstance(node.target, ast.Name) and node.target.id in MESSAGE_NAMES:
                add(node.value)
            self.generic_visit(node)

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            if isinstance(node.target, ast.Name) and node.target.id in MESSAGE_NAMES:
                add(node.value)
            self.generic_visit(node)

        def visit_Return(self, node: ast.Return) -> None:
            if self.function and self.function[-1] in MESSAGE_RETURNS:
                add(node.value)
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def extract_exercise_texts(exercise: "Exercise") -> list[tuple[str, str, bool]]:
    """``(template, "file:line", public)`` for every text of an exercise's checks a student may read:
    check titles (a test's docstring, first line), messages (``fail(...)``, strings returned by
    helpers), hints (keys of the dict a ``mistakes`` function returns, values of a ``hints`` dict)."""
    found: list[tuple[str, str, bool]] = []
    folders = [(exercise.public_checks, True), (exercise.reference, False)]
    for folder, public in folders:
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            if path.name in ("implementation.py", "__init__.py"):
                continue  # the trusted implementation says nothing to students
            rel = f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [(t_, f"{rel}:{line}", public) for t_, line in extract_messages(path)]
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if node.name.startswith("test") and doc:
                        found.append((doc.strip().splitlines()[0], f"{rel}:{node.lineno}", public))
                    helper = not node.name.startswith("test")
                    for sub in ast.walk(node):
                        if helper and isinstance(sub, ast.Return) and sub.value is not None:
                            found += [(p, f"{rel}:{sub.lineno}", public) for t_ in _template(sub.value)
                                      for p in _pieces(t_)]
                        if node.name.endswith("mistakes") and isinstance(sub, ast.Dict):
                            found += [(p, f"{rel}:{sub.lineno}", public) for k in sub.keys if k is not None
                                      for t_ in _template(k) for p in _pieces(t_)]
                        if (node.name.endswith("mistakes") and isinstance(sub, ast.Subscript)
                                and isinstance(sub.ctx, ast.Store)):
                            found += [(p, f"{rel}:{sub.lineno}", public) for t_ in _template(sub.slice)
                                      for p in _pieces(t_)]
                        whats = [sub.value] if (isinstance(sub, ast.Assign) and any(
                            isinstance(tg, ast.Name) and tg.id == "what" for tg in sub.targets)) else []
                        if isinstance(sub, ast.Call):
                            whats += [kw.value for kw in sub.keywords if kw.arg == "what"]
                        found += [(p, f"{rel}:{getattr(w, 'lineno', 0)}", public) for w in whats
                                  for t_ in _template(w) for p in _pieces(t_) if _is_prose(p)]
                        if (isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Dict)
                                and any(isinstance(tg, ast.Name) and tg.id == "hints" for tg in sub.targets)):
                            found += [(p, f"{rel}:{sub.lineno}", public) for v in sub.value.values
                                      for t_ in _template(v) for p in _pieces(t_)]
    return found


def _is_prose(text: str) -> bool:
    """Whether a ``what=`` text is words ("two callbacks with order …"), not a call ("conv2d(x, w)")."""
    outside = re.sub(r"(?<=[\w\]}])\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}", " ", text)  # calls, not asides
    return bool(re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", outside))


def missing_translations(exercise: "Exercise", lang: str = "de") -> list[str]:
    """The exercise's texts without a ``lang`` entry, as ``file:line: text``. A public check's
    text must be translated in ``checks/<name>/<lang>.po`` (the hidden catalog does not ship)."""
    platform = {skeleton(k) for k, v in _catalog(platform_translations(lang)).items() if v}
    public_po, hidden_po = exercise.public_checks / f"{lang}.po", exercise.reference / f"{lang}.po"
    public = {skeleton(k) for k, v in _po_entries(public_po).items() if v} | platform
    everything = public | {skeleton(k) for k, v in _po_entries(hidden_po).items() if v}
    return [f"{where}: {text}" for text, where, is_public in extract_exercise_texts(exercise)
            if skeleton(text) not in (public if is_public else everything)]


def audit_exercise(exercise: "Exercise", lang: str = "de", mutants: t.Sequence[str] | None = None,
                   device: str = "cpu") -> dict[str, list[str]]:
    """Grade the stub and the mutants (all, or those named) with every check, translate each result
    into ``lang`` and return ``{subject: untranslated lines}`` for the subjects that have any.
    Student output and tracebacks are not messages and do not count."""
    from .validation import validate_exercise

    report = validate_exercise(exercise, device=device, only=None if mutants is None else [*mutants])
    return audit_results(exercise, report.results, lang)


def audit_results(exercise: "Exercise", results: t.Mapping[str, "ExerciseResult"],
                  lang: str = "de") -> dict[str, list[str]]:
    """``{subject: untranslated lines}`` of graded results (a validation's: stub, mutants) in ``lang``.

    The solution's result has no message to translate; it is left out.
    """
    found: dict[str, list[str]] = {}
    for what, result in results.items():
        if what == "solution":
            continue
        translator = Translator(lang, exercise)
        translator.result(result)
        if translator.untranslated:
            found[what] = list(dict.fromkeys(translator.untranslated))
    return found


def _po_entries(path: Path) -> dict[str, str]:
    return read_po(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _main(argv: list[str]) -> int:
    """``python -m grader.i18n compile``: rebuild every ``.mo`` from its ``.po``;
    ``python -m grader.i18n missing``: list the messages of the code that have no German entry."""
    command = argv[0] if argv else "compile"
    if command == "compile":
        for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
            po.with_suffix(".mo").write_bytes(compile_po(read_po(po.read_text(encoding="utf-8"))))
            print(f"wrote {po.with_suffix('.mo')}")
        return 0
    if command == "missing":
        known = {skeleton(k) for k, v in read_po(po_path("de").read_text(encoding="utf-8")).items() if v}
        missing = 0
        for module in MESSAGE_MODULES:
            path = Path(__file__).resolve().parent / module
            for template, line in extract_messages(path):
                if skeleton(template) not in known:
                    print(f"{module}:{line}: {template}")
                    missing += 1
        return 1 if missing else 0
    if command == "exercise" and len(argv) > 1:
        from .catalog import find_course

        course = find_course()
        for name in argv[1:]:
            for line in missing_translations(course.exercise(name)):
                print(line)
        return 0
    if command == "audit" and len(argv) > 1:
        from .catalog import find_course

        course, bad = find_course(), 0
        for name in argv[1:]:
            for subject, lines in audit_exercise(course.exercise(name)).items():
                for line in lines:
                    print(f"{name} {subject}: {line}")
                    bad += 1
        return 1 if bad else 0
    print("usage: python -m grader.i18n compile | missing | exercise NAME... | audit NAME...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
