"""The class report and a feedback page, opened in a real browser (Debian's headless Chromium).

A small class is written from hand-made results (no grading: fast), with a hostile student whose
id, prints and exception text carry markup. Chromium must show the pages without console errors,
with every plot present and of a readable size, every link resolving to a file of the results
folder, and none of the student's markup alive (no script ran, no remote request, no element made
from student text). A screenshot of each page goes to the test's output folder, and to
``$DL_GRADER_SCREENSHOTS`` when that is set (the README's pictures come from there).

``make test`` installs ``chromium`` and ``chromium-driver`` (scripts/ensure-chromium.sh) and
Selenium (the dev extra); where either is missing the tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import struct
import typing as t
import zlib
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from grader.i18n import language, set_language
from grader.outputs import write_student
from grader.reports import write_class_outputs
from grader.results import CheckResult, ExerciseResult

from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
PAYLOAD = ("```\n# Total: 100 / 100 points\n<script>window.__pwned = 1</script>"
           "<img src=x onerror=\"window.__pwned = 2\"> ![](http://198.51.100.7/x.png) \x1b[2J")
HOSTILE_ID = "mallory"


def _png(width: int = 48, height: int = 32) -> bytes:
    """A small valid PNG (a red-blue gradient), as a check's picture would be."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (255 * x // width, 40, 200, 255))
                    for _ in range(height))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _results(student: str, out: Path, quality: int) -> list[ExerciseResult]:
    """Three exercises; ``quality`` 0..3 decides how many checks pass and which mistakes are made."""
    picture = out / student / "keypoints" / "thug_cat.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(_png())
    hostile = student == HOSTILE_ID
    flipped = "the kernel is flipped: that is a true convolution, but conv2d is a cross-correlation"
    conv = ExerciseResult("conv", [
        CheckResult("conv::test_single_channel", "One image, one kernel.", "passed", 1, 1,
                    output=PAYLOAD if hostile else ""),
        CheckResult(f"conv::test_random[{quality}]", "Random shapes.", "passed" if quality > 1 else "failed",
                    1 if quality > 1 else 0, 1, kind="" if quality > 1 else "wrong",
                    hint="" if quality > 1 else flipped,
                    message="" if quality > 1 else f"conv2d(...) has wrong values.\nIt looks like {flipped}."),
        CheckResult("conv::test_from_scratch", "No built-in convolution.", "passed" if quality else "failed",
                    3 if quality else 0, 3, kind="" if quality else "rule",
                    message="" if quality else "conv.py line 3 uses torch.nn.functional.conv2d."),
    ], duration=1.5 + quality)
    pooling = ExerciseResult("pooling", [
        CheckResult("pooling::test_max_pool", "Max pooling.", "passed" if quality > 2 else "error",
                    2 if quality > 2 else 0, 2, kind="" if quality > 2 else "exception",
                    message="" if quality > 2 else f"max_pool2d raised ValueError: {PAYLOAD if hostile else 'no'}"),
        CheckResult("pooling::test_cuda", "On the GPU.", "skipped", 0, 0, message="no CUDA device here"),
    ], duration=0.8)
    keypoints = ExerciseResult("keypoints", [
        CheckResult("keypoints::test_thug_cat", "The glasses sit on the eyes.", "passed" if quality else "timeout",
                    4 if quality else 0, 4, kind="" if quality else "timeout", files=[str(picture)],
                    message="" if quality else "fit took longer than 20 s"),
    ], duration=6.0)
    return [conv, pooling, keypoints]


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A graded class of five (one hostile), written by the same writers as ``grade batch``, in German."""
    from grader.catalog import find_course

    out = tmp_path_factory.mktemp("browser") / "results"
    before = language()
    set_language("de")
    try:
        rows = {}
        exercises = ["conv", "pooling", "keypoints"]
        for quality, student in enumerate(["anna", "ben", "chris", "dora", HOSTILE_ID]):
            results = _results(student, out, quality % 4)
            rows[student] = write_student(out, student, results, [], exercises)
        write_class_outputs(out, rows, exercises, find_course(REPO))
    finally:
        set_language(before)
    return out


@pytest.fixture(scope="module")
def browser() -> t.Iterator[t.Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium or chromedriver is not installed (make test installs them as root: "
                    "scripts/ensure-chromium.sh)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,900", "--lang=de-DE"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    except Exception as exc:  # a driver that does not match the browser, no display libraries, ...
        pytest.skip(f"headless Chromium could not start here: {type(exc).__name__}: {str(exc)[:300]}")
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(driver: t.Any, page: Path) -> list[dict[str, t.Any]]:
    """Open ``page``; the console messages it logged."""
    driver.get_log("browser")  # what earlier pages logged is not this page's
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")
    return [entry for entry in driver.get_log("browser") if entry.get("level") in ("SEVERE", "ERROR")]


def _screenshot(driver: t.Any, name: str, folder: Path) -> Path:
    """A full-page screenshot (the window stretched to the page's height) in ``folder`` and $DL_GRADER_SCREENSHOTS."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1366, min(max(height, 900), 6000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1366, 900)
    extra = os.environ.get("DL_GRADER_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path


def _no_student_markup(driver: t.Any) -> None:
    assert driver.execute_script("return window.__pwned === undefined"), "student markup ran as script"
    scripts = driver.execute_script("return Array.from(document.scripts).map(s => s.textContent)")
    assert not any("__pwned" in s for s in scripts), "a <script> element was made from student text"
    sources = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href'))")
    assert not [s for s in sources if s and urlparse(s).scheme in ("http", "https", "javascript")], sources
    handlers = driver.execute_script(
        "return Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes))"
        ".filter(a => a.name.startsWith('on')).map(a => a.name + '=' + a.value)")
    assert handlers == [], handlers


def _local_links(driver: t.Any, page: Path) -> list[Path]:
    hrefs = driver.execute_script("return Array.from(document.links).map(a => a.getAttribute('href'))")
    targets = []
    for href in hrefs:
        parsed = urlparse(href)
        if parsed.scheme or href.startswith("#") or not parsed.path:
            continue
        targets.append((page.parent / unquote(parsed.path)).resolve())
    return targets


def test_class_report_renders_with_plots_links_and_no_errors(browser, class_dir, tmp_path):
    page = class_dir / "report.html"
    errors = _open(browser, page)
    assert errors == [], errors
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg')).map(s => {const r = s.getBoundingClientRect();"
        " return [r.width, r.height];})")
    assert len(sizes) >= 4, f"expected the plots (histograms, heatmaps, kinds, times), found {len(sizes)} <svg>"
    small = [s for s in sizes if s[0] < 120 or s[1] < 60]
    assert not small, f"plots too small to read: {small}"
    text = browser.find_element("tag name", "body").text
    for student in ("anna", "ben", "chris", "dora", HOSTILE_ID):
        assert student in text
    assert "gespiegelt" in text or "kernel is flipped" in text, "the known mistake is listed"
    links = _local_links(browser, page)
    assert links, "the report links the students' feedback pages"
    missing = [str(p) for p in links if not p.is_file()]
    assert not missing, f"links that do not resolve: {missing}"
    assert all(p.is_relative_to(class_dir) for p in links)
    _no_student_markup(browser)
    shot = _screenshot(browser, "report", tmp_path)
    assert shot.stat().st_size > 10_000


def test_feedback_page_shows_pictures_and_keeps_student_text_as_text(browser, class_dir, tmp_path):
    page = class_dir / HOSTILE_ID / "feedback.html"
    errors = _open(browser, page)
    assert errors == [], errors
    _no_student_markup(browser)
    text = browser.find_element("tag name", "body").text
    assert "<script>window.__pwned = 1</script>" in text, "the student's print is shown as text"
    assert "Total: 100 / 100 points" in text  # as text inside the student's output, not as a heading
    headings = browser.execute_script("return Array.from(document.querySelectorAll('h1,h2,h3')).map(h => h.textContent)")
    assert not any("100 / 100" in h for h in headings), headings
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src').slice(0, 22), i.naturalWidth, i.complete])")
    assert images and all(src.startswith("data:image/png;base64") for src, _w, _c in images), images
    assert all(width == 48 and done for _src, width, done in images), "the check's picture is embedded and loads"
    for link in _local_links(browser, page):
        assert link.is_file() and link.is_relative_to(class_dir), link
    shot = _screenshot(browser, "feedback", tmp_path)
    assert shot.stat().st_size > 10_000
