"""The ``grade`` command. It parses options and delegates; the work lives in the other modules.

Imports are kept light at module level (no torch, no pytest): ``grade check`` starts the sandboxed
worker first, so the worker imports torch while this process imports the checks' dependencies.
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import click

from ._limits import CHECK_IMPORT_TIMEOUT
from .catalog import Course, Exercise, find_course
from .errors import GradeError, SubmissionNotFound
from .i18n import LANGUAGES

DEVICE = click.Choice(["cpu", "cuda", "auto"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--course", type=click.Path(file_okay=False, path_type=Path), envvar="GRADE_COURSE",
              help="Course folder (has checks/ and exercises/). Default: found from the current folder.")
@click.pass_context
def cli(ctx: click.Context, course: Path | None) -> None:
    """Grade deep-learning exercises (PyTorch, fastai) without trusting the code being graded.

    \b
    Students:     grade list            what there is to do
                  grade check conv      check your exercises/conv/ (public checks)
    Instructors:  grade check conv --submission SUBMISSION --hidden
                  grade validate        solutions pass, stubs fail, mutants are caught
                  grade batch SUBMISSIONS --out results/ [--shard K/N]
                  grade collect results/ --submissions SUBMISSIONS   after the shards
                  grade slurm / grade k8s-job    the shards on a cluster
                  grade similarity results/   copy detection
                  grade report results/       report.html and grades.csv again from the results

    Student code always runs in a separate, resource-limited worker process; the checks and the
    grade are computed in this process, which never runs student code.
    """
    from .i18n import detect_language, set_language

    set_language(detect_language())  # `grade check --lang` overrides it
    ctx.obj = course


def _course(ctx: click.Context) -> Course:
    return find_course(ctx.obj) if ctx.obj else find_course()


def _console(stderr: bool = False) -> t.Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@cli.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the exercises with their titles."""
    from rich.table import Table

    course = _course(ctx)
    table = Table("Exercise", "Title", "Titel", "Checks")
    for ex in course.exercises().values():
        checks = "public + hidden" if ex.hidden_checks else "public"
        table.add_row(ex.name, ex.title, ex.title_de, checks)
    _console().print(table)


def _notebook_root(notebook: Path, exercise: Exercise, ctx: click.Context) -> Path:
    """A temporary submission folder holding the notebook's code cells as the package."""
    import shutil
    import tempfile

    from .notebooks import NotebookError, notebook_to_module, write_notebook_package

    try:
        converted = notebook_to_module(notebook.read_bytes(), notebook.name)
    except (NotebookError, OSError) as exc:
        raise SubmissionNotFound(str(exc)) from None
    root = Path(tempfile.mkdtemp(prefix="grade-notebook-"))
    ctx.call_on_close(lambda: shutil.rmtree(root, ignore_errors=True))
    write_notebook_package(converted, root / exercise.name, exercise.name)
    _copy_dependencies(exercise, [notebook.parent, exercise.course_root / "exercises"], root)
    from .i18n import translate_text
    from .reports.safe_text import terminal

    for note in converted.notes:  # notes quote the notebook's lines: student text
        click.echo(terminal(translate_text(note)), err=True)
    return root


