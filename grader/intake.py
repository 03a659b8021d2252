"""Stage one student's submission into a clean folder the worker may see.

A submission is a folder or a ``.zip`` named after the student. Nothing from it is trusted: zip
members with ``..`` or absolute paths, symlinks, special files, oversized files and zip bombs are
refused with a message; notebooks become packages; non-UTF-8 sources are reported. What comes
out is ``stage/<name>/…`` of regular files only, plus notes per exercise for the feedback.
"""

from __future__ import annotations

import os
import shutil
import stat
import typing as t
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .notebooks import NotebookError, notebook_to_module, write_notebook_package

__all__ = ["Intake", "IntakeLimits", "stage_submission", "student_id_of"]


@dataclass(frozen=True)
class IntakeLimits:
    #: Largest single file, in bytes.
    max_file_bytes: int = 5 << 20
    #: Most bytes a whole submission may unpack to (zip-bomb guard).
    max_total_bytes: int = 50 << 20
    #: Most files in a submission.
    max_files: int = 2000


@dataclass
class Intake:
    student_id: str
    #: Folder with the staged packages (``root/<exercise>/__init__.py``).
    root: Path
    #: Exercises found (package folder or notebook).
    found: set[str] = field(default_factory=set)
    #: Messages for the student, per exercise ("" for the whole submission).
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: Exercises that cannot be graded at all (message -> zero points).
    fatal: dict[str, str] = field(default_factory=dict)

    def note(self, exercise: str, message: str) -> None:
        self.notes.setdefault(exercise, []).append(message)


class _Refused(Exception):
    pass


def student_id_of(entry: Path) -> str:
    return entry.name[:-4] if entry.suffix.lower() == ".zip" and entry.is_file() else entry.name


def stage_submission(entry: Path, stage: Path, exercises: list[str], limits: IntakeLimits = IntakeLimits(),
                     also: t.Sequence[str] = ()) -> Intake:
    """Copy or unpack ``entry`` into ``stage`` safely and make packages of notebooks.

    ``also``: packages the graded exercises build on (their ``depends``), staged the same way when
    the submission has them but not graded: a missing one is no note here (the check that needs it
    says so).
    """
    intake = Intake(student_id_of(entry), stage)
    raw = stage.parent / (stage.name + ".raw")
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    stage.mkdir(parents=True, exist_ok=True)
    try:
        if entry.is_symlink():
            raise _Refused(f"{entry.name} is a symbolic link; submit a real folder or .zip.")
        if entry.is_file() and entry.suffix.lower() == ".zip":
            _unzip(entry, raw, intake, limits)
        elif entry.is_dir():
            _copy_tree(entry, raw, intake, limits)
        else:
            raise _Refused(f"{entry.name} is neither a folder nor a .zip file.")
        base = _single_top_folder(raw, exercises)
        for name in exercises:
            _stage_exercise(name, base, stage, intake, limits)
        for name in also:
            if name not in exercises:
                aside = Intake(intake.student_id, stage)
                _stage_exercise(name, base, stage, aside, limits)
                if name in aside.fatal:
                    shutil.rmtree(stage / name, ignore_errors=True)
    except _Refused as exc:
        intake.note("", str(exc))
        for name in exercises:
            intake.fatal.setdefault(name, str(exc))
    finally:
        shutil.rmtree(raw, ignore_errors=True)
    if not any((raw.parent / stage.name).iterdir()) and not intake.fatal:
        for name in exercises:
            intake.fatal.setdefault(name, "The submission is empty.")
    return intake


def _single_top_folder(raw: Path, exercises: list[str]) -> Path:
    """Zips often wrap everything in one folder (``alice/conv/...``); look inside it then."""
    entries = [p for p in raw.iterdir() if p.name not in ("__MACOSX",)]
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in exercises:
        return entries[0]
    return raw


