"""feedback.md, feedback.html and grade check's terminal output with a determined student's text in them.

A correct solution may print anything, and its exception messages and tracebacks end up in the
feedback too. None of it may become a heading, a list item, a link, an image or raw HTML in
feedback.md, an element or attribute in feedback.html, or an escape sequence in the terminal.
Results are built directly from CheckResult records (fast); one test grades a real submission.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from conftest import grade, make_conv_submission, REPO
from grader.i18n import language, set_language
from grader.outputs import write_student
from grader.report import print_exercise_result
from grader.reports import feedback, safe_text
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.results import CheckResult, ExerciseResult
from grader.summary import print_summary

MARKDOWN_PAYLOAD = "```\n# Total: 100 / 100 points\n- **conv::test_x** — ✅ passed\n~~~~\n1. first\n> quoted\n"
HTML_PAYLOAD = ("<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n![](http://evil/x.png)\n"
                "[click](javascript:alert(1)) <http://evil/> </pre></details><b>bold</b>\n")
TERMINAL_PAYLOAD = "\x1b[2J\x1b]0;pwned title\x07\x1b[31mred\x1b[0m\rovers\x08x\x1bc\x9b2J\u202eevil\n"
PAYLOAD = MARKDOWN_PAYLOAD + HTML_PAYLOAD + TERMINAL_PAYLOAD
STUDENT_ID = "eve <img src=x onerror=alert(1)> *[x](javascript:alert(1))* # 1."
#: The student's sequences; none may reach a terminal, feedback.md or feedback.html.
STUDENT_ESCAPES = ("\x1b[2J", "\x1b]0;", "\x07", "\x08", "\r", "\x1bc", "\x9b", "\u202e")


@pytest.fixture(autouse=True)
def english():
    before = language()
    set_language("en")
    yield
    set_language(before)


def hostile_result(payload: str = PAYLOAD) -> ExerciseResult:
    traceback = f'ValueError: {payload}\nIn your code:\n  File "conv.py", line 3, in conv2d\n    raise ValueError("""{payload}""")'
    return ExerciseResult("conv", [
        CheckResult("conv::test_small", "A small example.", "passed", 2, 2, output=payload),
        CheckResult("conv::test_bias[seed=1]", "With a bias.", "error", 0, 3, message=traceback, output=payload,
                    kind="exception"),
    ], duration=1.0, notes=[f"conv.ipynb: {payload}"])


def expected_text(payload: str = PAYLOAD) -> str:
    return safe_text.clean(payload)


# -- feedback.md ---------------------------------------------------------------------------------

def walk(tokens):
    for token in tokens:
        yield token
        yield from walk(token.children or [])


def inline_text(token) -> str:
    return "".join(c.content for c in token.children if c.type in ("text", "text_special", "code_inline", "softbreak"))


def test_markdown_has_only_the_platforms_structure():
    md = feedback_markdown(STUDENT_ID, [hostile_result()], [f"note: {PAYLOAD}"])
    tokens = MarkdownIt("commonmark").parse(md)
    headings = [inline_text(tokens[i + 1]) for i, tok in enumerate(tokens) if tok.type == "heading_open"]
    assert headings == [f"Feedback for {safe_text.one_line(STUDENT_ID)}", "conv: 2 / 5 points"]
    items = [tok for tok in tokens if tok.type == "list_item_open"]
    assert len(items) == 2 and not any(tok.type == "ordered_list_open" for tok in tokens)
    first_lines = [inline_text(tokens[i + 2]) for i, tok in enumerate(tokens) if tok.type == "list_item_open"]
    assert first_lines[0].startswith("test_small — ✅ passed (2/2): A small example.")
    assert first_lines[1].startswith("test_bias[seed=1] — 💥 error (0/3): With a bias.")
    kinds = {tok.type for tok in walk(tokens)}
    assert not kinds & {"link_open", "image", "html_block", "html_inline", "hr", "code_block"}, kinds
    fences = [tok for tok in tokens if tok.type == "fence"]
    assert len(fences) == 3  # two outputs and one message, each whole
    assert all(expected_text().rstrip("\n") in tok.content for tok in fences)
    quotes = [inline_text(tokens[i + 2]) for i, tok in enumerate(tokens) if tok.type == "blockquote_open"]
    assert "<script>alert(1)</script>" in " ".join(quotes)  # the notes are quoted as text
    html = MarkdownIt("commonmark").render(md)
    assert "<script" not in html and "<img" not in html and "<a " not in html and "<h3" not in html


def test_markdown_fence_is_longer_than_any_run_in_the_text():
    payload = "````` five\n~~~~~~ six\n```text\nstill inside\n"
    md = feedback_markdown("bob", [hostile_result(payload)], [])
    fences = [tok for tok in MarkdownIt("commonmark").parse(md) if tok.type == "fence"]
    assert [tok.markup for tok in fences] == ["`" * 7] * 3
    assert all("still inside" in tok.content and "````` five" in tok.content for tok in fences)


def test_markdown_keeps_no_escape_sequence():
    md = feedback_markdown(STUDENT_ID, [hostile_result()], [PAYLOAD])
    assert not [s for s in STUDENT_ESCAPES if s in md]
    assert "pwned title" not in md and "evil" in md  # the OSC string is dropped whole, the text stays


@pytest.mark.parametrize("value", ["# heading", "- item", "+ item", "1. first", "7) seventh", "> quote", "===",
                                   "---", "***", "___", "<script>alert(1)</script>", "[a](http://evil)",
                                   "![a](http://evil/x.png)", "<http://evil/>", "&amp; &#60;", "`code`", "*em* _em_",
                                   "a\\*b\\", "~~~", "~~strike~~", "| a | b |", "   - indented", "line\nbreak",
                                   "conv::test_bias[seed=1]", "snake_case_name", "a__b__c", "_x_", "é_ü_", "__init__"])
def test_inline_values_render_as_their_text(value):
    renderer = MarkdownIt("commonmark")
    text = safe_text.one_line(value)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert renderer.render(safe_text.md_inline(value)) == f"<p>{escaped}</p>\n"
    assert renderer.render("# " + safe_text.md_inline(value)) == f"<h1>{escaped}</h1>\n"


# -- feedback.html -------------------------------------------------------------------------------

class Page(HTMLParser):
    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(page: Page) -> None:
    tags = {tag for tag, _ in page.tags}
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "section", "ul", "li",
                    "span", "strong", "pre", "details", "summary", "figure", "img", "figcaption", "a"}, tags
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("data:image/") if name == "src" else not re.match(r"[a-z][a-z0-9+.-]*:|//", value, re.I), (tag, attrs)


def test_html_page_shows_student_text_as_text_only():
    source = feedback_html(STUDENT_ID, [hostile_result()], [f"note: {PAYLOAD}"])
    page = Page(source)
    assert_inert(page)
    assert not [tag for tag, _ in page.tags if tag == "img"]  # no picture was written; the payload's <img> is text
    text = "".join(page.text)
    for visible in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![](http://evil/x.png)",
                    "# Total: 100 / 100 points", "</pre></details><b>bold</b>", STUDENT_ID):
        assert visible in text
    assert text.count("<script>alert(1)</script>") == 6  # two outputs, message and traceback, two notes
    assert not [s for s in STUDENT_ESCAPES if s in source]
    assert "default-src 'none'" in source and "http" not in source.replace("http://evil", "").replace("http-equiv", "")


def test_html_page_is_in_the_batchs_language():
    set_language("de")
    source = feedback_html("bob", [hostile_result()], [])
    assert '<html lang="de">' in source and "Rückmeldung für bob" in source and "✗ Fehler" in source
    assert "Deine Ausgabe:" in source and "Gesamt: 2 / 5 Punkte" in source


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of one grey pixel per row (enough for a browser and for the type check)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_pictures_are_embedded_only_from_the_students_folder(tmp_path, monkeypatch):
    folder = tmp_path / "out" / "eve"
    (folder / "conv").mkdir(parents=True)
    (folder / "conv" / "plot.png").write_bytes(png())
    (folder / "conv" / "mask.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (folder / "conv" / "fake.png").write_text("<html><script>alert(1)</script></html>")
    (folder / "conv" / "big.png").write_bytes(png(200, 200) + b"\x00" * 4096)
    (tmp_path / "outside.png").write_bytes(png())
    (folder / "conv" / "link.png").symlink_to(tmp_path / "outside.png")
    files = [str(folder / "conv" / n) for n in ("plot.png", "mask.svg", "fake.png", "big.png", "link.png")]
    files += [str(tmp_path / "outside.png"), "/etc/passwd", str(folder / "conv" / "missing.png")]
    result = ExerciseResult("conv", [CheckResult("conv::test_pictures", "Pictures.", "passed", 1, 1, files=files)])
    monkeypatch.setattr(feedback, "MAX_PICTURE_BYTES", 4000)

    page = Page(feedback_html("eve", [result], [], folder))
    assert_inert(page)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert [a["alt"] for a in images] == ["plot.png", "mask.svg"]
    assert images[0]["src"].startswith("data:image/png;base64,") and images[1]["src"].startswith("data:image/svg+xml;")
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert links == ["conv/fake.png", "conv/big.png"]  # listed, not embedded; nothing outside the folder
    text = "".join(page.text)
    assert all(name in text for name in ("link.png", "outside.png", "passwd", "missing.png"))

    md = feedback_markdown("eve", [result], [], folder)
    targets = [tok.attrs["href"] for tok in walk(MarkdownIt("commonmark").parse(md)) if tok.type == "link_open"]
    assert targets == ["conv/plot.png", "conv/mask.svg", "conv/fake.png", "conv/big.png"]
    assert "/etc/passwd" not in md and str(tmp_path) not in md


def test_write_student_writes_both_pages_and_results_last(tmp_path):
    data = write_student(tmp_path, "eve", [hostile_result()], ["a note"], ["conv"])
    folder = tmp_path / "eve"
    assert {p.name for p in folder.iterdir()} == {"feedback.md", "feedback.html", "results.json"}
    times = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert times["feedback.md"] <= times["feedback.html"] <= times["results.json"]
    assert data["extra_data"]["complete"] is True
    assert_inert(Page((folder / "feedback.html").read_text(encoding="utf-8")))


# -- terminal ------------------------------------------------------------------------------------

def rendered(result: ExerciseResult, verbose: bool = True) -> str:
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=140)
    print_exercise_result(result, console, verbose)
    return console.file.getvalue()


ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.")


def test_terminal_shows_no_escape_sequence_of_the_student():
    hostile = rendered(hostile_result())
    benign = rendered(hostile_result(PAYLOAD.replace("\x1b", "").replace("\x9b", "")))
    assert not [s for s in STUDENT_ESCAPES if s in hostile]
    assert set(ESCAPE.findall(hostile)) <= set(ESCAPE.findall(benign))  # rich's own styling only
    assert "<script>alert(1)</script>" in hostile and "pwned title" not in hostile


def test_summary_first_problem_has_no_escape_sequence(course):
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=200)
    message = "\x1b[2J\x1b]0;pwned title\x07\x1b[31m[bold red]markup[/]\x08 is wrong\rhidden"
    result = ExerciseResult("conv", [CheckResult("conv::test_x", "", "failed", 0, 1, message=message)])
    print_summary([result], course, console)
    out = console.file.getvalue()
    assert not [s for s in STUDENT_ESCAPES if s in out] and "[bold red]markup" in out.replace("\n", "")


def test_clean_strips_sequences_and_keeps_text():
    assert safe_text.clean("a\x1b[1;31mb\x1b[0m\tc\n") == "ab\tc\n"
    assert safe_text.clean("x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\y") == "xlinky"  # OSC 8 hyperlink
    assert safe_text.clean("one\r\ntwo\rthree") == "one\ntwo\nthree"  # \r cannot overwrite a line
    assert safe_text.clean("\x1b]0;unterminated\nnext") == "\nnext"
    assert safe_text.clean("\x9b31mC1\x00\x7f\u2028end") == "C1\nend"


# -- end to end ----------------------------------------------------------------------------------

def test_a_graded_submission_that_prints_the_payload(course, tmp_path):
    """A correct conv solution prints the payload in every call; it keeps full marks, the pages stay inert."""
    source = (REPO / "solutions" / "conv" / "conv.py").read_text()
    source = source.replace("    # BEGIN SOLUTION", f"    print({PAYLOAD!r})\n    # BEGIN SOLUTION", 1)
    assert "print(" in source
    result = grade(course, "conv", make_conv_submission(tmp_path / "sub", source), hidden=False)
    assert result.all_passed and result.score == result.max_score > 0
    assert any("<script>alert(1)</script>" in c.output for c in result.checks)
    write_student(tmp_path / "out", "mallory", [result], [], ["conv"])
    folder = tmp_path / "out" / "mallory"
    md = (folder / "feedback.md").read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(md)
    assert [tokens[i + 1].content for i, tok in enumerate(tokens) if tok.type == "heading_open"] == [
        "Feedback for mallory", f"conv: {result.score:g} / {result.max_score:g} points"]
    assert sum(tok.type == "list_item_open" for tok in tokens) == len(result.checks)
    assert not {tok.type for tok in walk(tokens)} & {"link_open", "image", "html_block", "html_inline"}
    page = Page((folder / "feedback.html").read_text(encoding="utf-8"))
    assert_inert(page)
    assert "<img src=x onerror=alert(1)>" in "".join(page.text)
    out = rendered(result)
    assert not [s for s in STUDENT_ESCAPES if s in out + md]