def _copy_dependencies(exercise: Exercise, places: list[Path], root: Path) -> None:
    """The student's packages ``exercise`` builds on, next to a notebook's package: from the first of
    ``places`` that has ``<name>/`` or ``<name>.ipynb`` (a missing one is named by the checks)."""
    import shutil

    from .notebooks import NotebookError, notebook_to_module, write_notebook_package

    for name in exercise.depends:
        for place in places:
            if (place / name).is_dir() and not (place / name).is_symlink():
                shutil.copytree(place / name, root / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
                break
            if (place / f"{name}.ipynb").is_file():
                try:
                    converted = notebook_to_module((place / f"{name}.ipynb").read_bytes(), f"{name}.ipynb")
                except (NotebookError, OSError):
                    break
                write_notebook_package(converted, root / name, name)
                break


def _submission_root(course: Course, submission: Path | None, exercise: Exercise, ctx: click.Context) -> Path:
    root = (submission or course.root / "exercises").resolve()
    if root.is_file() and root.suffix == ".ipynb":
        return _notebook_root(root, exercise, ctx)
    if root.is_dir() and not (root / exercise.name).is_dir() and (root / f"{exercise.name}.ipynb").is_file():
        return _notebook_root(root / f"{exercise.name}.ipynb", exercise, ctx)
    if not root.is_dir():
        raise SubmissionNotFound(f"Submission folder {root} does not exist.")
    if root.name == exercise.name and (root / "__init__.py").is_file():
        root = root.parent  # accept the package folder itself, too
    if not (root / exercise.name).is_dir():
        raise SubmissionNotFound(f"{root} has no folder {exercise.name}/ (the package with your code).")
    return root


@cli.command()
@click.argument("exercise", required=False)
@click.option("--all", "all_exercises", is_flag=True,
              help="Run the public checks of every exercise and print one summary table (make check).")
@click.option("--submission", type=click.Path(path_type=Path),
              help="Folder that contains the <EXERCISE>/ package (or <EXERCISE>.ipynb), or a notebook "
                   "file. Default: the course's exercises/.")
@click.option("--hidden", is_flag=True, help="Also run the hidden checks (instructors; needs reference/).")
@click.option("--device", type=DEVICE, default="cpu", show_default=True, help="Where tensors live in the checks.")
@click.option("--json", "as_json", is_flag=True, help="Print Gradescope's results.json to stdout instead of a table.")
@click.option("--timeout", type=float,
              help="Seconds per call of your code (default: the exercise's); also raises the "
                   f"{CHECK_IMPORT_TIMEOUT:g} s your package may take to import.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the report (default: from LANG/LC_ALL).")
@click.option("-v", "--verbose", is_flag=True, help="Show full messages.")
@click.pass_context
def check(ctx: click.Context, exercise: str | None, all_exercises: bool, submission: Path | None, hidden: bool,
          device: str, as_json: bool, timeout: float | None, lang: str | None, verbose: bool) -> None:
    """Grade one EXERCISE of one submission. Exit status 0 only when every check passed.

    \b
    Examples:
      grade check conv                                    your own exercises/conv/
      grade check conv --submission conv.ipynb            your notebook's code cells
      grade check --all                                   every exercise, one summary table
      grade check conv --lang de                          the report in German
      grade check conv --submission solutions --hidden    the instructor's solution
    """
    from ._limits import Limits
    from .i18n import Translator, detect_language, set_language
    from .sandbox import Sandbox

    lang = lang or detect_language()
    set_language(lang)
    course = _course(ctx)
    limits = Limits(call_timeout=timeout, import_timeout=max(CHECK_IMPORT_TIMEOUT, timeout or 0.0)).for_device(device)
    if all_exercises or not exercise:
        if exercise or not all_exercises:
            raise click.UsageError("Name one EXERCISE, or use --all (and no EXERCISE).")
        from .summary import check_all

        ctx.exit(check_all(course, submission, hidden=hidden, device=device, limits=limits, lang=lang,
                           as_json=as_json, verbose=verbose, console=_console()))
    ex = course.exercise(exercise)
    if hidden and not ex.hidden_checks:
        raise GradeError(f"No hidden checks for {exercise!r} here (they are not part of the student bundle).")
    root = _submission_root(course, submission, ex, ctx)
    with Sandbox(root, [ex.name], limits) as sandbox:  # starts the worker now, in parallel
        from .runner import resolve_device, run_checks

        result = run_checks(ex, sandbox, root, hidden=hidden, device=resolve_device(device),
                            artifacts_dir=Path.cwd() / "grade-output")
    result = Translator(lang, ex).result(result)
    if as_json:
        from .results import gradescope

        click.echo(json.dumps(gradescope([result]), indent=2, ensure_ascii=False))
    else:
        from .report import print_exercise_result

        print_exercise_result(result, _console(), verbose)
    ctx.exit(0 if result.all_passed else 1)


@cli.command()
@click.argument("exercise", metavar="keypoints")
@click.option("--submission", type=click.Path(path_type=Path),
              help="Folder that contains keypoints/ (or keypoints.ipynb), or a notebook file. Default: the "
                   "course's exercises/.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this machine can reach 127.0.0.1; anything else opens the app "
                   "(and your model) to the network.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the page (default: from LANG/LC_ALL).")
@click.pass_context
def serve(ctx: click.Context, exercise: str, submission: Path | None, port: int, host: str, lang: str | None) -> None:
    """The thug-cat web app: your KeypointModel puts sunglasses on a cat, in your browser.

    Your model is trained at start-up by the exercise's scenario, in a sandbox as in grade check
    (a few seconds); then upload a photo or pick a synthetic cat on the page. Ctrl+C stops it.

    \b
    Examples:
      grade serve keypoints                          your own exercises/keypoints/
      grade serve keypoints --submission solutions   the instructor's solution
      grade serve keypoints --port 8080 --lang de    another port, the page in German
    """
    from .i18n import detect_language, set_language

    if exercise != "keypoints":
        raise click.UsageError(f"Only keypoints has a web app (grade serve keypoints), not {exercise!r}.")
    set_language(lang or detect_language())
    course = _course(ctx)
    ex = course.exercise(exercise)
    root = _submission_root(course, submission, ex, ctx)
    from .webapp import StudentModel, serve as run_server

    console = _console()
    console.print(f"Serving the thug-cat app on [bold]http://{host}:{port}/[/bold] for {root / ex.name} "
                  "(Ctrl+C stops it).")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]Listening on {host}: other machines can reach this app.[/yellow]")
    run_server(StudentModel(ex, root), host=host, port=port)