def _stage_exercise(name: str, base: Path, stage: Path, intake: Intake, limits: IntakeLimits) -> None:
    folder, notebook = base / name, base / f"{name}.ipynb"
    target = stage / name
    if folder.is_dir():
        intake.found.add(name)
        if notebook.is_file():
            intake.note(name, f"Both {name}/ and {name}.ipynb were submitted; {name}/ is graded.")
        shutil.copytree(folder, target)
        if not (target / "__init__.py").is_file():
            modules = sorted(p.stem for p in target.glob("*.py"))
            if f"{name}.py" in {p.name for p in target.glob("*.py")}:
                (target / "__init__.py").write_text(f"from .{name} import *  # noqa\n", encoding="utf-8")
                intake.note(name, f"{name}/__init__.py was missing; the grader imported {name}/{name}.py instead.")
            else:
                intake.fatal[name] = (f"{name}/ has no __init__.py and no {name}.py "
                                      f"(found: {', '.join(modules) or 'no Python files'}).")
        _check_utf8(target, name, intake)
    elif notebook.is_file():
        intake.found.add(name)
        try:
            converted = notebook_to_module(notebook.read_bytes(), notebook.name)
        except NotebookError as exc:
            intake.fatal[name] = str(exc)
            return
        write_notebook_package(converted, target, name)
        for note in converted.notes:
            intake.note(name, note)
    else:
        intake.fatal[name] = f"No {name}/ folder or {name}.ipynb notebook in the submission."


def _check_utf8(package: Path, name: str, intake: Intake) -> None:
    for path in sorted(package.rglob("*.py")):
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            rel = path.relative_to(package.parent)
            intake.fatal[name] = (f"{rel} is not UTF-8 text (byte {exc.start}); save it as UTF-8.")
            return


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _Refused(f"The zip contains an absolute path ({name!r}); it was not unpacked.")
    if any(part == ".." for part in path.parts):
        raise _Refused(f"The zip contains a path that leaves its folder ({name!r}); it was not unpacked.")
    return path


def _unzip(archive: Path, dest: Path, intake: Intake, limits: IntakeLimits) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > limits.max_files:
                raise _Refused(f"The zip has {len(members)} files (limit {limits.max_files}).")
            for info in members:
                _safe_relative(info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise _Refused(f"The zip contains a symbolic link ({info.filename!r}); it was not unpacked.")
            total = 0
            for info in members:
                rel = _safe_relative(info.filename)
                if info.is_dir() or not rel.parts or _ignored(rel.parts):
                    continue
                if info.file_size > limits.max_file_bytes:
                    intake.note("", f"{info.filename} is larger than {limits.max_file_bytes >> 20} MB and was skipped.")
                    continue
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    # Count real bytes, not the header's claim: a zip bomb lies about its sizes.
                    while chunk := src.read(1 << 16):
                        total += len(chunk)
                        if total > limits.max_total_bytes or out.tell() + len(chunk) > limits.max_file_bytes:
                            raise _Refused(f"The zip unpacks to more than {limits.max_total_bytes >> 20} MB "
                                           "(or a file larger than allowed); it was not unpacked.")
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise _Refused(f"{archive.name} is not a readable zip file ({exc}).") from None


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(p in ("__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git") for p in parts)


def _copy_tree(src: Path, dest: Path, intake: Intake, limits: IntakeLimits) -> None:
    total = files = 0
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel_dir = Path(dirpath).relative_to(src)
        dirnames[:] = [d for d in dirnames if not _ignored((d,))]
        for d in list(dirnames):
            if (Path(dirpath) / d).is_symlink():
                intake.note("", f"{rel_dir / d} is a symbolic link and was skipped.")
                dirnames.remove(d)
        for fname in filenames:
            path = Path(dirpath) / fname
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                intake.note("", f"{rel_dir / fname} is a symbolic link and was skipped.")
                continue
            if not stat.S_ISREG(st.st_mode):
                intake.note("", f"{rel_dir / fname} is not a regular file and was skipped.")
                continue
            if st.st_size > limits.max_file_bytes:
                intake.note("", f"{rel_dir / fname} is larger than {limits.max_file_bytes >> 20} MB and was skipped.")
                continue
            files += 1
            total += st.st_size
            if files > limits.max_files or total > limits.max_total_bytes:
                raise _Refused(f"The submission is larger than {limits.max_total_bytes >> 20} MB "
                               f"or has more than {limits.max_files} files.")
            target = dest / rel_dir / fname
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "rb") as f_in, open(target, "wb") as f_out:
                shutil.copyfileobj(f_in, f_out)
