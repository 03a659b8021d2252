"""Screenshots of a graded class for the README: ``report.html`` and one student's ``feedback.html``.

    .venv/bin/python scripts/screenshots.py demo-results [--student greta] [--out docs/screenshots]

Uses the same headless Chromium as tests/test_browser.py (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium; ``make browser`` installs them as root). The report is
shot down to its known-mistakes section, so the picture stays readable at README width.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def _driver(width: int) -> "object":
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},900", "--hide-scrollbars", "--lang=de-DE"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))


def shoot(page: Path, target: Path, width: int = 1280, max_height: int = 2400) -> None:
    driver = _driver(width)
    try:
        driver.get(page.resolve().as_uri())
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.set_window_size(width, min(height, max_height))
        target.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(target))
    finally:
        driver.quit()
    print(f"{target}: {page}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a grade batch output folder (e.g. demo-results)")
    parser.add_argument("--student", default=None, help="whose feedback page (default: the first with a picture)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    if not (args.results / "report.html").is_file():
        parser.error(f"{args.results} has no report.html (run make demo first)")
    shoot(args.results / "report.html", args.out / "report.png")
    students = sorted(p.parent for p in args.results.glob("*/feedback.html"))
    if args.student:
        students = [args.results / args.student]
    else:
        with_picture = [s for s in students if "data:image/png" in (s / "feedback.html").read_text(encoding="utf-8")]
        students = with_picture or students
    if students:
        shoot(students[0] / "feedback.html", args.out / "feedback.png", width=1100, max_height=1800)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
