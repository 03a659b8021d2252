"""The one place that makes student text safe to show: in Markdown, in HTML and in a terminal.

Student text is everything a submission controls: its prints (``CheckResult.output``), exception
messages and tracebacks inside ``CheckResult.message``, notes that quote its files, and the student
id itself (the folder or zip name). It is *data*; none of it may become markup. Every writer goes
through these functions instead of escaping on its own:

- :func:`clean` removes terminal escape sequences (CSI colours and cursor moves, ``ESC [2J``, OSC
  window titles and hyperlinks, DCS/APC strings, ``ESC c``), control characters (bell, backspace,
  NUL, the 8-bit C1 controls such as ``\\x9b``) and the bidirectional overrides that reorder what a
  reader sees; carriage returns become line breaks, so a ``\\r`` cannot hide what came before it.
  ``\\n`` and ``\\t`` stay. No library does this completely (rich's ANSI decoder misses OSC strings
  ended by BEL), so it is a few regular expressions written from ECMA-48.
- :func:`md_fence` puts a block of text into a fenced code block whose fence is longer than any
  run of backticks or tildes inside, so the text cannot close it (CommonMark 4.5).
- :func:`md_inline` escapes a one-line value (a student id, a check name, a title, a note's line):
  every character that can open an inline construct is backslash-escaped, as are the markers that
  start a block (``#``, ``-``, ``1.``, ``>``) at its start.
- :func:`html` escapes for HTML with :mod:`markupsafe` (what Jinja2's autoescape uses).
- :func:`terminal` is :func:`clean` for rich; callers still apply ``rich.markup.escape``.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["clean", "one_line", "md_fence", "md_inline", "html", "terminal"]

#: ECMA-48 escape sequences, 7-bit (ESC ...) and 8-bit (C1) forms; an unterminated string
#: (OSC, DCS, ...) ends at the line break, so it cannot swallow the rest of the text.
_ESCAPE_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"                      # CSI: colours, cursor moves, ESC[2J
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # OSC: window title, hyperlinks (BEL or ST)
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c\n]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"                                      # the rest: ESC c (reset), ESC 7, ESC ( B, ...
)
#: What is left after the sequences: C0/C1 controls except \t and \n, DEL, bidirectional controls
#: (they reorder the displayed text: "Trojan Source") and a lone ESC.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
#: Line breaks other than \n: a carriage return (overwrites the line in a terminal; a line break
#: in CommonMark), Unicode line and paragraph separators.
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
#: Characters that can open or close an inline Markdown construct (emphasis, code, links, images,
#: autolinks, raw HTML, entities, GFM strikethrough and tables), escaped wherever they are.
_INLINE = re.compile(r"([\\`*\[\]<>!&~|#])")
#: An underscore between two letters or digits can neither open nor close emphasis (CommonMark 6.2),
#: so ``test_bias`` stays readable in the raw file; every other underscore is escaped.
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: Markers that start a block when they come first on a line and are not escaped above: list
#: bullets, setext underlines and thematic breaks ("-", "+", "="), ordered list numbers ("1." or "1)").
_BLOCK_START = re.compile(r"^([+\-=]|\d{1,9}(?=[.)]))")


def clean(text: str) -> str:
    """``text`` without terminal escape sequences or control characters; line breaks as ``\\n``."""
    text = _BREAKS.sub("\n", text)
    text = _ESCAPE_SEQUENCES.sub("", text)
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """:func:`clean` text on one line: every run of whitespace (line breaks too) is one space."""
    return " ".join(clean(text).split())


def md_inline(text: str) -> str:
    """A one-line value that renders as exactly its text in CommonMark (no emphasis, link, HTML, ...)."""
    value = _UNDERSCORE.sub(r"\\_", _INLINE.sub(r"\\\1", one_line(text)))
    match = _BLOCK_START.match(value)
    if match:
        end = match.end()
        value = value[:end] + "\\" + value[end:] if match.group(1)[0].isdigit() else "\\" + value
    return value


def md_fence(text: str, *, info: str = "text", indent: str = "") -> list[str]:
    """Lines of a fenced code block holding ``text``, which cannot close it; each line gets ``indent``.

    The fence is one backtick longer than the longest run of backticks or tildes in the text (at
    least three), so no line of the text is a closing fence. ``indent`` puts the block inside a
    list item.
    """
    body = clean(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+|~+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [indent + fence + info, *(indent + line if line else indent.rstrip() for line in body.split("\n")),
            indent + fence]


def html(text: str) -> Markup:
    """:func:`clean` text escaped for HTML (element content or a quoted attribute value)."""
    return escape(clean(text))


def terminal(text: str) -> str:
    """Text a terminal shows as it is: :func:`clean`; apply ``rich.markup.escape`` before rich prints it."""
    return clean(text)
