"""The web app's routes (Starlette): one page, its script and style, the sample cats, two API calls.

Starlette was chosen over FastAPI because the app needs nothing FastAPI adds (no request models,
no OpenAPI page): routing, responses and a test client, with uvicorn as the server. Every route is
listed below; anything else, ``../`` and absolute paths included, is Starlette's 404. Uploads are
the raw bytes of the file (the page's script sends them as the request body), so no multipart
parser reads hostile input; the body is read in chunks and refused past the size limit.

The page is rendered by Jinja2 with autoescape; the script puts every text from the server into
the page with ``textContent``, never as markup, and a Content-Security-Policy allows only this
server's own script, style and ``data:`` images.
"""

from __future__ import annotations

import base64
import functools
import io
import threading
import typing as t
from pathlib import Path

from ..i18n import _, language
from .student_model import FUNCTIONS, StudentModel
from .uploads import MAX_UPLOAD_BYTES, UploadError, read_photo, too_large_message

HERE = Path(__file__).resolve().parent
#: Bodies larger than this are not even read to the end (the connection is closed).
DRAIN_LIMIT = 4 * MAX_UPLOAD_BYTES + (16 << 20)
#: How many bundled synthetic cats the page offers, and their size on the page.
SAMPLES, SAMPLE_SIZE = 6, 256
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def texts() -> dict[str, str]:
    """The page's words in the current language (the script reads them from a JSON block)."""
    return {
        "title": _("Thug cat: your model puts sunglasses on a cat"),
        "intro": _("Your KeypointModel was trained on synthetic cat faces by the exercise's scenario (in a "
                   "sandbox, as in grade check). Upload a photo or pick one of the cats below: your model "
                   "finds the eyes, your glasses_transform places the sunglasses."),
        "upload": _("Upload a photo"),
        "samples": _("… or pick a cat"),
        "show_points": _("show the eyes the model found"),
        "training": _("Your model is being trained … (a few seconds)"),
        "ready": _("Your model is trained ({seconds} s). Upload a photo or pick a cat."),
        "not_ready": _("The web app needs a working keypoints exercise first."),
        "missing": _("Still to be written (they raise NotImplementedError):"),
        "working": _("Looking for the eyes …"),
        "result": _("Eyes at {eyes}; sunglasses: center {center}, angle {angle}°, width {width} px."),
        "no_glasses": _("Eyes at {eyes}; no sunglasses."),
        "too_large": _("The file is larger than {limit} MB. Take a smaller photo.").format(
            limit=f"{MAX_UPLOAD_BYTES / 2**20:g}"),
        "failed": _("The server did not answer: {why}"),
        "sample_alt": _("synthetic cat {n}"),
        "result_alt": _("your photo with sunglasses"),
    }


_SAMPLES_LOCK = threading.Lock()


def sample_pngs(course_checks: str) -> tuple[bytes, ...]:
    """The bundled cats, drawn once: the page asks for all six at the same moment, and six threads
    drawing them side by side would only repeat the work."""
    with _SAMPLES_LOCK:
        return _draw_sample_pngs(course_checks)


@functools.lru_cache(maxsize=1)
def _draw_sample_pngs(course_checks: str) -> tuple[bytes, ...]:
    """The exercise's own generator (``cat_faces``, a fixed seed), 4x enlarged."""
    import torch
    from PIL import Image

    from ..scenarios import load_scenario_file

    scenarios = load_scenario_file(Path(course_checks) / "scenarios.py")
    images, _eyes = scenarios.cat_faces(SAMPLES, generator=torch.Generator().manual_seed(7))
    pixels = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    out = []
    for tile in pixels:
        image = Image.frombytes("RGB", (tile.shape[1], tile.shape[0]), bytes(tile.flatten().tolist()))
        buffer = io.BytesIO()
        image.resize((SAMPLE_SIZE, SAMPLE_SIZE), Image.Resampling.NEAREST).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return tuple(out)


def _png_data_uri(image: t.Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def make_app(model: StudentModel) -> t.Any:
    """The Starlette application for ``model`` (trained in the background once the server runs)."""
    import jinja2
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    checks = str(model.exercise.public_checks)

    def error(message: str, status: int) -> JSONResponse:
        return JSONResponse({"message": message}, status_code=status, headers=headers)

    async def page(request: Request) -> HTMLResponse:
        html = env.get_template("index.html.j2").render(
            lang=language(), texts=texts(), samples=range(SAMPLES), max_bytes=MAX_UPLOAD_BYTES,
            sample_size=SAMPLE_SIZE)
        return HTMLResponse(html, headers=headers)

    def asset(name: str, media_type: str) -> t.Callable[[Request], t.Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return Response((HERE / "static" / name).read_bytes(), media_type=media_type, headers=headers)
        return serve

    async def sample(request: Request) -> Response:
        index = request.path_params["index"]
        if not 0 <= index < SAMPLES:
            return error(_("There is no such cat."), 404)
        data = await run_in_threadpool(sample_pngs, checks)
        return Response(data[index], media_type="image/png", headers=headers)

    async def status(request: Request) -> JSONResponse:
        s = model.status
        return JSONResponse({"state": s.state, "message": s.message, "missing": s.missing,
                             "seconds": round(s.seconds, 1), "functions": list(FUNCTIONS)}, headers=headers)

    async def predict(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > DRAIN_LIMIT:
            return JSONResponse({"message": too_large_message(int(declared))}, status_code=413,
                                headers={**headers, "Connection": "close"})
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= MAX_UPLOAD_BYTES:
                chunks.append(chunk)
            elif size > DRAIN_LIMIT:
                break
        if size > MAX_UPLOAD_BYTES:
            return error(too_large_message(size), 413)
        if model.status.state == "training":
            return error(_("Your model is still being trained; try again in a few seconds."), 503)
        if model.status.state != "ready":
            return error(_("The web app needs a working keypoints exercise first."), 409)
        try:
            result = await run_in_threadpool(_answer, model, b"".join(chunks))
        except UploadError as exc:
            return error(str(exc), exc.status)
        return JSONResponse(result, headers=headers)

    routes = [
        Route("/", page),
        Route("/app.js", asset("app.js", "text/javascript")),
        Route("/app.css", asset("app.css", "text/css")),
        Route("/favicon.svg", asset("favicon.svg", "image/svg+xml")),
        Route("/samples/{index:int}.png", sample),
        Route("/api/status", status),
        Route("/api/predict", predict, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _answer(model: StudentModel, data: bytes) -> dict[str, t.Any]:
    """The JSON answer for one upload: the picture with glasses, with eyes too, and the numbers."""
    photo = read_photo(data)
    found = model.predict(photo)
    draw = model.thug_cat.draw_glasses
    return {
        "image": _png_data_uri(draw(photo, found.glasses)),
        "points_image": _png_data_uri(draw(photo, found.glasses, eyes=found.eyes)),
        "size": list(photo.size),
        "eyes": [[round(x, 1), round(y, 1)] for x, y in found.eyes],
        "glasses": None if found.glasses is None else {
            "center": [round(v, 1) for v in found.glasses[0]], "angle": round(found.glasses[1], 1),
            "width": round(found.glasses[2], 1)},
        "message": found.problem,
    }
