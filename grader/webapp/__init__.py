"""``grade serve keypoints``: the thug-cat web app, the bootcamp's last step.

A local page where a student uploads a photo (or picks a synthetic cat) and sees it with
sunglasses placed by their own model and ``glasses_transform``. The pieces, each with one job:

- :mod:`.student_model`: the student's model, trained in the sandbox, judged here as weights;
- :mod:`.uploads`: hostile uploads become one clear message each;
- :mod:`.app`: the Starlette routes, the page (Jinja2 template, script and style in ``static/``).

The student's code never runs in the server's process: it runs in a sandboxed worker, which is
restarted when it crashes or hangs.
"""

from __future__ import annotations

from .app import make_app
from .student_model import StudentModel

__all__ = ["make_app", "StudentModel", "serve"]


def serve(model: StudentModel, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Train ``model`` in the background and serve the app with uvicorn until interrupted."""
    import threading

    import uvicorn

    threading.Thread(target=model.train, name="train-keypoints", daemon=True).start()
    try:
        uvicorn.run(make_app(model), host=host, port=port, log_level="warning", access_log=False)
    finally:
        model.close()
