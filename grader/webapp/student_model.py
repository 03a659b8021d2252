"""The student's keypoint model behind the web app: trained in the sandbox, used here as weights.

The server never imports the student's package. At start-up the exercise's own scenario
(``checks/keypoints/scenarios.py: train_keypoints``) trains the student's ``KeypointModel`` in a
sandboxed worker, exactly as ``grade check keypoints`` does; what comes back is a ``state_dict``,
loaded here into the published architecture (``checks/keypoints/thug_cat.py: PublishedModel``).
That model finds the eyes of each uploaded photo in this process, which costs milliseconds and
cannot be hijacked; the student's ``glasses_transform`` is then called in the worker with those
eyes, and its answer (three numbers) places the sunglasses. A worker that crashes, hangs or sends
garbage is killed and a fresh one is started for the next request; the trained weights stay.

A stub, or a submission whose training fails, leaves the app "not ready": the page then lists the
functions that still raise ``NotImplementedError`` (each probed in the worker on small inputs).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import typing as t
from pathlib import Path

from .._limits import CHECK_IMPORT_TIMEOUT, Limits
from ..catalog import Exercise
from ..i18n import Translator, _, language
from ..proxy import StudentPackage
from ..sandbox import RemoteObject, Sandbox, StudentError, StudentImportError, WorkerError
from ..scenarios import load_course_module, scenario_file

#: The size of the images the model was trained on (``train_keypoints``).
MODEL_SIZE = 64
#: The seed of the training the app runs (fixed: the same submission gives the same model).
TRAINING_SEED = 2026
#: Seconds the training may take; seconds one glasses_transform call may take.
TRAINING_TIMEOUT = 120.0
CALL_TIMEOUT = 5.0
#: Seconds the student's package may take to import (as for grade check).
IMPORT_TIMEOUT = CHECK_IMPORT_TIMEOUT
#: What the stub asks the student to write, in the order of the exercise.
FUNCTIONS = ("scale_points", "unscale_points", "flip_points_horizontal", "glasses_transform", "KeypointModel")


@dataclasses.dataclass
class Status:
    """Where the app stands: ``training``, ``ready`` or ``not_ready`` (with why and what is missing)."""

    state: str = "training"
    message: str = ""
    missing: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


@dataclasses.dataclass
class Prediction:
    """The eyes the model found (pixels of the photo), the glasses (or ``None``) and a note."""

    eyes: list[tuple[float, float]]
    glasses: tuple[tuple[float, float], float, float] | None
    problem: str = ""


class StudentModel:
    """One submission's keypoint model for the web app (thread-safe: requests take turns)."""

    def __init__(self, exercise: Exercise, root: Path, limits: Limits | None = None) -> None:
        self.exercise = exercise
        self.root = Path(root)
        self.limits = limits or Limits(call_timeout=CALL_TIMEOUT, import_timeout=IMPORT_TIMEOUT)
        self.thug_cat = load_course_module(exercise.public_checks / "thug_cat.py")
        self.status = Status()
        self._model: t.Any = None
        self._sandbox: Sandbox | None = None
        self._package: StudentPackage | None = None
        self._lock = threading.Lock()
        #: workers started so far (the first, and one after each crash or timeout)
        self.workers_started = 0

    # -- the worker ------------------------------------------------------------------------------
    def _student(self) -> StudentPackage:
        if self._sandbox is None or self._package is None:
            self._sandbox = Sandbox(self.root, [self.exercise.name], self.limits).start()
            self._package = StudentPackage(self._sandbox, self.exercise.name, timeout=CALL_TIMEOUT,
                                           scenarios=scenario_file(self.exercise))
            self.workers_started += 1
        return self._package

    def _restart(self) -> None:
        """Kill the worker (it crashed, hung or misbehaved) and start a fresh one for the next request."""
        if self._sandbox is not None:
            self._sandbox.close()
        self._sandbox = self._package = None
        self._student()  # it imports torch while nobody waits

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
            self._sandbox = self._package = None

    # -- training --------------------------------------------------------------------------------
    def train(self) -> Status:
        """Run ``train_keypoints`` in the worker and load the weights here; sets :attr:`status`."""
        with self._lock:
            started = time.monotonic()
            student = self._student()
            student.timeout = TRAINING_TIMEOUT
            try:
                out = student.scenario("train_keypoints", seed=TRAINING_SEED, device="cpu")
                state = out.get("state") if isinstance(out, dict) else None
                self._model = self._load(state)
                self.status = Status("ready", seconds=time.monotonic() - started)
            except (WorkerError, AssertionError) as exc:
                # the functions still to write, when the student's code itself raised (not when it
                # does not import, hung or crashed: then the message says all there is)
                missing = (self._missing(student) if isinstance(exc, StudentError)
                           and not isinstance(exc, StudentImportError) else [])
                message = self._translate(str(exc))
                self.status = Status("not_ready", message, missing, time.monotonic() - started)
            finally:
                if self._package is not None:
                    self._package.timeout = CALL_TIMEOUT
            return self.status

    def _translate(self, message: str) -> str:
        """A worker's message (English) in the page's language, cut to its first lines."""
        return Translator(language(), self.exercise).text(_first_lines(message))

    def _load(self, state: object) -> t.Any:
        from ..weights import load_weights

        if not isinstance(state, dict):
            raise AssertionError(_("The scenario train_keypoints did not return the trained weights (did you change "
                                   "scenarios.py?)."))
        return load_weights(self.thug_cat.PublishedModel().double(), state, what=_("the trained KeypointModel"))

    def _missing(self, student: StudentPackage) -> list[str]:
        """The functions of :data:`FUNCTIONS` that raise NotImplementedError on small inputs."""
        import torch

        eyes = torch.tensor([[[20.0, 30.0], [40.0, 30.0]]])
        probes: dict[str, t.Callable[[], object]] = {
            "scale_points": lambda: student.scale_points(eyes, (64, 64)),
            "unscale_points": lambda: student.unscale_points(eyes / 64, (64, 64)),
            "flip_points_horizontal": lambda: student.flip_points_horizontal(eyes, 64),
            "glasses_transform": lambda: student.glasses_transform(eyes[:, 0], eyes[:, 1]),
            "KeypointModel": lambda: self._probe_model(student),
        }
        missing = []
        for name, probe in probes.items():
            try:
                probe()
            except StudentError as exc:
                if exc.is_a("NotImplementedError"):
                    missing.append(name)
            except WorkerError:
                self._restart()
                student = self._student()
        return missing

    def _probe_model(self, student: StudentPackage) -> None:
        import torch

        made = student.scenario("make_encoder", seed=TRAINING_SEED, device="cpu")
        encoder = made.get("encoder") if isinstance(made, dict) else None
        if isinstance(encoder, RemoteObject):
            model = student.KeypointModel(encoder, 2)
            model(torch.zeros(1, 3, MODEL_SIZE, MODEL_SIZE))

    # -- one photo -------------------------------------------------------------------------------
    def predict(self, photo: t.Any) -> Prediction:
        """The eyes in ``photo`` (a PIL RGB image) and the student's glasses for them."""
        import torch
        from PIL import Image

        with self._lock:
            if self._model is None:
                raise RuntimeError("the model is not trained")
            width, height = photo.size
            side = min(width, height)
            left, top = (width - side) / 2, (height - side) / 2
            square = photo.crop((round(left), round(top), round(left) + side, round(top) + side))
            small = square.resize((MODEL_SIZE, MODEL_SIZE), Image.Resampling.BOX)
            x = torch.frombuffer(bytearray(small.tobytes()), dtype=torch.uint8).view(MODEL_SIZE, MODEL_SIZE, 3)
            x = x.permute(2, 0, 1).unsqueeze(0).double() / 255
            with torch.no_grad():
                scaled = self._model(x)[0]
            pixels = (scaled + 1) * (side / 2)  # (2, 2): the eyes in pixels of the square
            eyes = [(float(px) + round(left), float(py) + round(top)) for px, py in pixels.tolist()]
            glasses, problem = self._glasses(eyes)
            return Prediction(eyes, glasses, problem)

    def _glasses(self, eyes: list[tuple[float, float]]) -> tuple[t.Any, str]:
        import torch

        student = self._student()
        left, right = torch.tensor([eyes[0]]), torch.tensor([eyes[1]])
        try:
            out = student.glasses_transform(left, right)
        except StudentError as exc:
            if exc.is_a("NotImplementedError"):
                return None, _("glasses_transform is still to be written: the red rings show the eyes your model "
                               "found.")
            return None, _("glasses_transform raised an error: {why}").format(why=self._translate(str(exc)))
        except WorkerError as exc:
            self._restart()
            return None, _("glasses_transform did not give an answer: {why}").format(why=self._translate(str(exc)))
        try:
            if not isinstance(out, (tuple, list)) or len(out) != 3 or not all(type(v) is torch.Tensor for v in out):
                raise TypeError
            center, angle, width = (v.detach().to("cpu", torch.float64).reshape(-1) for v in out)
            glasses = ((float(center[0]), float(center[1])), float(angle[0]), float(width[0]))
        except (TypeError, IndexError, ValueError, RuntimeError):
            return None, _("glasses_transform must return three tensors (center, angle_degrees, width).")
        if not all(math.isfinite(v) for v in (*glasses[0], *glasses[1:])):
            return None, _("glasses_transform returned values that are not finite numbers (NaN or infinite).")
        return glasses, ""


def _first_lines(text: str, n: int = 6) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:n]) + ("\n…" if len(lines) > n else "")