@cli.command()
@click.argument("exercises", nargs=-1)
@click.option("--device", type=DEVICE, default="cpu", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Exercises validated at once, each in its own process (one per core).")
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a JUnit XML report (one test case per exercise), for CI.")
@click.option("--quick", is_flag=True,
              help="The same verdict with less grading: each mutant only until its first failing check, then "
                   "the hidden checks no mutant failed yet. The table then shows fewer failed checks per mutant.")
@click.pass_context
def validate(ctx: click.Context, exercises: tuple[str, ...], device: str, jobs: int,
             junit_xml: Path | None, quick: bool) -> None:
    """Prove the course right: solutions get full marks, stubs get zero, every mutant fails a
    hidden check and every hidden check fails at least one mutant. Default: all exercises.

    \b
    Example:
      grade validate conv padding_stride        two exercises, every mutant against every check
      grade validate --jobs 2 --quick           all of them, as make test does (about half the time)
    """
    from .validation import print_validation, validate_many, write_junit

    course = _course(ctx)
    names = list(exercises) or list(course.exercises())
    console = _console()
    reports = []
    for report in validate_many([course.exercise(name) for name in names], device=device, jobs=jobs,
                                console=console, quick=quick):
        print_validation(report, console)
        reports.append(report)
    if junit_xml is not None:
        write_junit(reports, junit_xml, device)
    ctx.exit(0 if all(r.ok for r in reports) else 1)


def _parse_shard(ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    """--shard K/N -> (K, N), or a usage error that says what is expected (never a traceback)."""
    if value is None:
        return None
    from .batch import parse_shard

    try:
        return parse_shard(value)
    except ValueError as exc:
        raise click.UsageError(str(exc), ctx) from None


@cli.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for grades.csv, report.html and <student>/results.json + feedback.md.")
@click.option("--exercise", "exercises", multiple=True, metavar="NAME",
              help="Grade only this exercise (repeatable). Default: every exercise found in the submissions.")
@click.option("--backend", type=click.Choice(["docker", "local", "auto"]), default="auto", show_default=True,
              help="docker: one container per submission; local: a child process as an unprivileged user.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Submissions graded at once. Default: CPU cores.")
@click.option("--resume", is_flag=True, help="Skip students whose results.json is already complete.")
@click.option("--image", help="Docker image for workers (default: dl-grader-worker:local-1, built here).")
@click.option("--fresh-workers", is_flag=True,
              help="A new container/interpreter per submission (slower: torch is imported each time) instead "
                   "of a warm fork server per job that forks each submission's worker under its own uid.")
@click.option("--fresh-draws", is_flag=True,
              help="Draw every student's check inputs anew (slower: the trusted reference then runs once per "
                   "student). Default: one secret set of draws per batch, the same for every student, so each "
                   "reference answer is computed once.")
@click.option("--device", type=DEVICE, default="cpu", show_default=True)
@click.option("--nbgrader-db", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the scores into this nbgrader gradebook (gradebook.db of the nbgrader course).")
@click.option("--lang", type=click.Choice(LANGUAGES),
              help="Language of feedback, report and CSV headers. Default: the course's (course.toml), German.")
@click.option("--shard", metavar="K/N", callback=_parse_shard,
              help="Grade only shard K of N (K from 1): the students whose id hashes to it, the same split "
                   "in every run. No class files: run grade collect OUT when all N shards are done.")
@click.pass_context
def batch(ctx: click.Context, submissions: Path, out: Path, exercises: tuple[str, ...], backend: str,
          jobs: int | None, resume: bool, image: str | None, fresh_workers: bool, fresh_draws: bool, device: str,
          nbgrader_db: Path | None, lang: str | None, shard: tuple[int, int] | None) -> None:
    """Grade every submission in SUBMISSIONS (one folder or .zip per student, named by student id).

    Inside a submission: exercise folders <name>/ and/or notebooks <name>.ipynb. Each submission is
    graded in isolation with the hidden checks; one broken or hostile submission never stops the
    batch. Results are written as each student finishes, so --resume continues a killed batch.
    SUBMISSIONS may also be nbgrader's submitted/ folder (or its course folder):
    submitted/<student>/<assignment>/<assignment>.ipynb, the assignment named after the exercise.

    On a cluster, split the class into N shards, one job each, all with the same --out (a shared
    folder): --shard K/N grades the students whose id hashes to K (adding submissions never
    moves a student to another shard, and no student is in two). A shard writes its students'
    files but no class files (report.html, similarity.html, grades*.csv, junit.xml); once every
    shard is done, `grade collect OUT --submissions SUBMISSIONS` writes them and names any
    student still missing. Re-run a failed shard with --resume.

    \b
    Example:
      grade batch submissions/ --out results/ --exercise conv --jobs 4
      grade batch course/submitted --out results/ --nbgrader-db course/gradebook.db
      grade batch submissions/ --out results/ --lang en   feedback and report in English
      grade batch submissions/ --out /shared/results --shard 3/8 --resume   job 3 of 8 (e.g. a Slurm array)
      grade collect /shared/results --submissions submissions/              when all 8 are done
    """
    import shutil

    from .batch import BatchOptions, run_batch
    from .nbgrader_export import is_nbgrader_layout, stage_submitted, write_gradebook

    if shard is not None and nbgrader_db is not None:
        raise click.UsageError("--nbgrader-db cannot be used with --shard (the shards would write one gradebook "
                               "at once); grade the shards without it.", ctx)
    course = _course(ctx)
    options = BatchOptions(out=out, exercises=exercises, backend=backend, jobs=jobs or 0, resume=resume,
                           image=image, device=device, fresh_workers=fresh_workers, lang=lang or "",
                           fresh_draws=fresh_draws, shard=shard)
    submitted = is_nbgrader_layout(submissions)
    staged = None
    if submitted is not None:
        staged, notes = stage_submitted(submitted, course.exercises())
        ctx.call_on_close(lambda: shutil.rmtree(staged, ignore_errors=True))
        for note in notes:
            click.echo(f"nbgrader: {note}", err=True)
    summaries = run_batch(course, staged or submissions, options, _console())
    if nbgrader_db is not None:
        for note in write_gradebook(nbgrader_db, out):
            click.echo(f"nbgrader: {note}", err=True)
        click.echo(f"Scores written to the nbgrader gradebook {nbgrader_db}.")
    ctx.exit(0 if all(s["status"] != "errored" for s in summaries) else 1)


@cli.command()
@click.argument("results_dir", metavar="RESULTS_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), metavar="X",
              help="Flag a pair when this share (0..1) of one student's code is found in the other's. "
                   "Default: 0.5 (measured: independent solutions share at most ~0.2, disguised copies ~0.9 and more).")
@click.option("--exercise", "exercises", multiple=True, metavar="NAME",
              help="Compare only this exercise (repeatable). Default: every exercise with code in RESULTS_DIR.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the table and the page. Default: the course's.")
@click.pass_context
def similarity(ctx: click.Context, results_dir: Path, threshold: float | None, exercises: tuple[str, ...],
               lang: str | None) -> None:
    """Find students who handed in the same code: copy detection over a graded batch.

    `grade batch` keeps the code it graded in RESULTS_DIR/<student>/code/<exercise>.py (notebooks
    as their code cells). Every pair of students is compared per exercise with copydetect
    (winnowed fingerprints of the token stream): renamed variables, reordered functions and
    rewritten comments do not hide a copy, and the code the stub gives everybody never counts.
    Prints the flagged pairs, most similar first, and writes RESULTS_DIR/similarity.html with
    each pair side by side and the shared code marked. A flagged pair is a reason to look at the
    code, not proof of copying. Needs the course (for the stubs): run it in the course folder or
    pass --course.

    \b
    Example:
      grade batch submissions/ --out results/ --exercise conv
      grade similarity results/                       every exercise graded
      grade similarity results/ --exercise conv --threshold 0.7
    """
    from .i18n import set_language
    from .reports import similarity as sim

    course = _course(ctx)
    set_language(lang or course.language)
    if not results_dir.is_dir():
        raise GradeError(f"{results_dir} is not a folder of results (grade batch --out).")
    students, found = sim.snapshot_index(results_dir)
    for name in exercises:
        course.exercise(name)  # a clear error for an unknown name
    chosen = list(exercises) or [name for name in found if name in course.exercises()]
    if not students:
        raise GradeError(f"{results_dir} holds no code snapshots (<student>/code/<exercise>.py); "
                         "grade the submissions with grade batch first.")
    pairs = sim.find_similar(results_dir, students, chosen, course,
                             threshold=sim.THRESHOLD if threshold is None else threshold)
    console = _console()
    if pairs:
        console.print(sim.pairs_table(pairs))
    else:
        console.print(sim.no_pairs_text(len(students), chosen), markup=False, highlight=False)
    page = sim.write_similarity_html(results_dir, pairs)
    console.print(f"{page}", markup=False, highlight=False)


def _class_file_options(command: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """RESULTS_DIR, --lang and --exercise: what `grade report` and `grade collect` both read."""
    for decorator in reversed([
        click.argument("results_dir", metavar="RESULTS_DIR",
                       type=click.Path(exists=True, file_okay=False, path_type=Path)),
        click.option("--lang", type=click.Choice(LANGUAGES),
                     help="Language of the report and the CSV headers. Default: the language the results were "
                          "written in (else the course's)."),
        click.option("--exercise", "exercises", multiple=True, metavar="NAME",
                     help="Report on this exercise (repeatable). Default: the exercises most students were "
                          "graded on."),
    ]):
        command = decorator(command)
    return command


@cli.command("report")
@_class_file_options
@click.pass_context
def report_cmd(ctx: click.Context, results_dir: Path, lang: str | None, exercises: tuple[str, ...]) -> None:
    """Rewrite the class files of RESULTS_DIR (report.html, grades.csv, grades-moodle.csv, junit.xml)
    from the RESULTS_DIR/<student>/results.json files that `grade batch --out RESULTS_DIR` wrote.
    Nothing is graded again and no student code runs.

    Use it after changing something by hand (a student's results.json re-graded alone, a student
    folder removed), for a report in the other language, or to look at a batch that is still
    running or was killed. Students without a complete results.json (missing, unreadable, or
    without one of the exercises) are listed and left out of the class files.

    \b
    Example:
      grade report results/                 report.html in the results' language
      grade report results/ --lang en       the same report in English
      grade report results/ --exercise conv only the conv exercise
    The hints and messages inside the results stay in the language they were graded in.
    """
    _write_class_files(ctx, results_dir, lang, exercises)


@cli.command("collect")
@_class_file_options
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The SUBMISSIONS folder the batch graded: name its students without complete results, "
                   "and exit 1 if there are any.")
@click.pass_context
def collect(ctx: click.Context, results_dir: Path, submissions: Path | None, lang: str | None,
            exercises: tuple[str, ...]) -> None:
    """Write the class files of a batch graded in shards (grade batch --shard K/N --out RESULTS_DIR):
    report.html, similarity.html, grades.csv, grades-moodle.csv and junit.xml, from every complete
    RESULTS_DIR/<student>/results.json. It is `grade report` plus, with --submissions, the check
    that every student was graded: the students of SUBMISSIONS without complete results are named
    and the exit status is 1 (re-run their shards with --resume, then collect again); 0 when none
    is missing. Nothing is graded and no student code runs, so it may also run while shards do.

    \b
    Example:
      grade batch subs/ --out results/ --shard 1/2      one job (on a cluster: one array task each)
      grade batch subs/ --out results/ --shard 2/2      the other, at the same time or later
      grade collect results/ --submissions subs/        class files; exit 1 if a student is missing
      grade collect results/ --lang en                  the same files in English, no check
    """
    from .batch import discover
    from .nbgrader_export import is_nbgrader_layout
    from .reports.safe_text import one_line

    expected = [e.student_id for e in discover(is_nbgrader_layout(submissions) or submissions)] \
        if submissions is not None else None
    found = _write_class_files(ctx, results_dir, lang, exercises, required=expected is None)
    missing = [s for s in expected or () if s not in found]
    if missing:
        click.echo(f"{len(missing)} of {len(expected or ())} student(s) of {submissions} have no complete results "
                   f"in {results_dir} (re-run their shard with --resume): {', '.join(one_line(m) for m in missing)}")
    elif expected is not None:
        click.echo(f"All {len(expected)} student(s) of {submissions} have complete results.")
    ctx.exit(1 if missing else 0)


def _write_class_files(ctx: click.Context, results_dir: Path, lang: str | None, exercises: tuple[str, ...],
                       required: bool = True) -> set[str]:
    """`grade report` and `grade collect`: the class files from the complete results.json files;
    returns the students that have them. ``required``: a folder without any results is an error
    (collect with --submissions reports them as missing instead)."""
    from .errors import CourseNotFound
    from .i18n import set_language
    from .reports import write_class_outputs
    from .reports.class_report import read_results

    try:
        course: Course | None = _course(ctx)
    except CourseNotFound:
        course = None  # a results folder copied away from the course: titles are left out
    from .reports.safe_text import one_line

    found = read_results(results_dir, exercises)
    if not found.rows and not found.missing:
        if required:
            raise GradeError(f"{results_dir} holds no student folders with a results.json "
                             "(written by grade batch --out).")
        return set()
    set_language(lang or found.language or (course.language if course is not None else "de"))
    write_class_outputs(results_dir, found.rows, found.exercises, course)
    click.echo(f"{len(found.rows)} student(s) with complete results · exercises: "
               f"{', '.join(found.exercises) or '-'}")
    if found.missing:
        click.echo(f"Without complete results (left out): {', '.join(one_line(m) for m in found.missing)}")
    click.echo(f"Wrote {results_dir / 'report.html'}, similarity.html, grades.csv, grades-moodle.csv and junit.xml.")
    return set(found.rows)


@cli.command("slurm")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Results folder, as for grade batch; on a folder every node sees. Scripts and logs: OUT/.slurm/.")
@click.option("--shards", type=click.IntRange(min=1), default=4, show_default=True,
              help="Array tasks; each grades the students whose id hashes to its shard (grade batch --shard K/N).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Submissions graded at once per task: its --cpus-per-task, and --mem 2 GB + 6 GB per job.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="cuda: each task asks for one GPU (--gres=gpu:1) and grades on it.")
@click.option("--backend", type=click.Choice(["docker", "local", "auto"]), default="auto", show_default=True,
              help="The workers' sandbox in each task, as for grade batch.")
@click.option("--partition", help="Slurm partition (default: the cluster's default partition).")
@click.option("--time", "time_limit", metavar="HH:MM:SS", help="Time limit per task (default: the partition's).")
@click.option("--mem", help="Memory per task, in Slurm's units (e.g. 16G). Default: 2G + 6G per --jobs.")
@click.option("--exercise", "exercises", multiple=True, metavar="NAME",
              help="Grade only this exercise (repeatable). Default: every exercise found in the submissions.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of feedback, report and CSV headers.")
@click.option("--dry-run", is_flag=True, help="Print both job scripts and the sbatch commands; submit nothing.")
@click.option("--no-wait", is_flag=True, help="Submit and return; follow with squeue, the logs in OUT/.slurm/.")
@click.option("--resume", is_flag=True,
              help="Continue OUT: the whole array again, each task skipping its students with complete results.")
@click.pass_context
def slurm_cmd(ctx: click.Context, submissions: Path, out: Path, shards: int, jobs: int, device: str, backend: str,
              partition: str | None, time_limit: str | None, mem: str | None, exercises: tuple[str, ...],
              lang: str | None, dry_run: bool, no_wait: bool, resume: bool) -> None:
    """Grade SUBMISSIONS on a Slurm cluster: a job array of --shards tasks, then a collect job.

    Run it on the cluster's login node, with SUBMISSIONS, --out and this installation on a shared
    folder. Task K of the array (sbatch --array=1-N) runs `grade batch SUBMISSIONS --out OUT
    --shard K/N --resume`; a second job, started when every task has ended
    (--dependency=afterany), runs `grade collect OUT --submissions SUBMISSIONS`: report.html,
    grades.csv and the rest, and the names of students without complete results. The scripts
    (OUT/.slurm/shards.sbatch, collect.sbatch) and logs (OUT/.slurm/shard-K.log, collect.log) stay there.

    Unless --no-wait, it then waits (a progress bar: tasks done of N), names the tasks that failed
    with their logs, prints collect's verdict and exits 0 only when every student has complete
    results. A task that failed, was cancelled or ran out of --time: run the same command again
    with --resume. The whole array is submitted again, but each task skips the students it already
    graded, so only what is missing is graded and nobody twice.

    \b
    Examples:
      grade slurm subs/ --out /shared/results --dry-run            look at the job scripts first
      grade slurm subs/ --out /shared/results --shards 8 --jobs 2 --partition cpu --time 01:00:00
      grade slurm subs/ --out /shared/results --shards 4 --device cuda     one GPU per task
      grade slurm subs/ --out /shared/results --shards 8 --resume          after a failed task
      grade slurm subs/ --out /shared/results --no-wait; squeue --me       submit and leave
    """
    import re

    from . import slurm

    if time_limit is not None and not re.fullmatch(r"(\d+-)?\d+(:\d{1,2}){0,2}", time_limit):
        raise click.UsageError(f"--time must look like HH:MM:SS (or D-HH:MM:SS, or minutes), got {time_limit!r}.", ctx)
    if mem is not None and not re.fullmatch(r"\d+[KMGT]?", mem.upper()):
        raise click.UsageError(f"--mem must be a size in Slurm's units, e.g. 16G or 8000M, got {mem!r}.", ctx)
    options = slurm.SlurmOptions(submissions=submissions, out=out, course_root=_course(ctx).root, shards=shards,
                                 jobs=jobs, device=device, backend=backend, partition=partition,
                                 time=time_limit, mem=mem and mem.upper(), exercises=exercises, lang=lang)
    if dry_run:
        shards_script, collect_script = slurm.job_scripts(options)
        logs = out.absolute() / slurm.LOGS
        click.echo(f"# {logs / 'shards.sbatch'}  (sbatch --parsable {logs / 'shards.sbatch'})\n{shards_script}")
        click.echo(f"# {logs / 'collect.sbatch'}  (sbatch --parsable --dependency=afterany:<array job id> "
                   f"{logs / 'collect.sbatch'})\n{collect_script}")
        click.echo("Dry run: nothing written, nothing submitted.")
        return
    array_id, collect_id, logs = slurm.submit(options, resume=resume)
    click.echo(f"Submitted array job {array_id} ({shards} shard(s)) and collect job {collect_id} "
               f"(after it); scripts and logs in {logs}.")
    if no_wait:
        click.echo(f"Follow with: squeue -j {array_id},{collect_id}. When collect has run: {out}/report.html; "
                   f"its verdict in {logs / 'collect.log'}.")
        return
    ctx.exit(slurm.wait(array_id, collect_id, shards, logs, _console()))


@cli.command("k8s-job")
@click.argument("submissions", metavar="SUBMISSIONS")
@click.option("--out", "results", required=True, metavar="RESULTS",
              help="The results folder, relative to the shared volume (mounted at /data in the pods).")
@click.option("--shards", type=click.IntRange(min=1), required=True, help="Pods, one shard of students each.")
@click.option("--claim", default="grade-data", show_default=True,
              help="The PersistentVolumeClaim that holds SUBMISSIONS and RESULTS (ReadWriteMany).")
@click.option("--image", default="dl-grader:course", show_default=True,
              help="The grader image with the course (ci/docker/Dockerfile.grader); never the students' image.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Students graded at once per pod (its CPU request, and 2 GiB + 6 GiB per job of memory).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="cuda: each pod asks for one nvidia.com/gpu.")
@click.option("--exercise", "exercises", multiple=True, metavar="NAME", help="Grade only this exercise (repeatable).")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of feedback and report (default: the course's).")
@click.option("--name", default="grade", show_default=True, help="Prefix of the Jobs' names (a DNS label).")
@click.option("--namespace", help="Namespace of the Jobs (default: kubectl's current one).")
@click.option("--write", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Write grade-job.yaml and collect-job.yaml into this folder instead of printing them.")
def k8s_job(submissions: str, results: str, shards: int, claim: str, image: str, jobs: int, device: str,
            exercises: tuple[str, ...], lang: str | None, name: str, namespace: str | None,
            folder: Path | None) -> None:
    """Write the Kubernetes manifests that grade SUBMISSIONS (a folder on a shared volume) in
    --shards pods: an Indexed Job whose pod K runs `grade batch --shard K+1/N --resume` (a retried
    pod resumes its shard), and a Job that runs `grade collect` afterwards. Nothing is applied.

    \b
    Example:
      grade k8s-job submissions --out results --shards 8 --write k8s/
      kubectl apply -f k8s/grade-job.yaml
      kubectl wait --for=condition=complete --timeout=2h job/grade-shards
      kubectl apply -f k8s/collect-job.yaml      report.html, grades.csv; names missing students
    """
    from .k8s import K8sOptions, collect_job, grading_job, to_yaml

    options = K8sOptions(shards=shards, image=image, claim=claim, submissions=submissions.strip("/"),
                         results=results.strip("/"), jobs=jobs, device=device, name=name, namespace=namespace,
                         exercises=exercises, lang=lang or "")
    try:
        manifests = {"grade-job.yaml": to_yaml(grading_job(options)), "collect-job.yaml": to_yaml(collect_job(options))}
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if folder is None:
        click.echo("---\n".join(manifests.values()), nl=False)
        return
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in manifests.items():
        (folder / file).write_text(text, encoding="utf-8")
    click.echo(f"Wrote {folder / 'grade-job.yaml'} and {folder / 'collect-job.yaml'}.")


@cli.command("export-nbgrader")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exercise", "exercises", multiple=True, metavar="NAME",
              help="Export only this exercise (repeatable). Default: every exercise with a solution.")
@click.option("--course-id", default="dl-course", show_default=True, help="nbgrader's course id.")
@click.pass_context
def export_nbgrader(ctx: click.Context, course_dir: Path, exercises: tuple[str, ...], course_id: str) -> None:
    """Write an nbgrader course to COURSE_DIR: source/<name>/<name>.ipynb (solution regions marked for
    nbgrader, a locked test cell that runs the public checks) and nbgrader_config.py. Then:
    nbgrader generate_assignment NAME; grade the collected submissions with grade batch
    COURSE_DIR/submitted --nbgrader-db COURSE_DIR/gradebook.db."""
    from .nbgrader_export import export_course

    files = export_course(_course(ctx), course_dir, exercises, course_id)
    for rel in files:
        click.echo(f"wrote: {course_dir / rel}")


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--exercise", "exercises", multiple=True, metavar="NAME",
              help="Release only this exercise (repeatable). Default: every exercise with a stub.")
@click.option("--zip", "zip_file", is_flag=True, help="Also write OUT.zip.")
@click.pass_context
def release(ctx: click.Context, out: Path, exercises: tuple[str, ...], zip_file: bool) -> None:
    """Write the student bundle to OUT: stubs, notebooks, public checks, the grader, and the
    bundle's own README, pyproject.toml and Makefile (make install, make check); never anything
    of solutions/ or reference/ (checked line by line). The stubs must be in sync with the solutions."""
    from .authoring import sync_stubs
    from .release import make_release

    course = _course(ctx)
    names = list(exercises) or list(course.exercises())
    stale = [p for p in sync_stubs(course, check=True) if p.split("/")[1:2] and p.split("/")[1] in names]
    if stale:
        raise GradeError("Stubs are out of date (run 'grade stubs'): " + ", ".join(stale))
    files = make_release(course, out, exercises, zip_file=zip_file)
    released = sorted({f.split("/")[1] for f in files if f.startswith("exercises/")})
    click.echo(f"Wrote {len(files)} files to {out}{' and ' + str(out) + '.zip' if zip_file else ''} "
               f"(exercises: {', '.join(released)}).")


@cli.command()
@click.option("--check", "check_only", is_flag=True, help="Only report stale stubs and notebooks; exit 1 if any.")
@click.pass_context
def stubs(ctx: click.Context, check_only: bool) -> None:
    """Generate exercises/<name>/ from solutions/<name>/ (solution regions become TODOs), and
    notebooks/<name>.ipynb from the stubs."""
    from .authoring import sync_stubs
    from .notebooks import sync_notebooks

    course = _course(ctx)
    stale = sync_stubs(course, check=check_only)
    stale += sync_notebooks(course, check=check_only)
    for path in stale:
        click.echo(("stale: " if check_only else "wrote: ") + path)
    if not stale:
        click.echo("stubs are up to date")
    ctx.exit(1 if (check_only and stale) else 0)


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="grade")
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
