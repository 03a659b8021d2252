"""``grade serve keypoints``: the thug-cat web app over real HTTP, with hostile uploads and hostile code.

A real ``grade serve`` process (uvicorn, the CLI's defaults) serves the solution; the stub and
hostile submissions are served in this process through Starlette's test client (the student's
code still runs in a sandboxed worker: only the app's routes run here). The browser test is
``tests/test_serve_browser.py``.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import typing as t
import zlib
from pathlib import Path

import pytest

from conftest import REPO

PIL = pytest.importorskip("PIL.Image")
from PIL import Image  # noqa: E402

from grader.catalog import Course  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 90.0) -> dict[str, t.Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = get_json(port, "/api/status")
            if status["state"] != "training":
                return status
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the app did not finish training within {timeout:g} s")


def request(port: int, method: str, path: str, body: bytes | None = None,
            timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request: the path goes out exactly as given (no client-side normalising)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if body is not None:
            conn.putheader("Content-Type", "application/octet-stream")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            conn.send(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def get_json(port: int, path: str) -> dict[str, t.Any]:
    status, _headers, body = request(port, "GET", path)
    assert status == 200, (path, status, body[:200])
    return json.loads(body)


def serve(root: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LANG": "C.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.Popen([sys.executable, "-m", "grader.cli", "serve", "keypoints", "--submission", str(root),
                             "--port", str(port), *extra], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def solution_server() -> t.Iterator[int]:
    port = free_port()
    proc = serve(REPO / "solutions", port)
    try:
        status = wait_ready(port)
        assert status["state"] == "ready", status
        yield port
    finally:
        log = stop(proc)
        assert "Traceback" not in log, log


def png(image: "Image.Image") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data_uri: str) -> "Image.Image":
    import base64

    assert data_uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("RGB")


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A 200-byte PNG that claims width x height pixels (its data would inflate to gigabytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * 4096, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def test_a_bundled_cat_gets_sunglasses_on_its_eyes(solution_server):
    port = solution_server
    status, headers, page = request(port, "GET", "/")
    assert status == 200 and b"/app.js" in page and "default-src 'none'" in headers["content-security-policy"]
    status, headers, face = request(port, "GET", "/samples/0.png")
    assert status == 200 and headers["content-type"] == "image/png"
    status, _h, body = request(port, "POST", "/api/predict", face)
    answer = json.loads(body)
    assert status == 200 and answer["message"] == "", answer
    upload, result = Image.open(io.BytesIO(face)).convert("RGB"), decode(answer["image"])
    assert result.size == upload.size == tuple(answer["size"])
    # the synthetic cats are drawn from a generator whose eyes we know: the model's are close to them
    from grader.scenarios import load_scenario_file
    import torch

    scenarios = load_scenario_file(REPO / "checks" / "keypoints" / "scenarios.py")
    _images, eyes = scenarios.cat_faces(6, generator=torch.Generator().manual_seed(7))
    true_eyes = (eyes[0] * upload.size[0] / 64).tolist()
    for (x, y), (tx, ty) in zip(answer["eyes"], true_eyes):
        assert abs(x - tx) < 16 and abs(y - ty) < 16, (answer["eyes"], true_eyes)  # 4 px at 64 x 64
    # dark glasses over the eyes (most pixels around each eye changed, to near black), the rest untouched
    for x, y in answer["eyes"]:
        around = [(round(x) + dx, round(y) + dy) for dx in range(-8, 9, 2) for dy in range(-6, 7, 2)]
        dark = [p for p in around if sum(result.getpixel(p)) < 100]
        changed = [p for p in around if result.getpixel(p) != upload.getpixel(p)]
        assert len(dark) > 0.9 * len(around) and len(changed) > 0.3 * len(around), (x, y, len(dark), len(changed))
    assert result.getpixel((2, upload.size[1] - 3)) == upload.getpixel((2, upload.size[1] - 3))
    g = answer["glasses"]
    mid = [(a + b) / 2 for a, b in zip(*answer["eyes"])]
    assert abs(g["center"][0] - mid[0]) < 1 and abs(g["center"][1] - mid[1]) < 1
    with_points = decode(answer["points_image"])
    assert with_points.getpixel((2, 2)) == upload.getpixel((2, 2)) and with_points.tobytes() != result.tobytes()


def _rgba_face(face: bytes) -> bytes:
    image = Image.open(io.BytesIO(face)).convert("RGBA")
    image.putalpha(200)
    return png(image)


def _sideways_jpeg(face: bytes) -> bytes:
    """The cat stored rotated, with an EXIF orientation (6: turn 90° clockwise to show) as phones write."""
    image = Image.open(io.BytesIO(face)).convert("RGB").crop((0, 0, 256, 192)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["empty", "text", "50 MB", "bomb", "truncated", "alpha", "exif"])
def test_hostile_uploads_get_a_message_within_two_seconds_and_the_server_goes_on(solution_server, kind):
    port = solution_server
    face = request(port, "GET", "/samples/1.png")[2]
    body = {"empty": b"", "text": "Miau! <script>alert(1)</script>\n".encode() * 10,
            "50 MB": os.urandom(1 << 20) * 50, "bomb": bomb_png(), "truncated": face[: len(face) // 2],
            "alpha": _rgba_face(face), "exif": _sideways_jpeg(face)}[kind]
    started = time.monotonic()
    status, headers, reply = request(port, "POST", "/api/predict", body)
    took = time.monotonic() - started
    answer = json.loads(reply)
    assert took < 2.0, f"{kind}: {took:.2f} s"
    expected = {"empty": (400, "empty"), "text": (400, "not an image"), "50 MB": (413, "at most 10 MB"),
                "bomb": (413, "decompression bomb"), "truncated": (400, "damaged or incomplete"),
                "alpha": (200, ""), "exif": (200, "")}[kind]
    assert (status, expected[1] in answer["message"]) == (expected[0], True), (kind, status, answer["message"])
    if kind == "exif":
        # stored as 192 x 256, shown upright as the 256 x 192 photo it was: the orientation was applied
        assert answer["size"] == [256, 192]
        upright = Image.open(io.BytesIO(face)).convert("RGB")
        shown = decode(answer["image"])
        for corner in [(3, 3), (252, 3), (3, 188)]:
            assert sum(abs(a - b) for a, b in zip(shown.getpixel(corner), upright.getpixel(corner))) < 40, corner
    if kind == "alpha":
        assert decode(answer["image"]).getpixel((1, 1))[0] > Image.open(io.BytesIO(face)).getpixel((1, 1))[0]
    assert request(port, "GET", "/api/status")[0] == 200  # still serving


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/samples/../../../etc/passwd", "//etc/passwd",
                                  "/%2e%2e/%2e%2e/etc/passwd", "/samples/..%2f..%2fpyproject.toml",
                                  "/static/app.js", "/templates/index.html.j2", "/samples/6.png",
                                  "/samples/-1.png", "/grader/webapp/app.py", "/etc/passwd"])
def test_paths_outside_the_app_are_404(solution_server, path):
    status, _headers, body = request(solution_server, "GET", path)
    assert status == 404 and b"root:" not in body and b"[project]" not in body


def test_listens_on_localhost_only_by_default(solution_server):
    """The socket of the real server is bound to 127.0.0.1 (/proc/net/tcp lists it as 0100007F)."""
    tcp = Path("/proc/net/tcp")
    if not tcp.is_file():
        pytest.skip("no /proc/net/tcp here")
    listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:] if line.split()[3] == "0A"]
    assert f"0100007F:{solution_server:04X}" in listening, listening


# -- the stub and hostile code, in this process through the test client ---------------------------
def _client(root: Path, course: Course, limits: t.Any = None) -> tuple[t.Any, t.Any]:
    from starlette.testclient import TestClient

    from grader.webapp import StudentModel, make_app

    model = StudentModel(course.exercise("keypoints"), root, limits)
    model.train()
    return model, TestClient(make_app(model))


def test_the_stub_page_lists_the_functions_still_to_write(course):
    model, client = _client(REPO / "exercises", course)
    try:
        status = client.get("/api/status").json()
        assert status["state"] == "not_ready"
        assert status["missing"] == ["scale_points", "unscale_points", "flip_points_horizontal",
                                     "glasses_transform", "KeypointModel"]
        assert "not implemented yet" in status["message"]
        face = client.get("/samples/0.png").content
        reply = client.post("/api/predict", content=face)
        assert reply.status_code == 409 and "working keypoints exercise" in reply.json()["message"]
    finally:
        model.close()


@pytest.mark.parametrize("prelude, expected", [
    ("while True:\n    pass\n", "did not finish within 4 s"),
    ("import os\nos._exit(0)\n", "stopped while importing"),
    ("def broken(:\n", "SyntaxError"),
])
def test_a_package_that_does_not_import_says_why(course, tmp_path, prelude, expected):
    from grader._limits import Limits

    root = tmp_path / "submission"
    shutil.copytree(REPO / "solutions" / "keypoints", root / "keypoints")
    path = root / "keypoints" / "keypoints.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + prelude, encoding="utf-8")
    started = time.monotonic()
    model, client = _client(root, course, Limits(call_timeout=5.0, import_timeout=4.0))
    try:
        status = client.get("/api/status").json()
        assert status["state"] == "not_ready" and expected in status["message"], status
        assert status["missing"] == [] and time.monotonic() - started < 20
        assert client.get("/").status_code == 200
    finally:
        model.close()


def _with_glasses(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "submission"
    shutil.copytree(REPO / "solutions" / "keypoints", root / "keypoints")
    path = root / "keypoints" / "keypoints.py"
    source = path.read_text(encoding="utf-8")
    start = source.index("def glasses_transform(")
    end = source.index("class KeypointModel")
    path.write_text(source[:start] + "def glasses_transform(left_eye, right_eye):\n" + body + "\n\n\n"
                    + source[end:], encoding="utf-8")
    return root


@pytest.mark.parametrize("body, expected", [
    ("    import os\n    os._exit(3)", "did not give an answer"),
    ("    while True:\n        pass", "did not give an answer"),
    ("    raise NotImplementedError('glasses_transform: not implemented yet')", "still to be written"),
    ("    return 'sunglasses'", "must return three tensors"),
    ("    import torch\n    return torch.zeros(2), torch.tensor([float('nan')]), torch.tensor([1e30])", "not finite"),
    ("    import torch\n    return torch.full((1, 2), 1e30), torch.tensor([1e30]), torch.tensor([-1e30])", ""),
])
def test_hostile_glasses_transform_ends_in_a_message_and_a_fresh_worker(course, tmp_path, body, expected):
    model, client = _client(_with_glasses(tmp_path, body), course)
    try:
        assert client.get("/api/status").json()["state"] == "ready"
        face = client.get("/samples/2.png").content
        for _ in range(2):  # the second request still gets an answer: the worker was restarted if need be
            started = time.monotonic()
            reply = client.post("/api/predict", content=face)
            answer = reply.json()
            assert reply.status_code == 200 and expected in answer["message"], answer["message"]
            assert time.monotonic() - started < 15
            assert decode(answer["points_image"]).size == (256, 256)
        if "did not give" in expected:
            assert model.workers_started >= 3  # one for training, one after each of the two failures
    finally:
        model.close()


def test_serve_help_teaches_and_refuses_other_exercises():
    from click.testing import CliRunner

    from grader.cli import cli

    runner = CliRunner()
    help_text = runner.invoke(cli, ["serve", "--help"]).output
    assert "127.0.0.1" in help_text and "grade serve keypoints --submission solutions" in help_text
    other = runner.invoke(cli, ["serve", "conv"])
    assert other.exit_code == 2 and "Only keypoints has a web app" in other.output
