"""The thug-cat web app in a real browser: Debian's headless Chromium, driven by Selenium.

A real ``grade serve keypoints`` serves the solution (and, in the last test, the stub). Chromium
uploads a bundled cat through the page's file input, waits for the answer, and the picture it
shows must differ from the upload where the sunglasses are and nowhere far from them; the page
logs no console errors; a bad upload shows its message; the stub's page lists what is still to
be written. Screenshots go to the test's folder and to ``$DL_GRADER_SCREENSHOTS`` (the README's
``docs/screenshots/serve.png`` comes from there).
"""

from __future__ import annotations

import base64
import io
import typing as t
from pathlib import Path

import pytest

from conftest import REPO
from test_browser import _screenshot, browser  # noqa: F401 - the module's Chromium fixture
from test_serve import free_port, request, serve, stop, wait_ready

Image = pytest.importorskip("PIL.Image")


def _errors(driver: t.Any) -> list[dict[str, t.Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _wait(driver: t.Any, condition: str, timeout: float = 30.0) -> t.Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return {condition};"))


@pytest.fixture(scope="module")
def app_url() -> t.Iterator[str]:
    port = free_port()
    proc = serve(REPO / "solutions", port, "--lang", "de")
    try:
        assert wait_ready(port)["state"] == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def test_browser_uploads_a_cat_and_sees_it_with_sunglasses(browser, app_url, tmp_path):  # noqa: F811
    port = int(app_url.rsplit(":", 1)[1])
    face = request(port, "GET", "/samples/3.png")[2]
    upload = tmp_path / "katze.png"
    upload.write_bytes(face)
    browser.get_log("browser")
    browser.get(app_url + "/")
    _wait(browser, "document.getElementById('status').dataset.state === 'ready'")
    assert "Dein Modell ist trainiert" in browser.find_element("id", "status").text
    browser.find_element("id", "photo").send_keys(str(upload))
    _wait(browser, "document.getElementById('result-box').dataset.ready")
    src = browser.find_element("id", "result").get_attribute("src")
    shown = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    original = Image.open(io.BytesIO(face)).convert("RGB")
    assert shown.size == original.size
    changed = [(x, y) for x in range(0, 256, 4) for y in range(0, 256, 4)
               if shown.getpixel((x, y)) != original.getpixel((x, y))]
    assert len(changed) > 100  # the sunglasses
    xs, ys = [x for x, _ in changed], [y for _, y in changed]
    assert 40 < sum(xs) / len(xs) < 216 and 50 < sum(ys) / len(ys) < 190  # on the face, not in a corner
    assert shown.getpixel((1, 1)) == original.getpixel((1, 1))
    assert "Sonnenbrille: Mitte" in browser.find_element("id", "numbers").text
    # the eyes on request: the picture changes, the glasses stay
    browser.find_element("id", "show-points").click()
    _wait(browser, "document.getElementById('result').src.length > 0")
    assert browser.find_element("id", "result").get_attribute("src") != src
    browser.execute_script("window.scrollTo(0, 0)")
    shot = _screenshot(browser, "serve", tmp_path)
    assert shot.stat().st_size > 10_000
    assert _errors(browser) == []


def test_browser_shows_the_message_of_a_bad_upload(browser, app_url, tmp_path):  # noqa: F811
    bad = tmp_path / "keine-katze.png"
    bad.write_text("<b>Miau</b> – das ist Text, kein Bild.", encoding="utf-8")
    browser.get(app_url + "/")
    _wait(browser, "document.getElementById('status').dataset.state === 'ready'")
    browser.get_log("browser")
    browser.find_element("id", "photo").send_keys(str(bad))
    _wait(browser, "!document.getElementById('message').hidden && "
                   "!document.getElementById('message').classList.contains('note')")
    message = browser.find_element("id", "message").text
    assert "kein Bild" in message and "Pillow" in message
    # the page itself stays usable: a good upload afterwards still works
    face = tmp_path / "katze.png"
    face.write_bytes(request(int(app_url.rsplit(":", 1)[1]), "GET", "/samples/0.png")[2])
    browser.find_element("id", "photo").send_keys(str(face))
    _wait(browser, "document.getElementById('result-box').dataset.ready")
    # a 400 answer is a console "error" in Chromium's network log; nothing else may be there
    assert [e for e in _errors(browser) if "/api/predict" not in e.get("message", "")] == []


def test_browser_stub_page_names_the_functions_to_write(browser, tmp_path):  # noqa: F811
    port = free_port()
    proc = serve(REPO / "exercises", port, "--lang", "de")
    try:
        assert wait_ready(port)["state"] == "not_ready"
        browser.get(f"http://127.0.0.1:{port}/")
        _wait(browser, "document.getElementById('status').dataset.state === 'not_ready'")
        assert "funktionierende keypoints-Aufgabe" in browser.find_element("id", "status").text
        names = [li.text for li in browser.find_elements("css selector", "#missing-list li")]
        assert names == ["scale_points", "unscale_points", "flip_points_horizontal", "glasses_transform",
                         "KeypointModel"]
        assert not browser.find_element("id", "photo").is_enabled()
        _screenshot(browser, "serve-stub", tmp_path)
        assert _errors(browser) == []
    finally:
        stop(proc)
