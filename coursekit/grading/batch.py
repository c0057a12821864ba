"""Grade a class: every submission in its own sandbox, one after another, with a progress bar; reports per
submission and ``grades.csv`` for the class."""
from __future__ import annotations

from pathlib import Path

from coursekit.atomic_files import write_text_atomic
from coursekit.grading import fit3181, others
from coursekit.grading.data import make_grader_images
from coursekit.grading.reports import grades_csv, scored_tests, versions, write_reports
from coursekit.grading.rubric import load_rubric
from coursekit.grading.sandbox import grade_one
from coursekit.progress import progress


def expand(paths, marker="models.py"):
    """Submissions from the arguments: a ``.zip``, a folder with ``marker`` (e.g. ``models.py``), or a folder of
    those (one each)."""
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"submission not found: {path}")
        if path.suffix.lower() == ".zip" or any(path.glob(marker)):
            found.append(path)
        elif path.is_dir():
            children = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip" or p.is_dir())
            if not children:
                raise ValueError(f"{path} holds no {marker}, no .zip and no submission folders")
            found += children
        else:
            raise ValueError(f"{path}: a submission is a folder holding {marker} or a .zip of one")
    names = [p.stem if p.suffix.lower() == ".zip" else p.name for p in found]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ValueError(f"two submissions share the name(s) {clash}: their reports would overwrite each other")
    return found


def _hidden_paths(submissions, out, rubric_path, data_dir):
    """What a submission's process must not see: every submission as handed in and the folders holding them, the
    ``--out`` folder, the rubric and the grader's images (the process gets its own copies of what it needs). A
    folder that holds this project or Python itself cannot be covered; the submissions inside it still are."""
    import sys
    import tempfile

    needed = [Path(__file__).resolve().parents[2], Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
              Path(tempfile.gettempdir()).resolve()]
    wanted = {Path(p).resolve() for p in submissions} | {Path(p).resolve().parent for p in submissions}
    wanted |= {Path(out).resolve(), Path(data_dir).resolve()} | ({Path(rubric_path).resolve()} if rubric_path else set())
    return tuple(sorted(str(p) for p in wanted if not any(p == n or p in n.parents for n in needed)))


def _warn_readable(hide):
    """At ``separate user, no network (seccomp)`` only permissions keep the grader's files from a submission: name
    those that any user can read."""
    import stat

    open_to_all = [p for p in hide if Path(p).exists() and Path(p).stat().st_mode & stat.S_IROTH]
    if open_to_all:
        print("warning: without namespaces or Landlock a submission's process can read what any user can read, "
              f"including {', '.join(open_to_all)}: make them private (chmod o-rwx) to keep them from it")


def _similarity(submissions, out, boilerplate):
    """Compare every pair of handed-in ``models.py`` files; write ``similarity.csv`` (and the side-by-side
    ``similarity.html``); returns the pairs at or above the threshold."""
    import tempfile

    from coursekit.grading.sandbox import unpack
    from coursekit.grading.similarity import THRESHOLD, compare, similarity_csv

    with tempfile.TemporaryDirectory(prefix="similarity_") as tmp:
        files = {}
        for submission in submissions:
            name = submission.stem if submission.suffix.lower() == ".zip" else submission.name
            try:
                found = unpack(submission, Path(tmp) / name) / "models.py"
            except (OSError, ValueError):
                continue
            if found.is_file():
                files[name] = found
        pairs = compare(files, boilerplate, out / "similarity.html")
    write_text_atomic(out / "similarity.csv", similarity_csv(pairs))
    similar = [p for p in pairs if p[2] >= THRESHOLD]
    print(f"similarity: {len(similar)} pair(s) at or above {THRESHOLD} of {len(pairs)} compared "
          f"({out / 'similarity.csv'})")
    return similar


def grade_batch(submissions, out, data_dir=None, rubric_path=None, timeout=600.0, check_timeout=120.0,
                memory_gb=8.0, seed=0, assignment="fit3181", require_isolation=False, gradebooks=(), roster=None,
                similarity=None, boilerplate=None):
    """Grade each submission; write ``out/<name>/results.json`` and ``report.md``, and for the class
    ``out/grades.csv``, ``out/index.html`` (``classview``) and the ``gradebooks`` asked for (``moodle``, ``canvas``;
    ``roster``: a CSV mapping submission names to students). ``similarity`` (default: on for 3 or more FIT3181
    submissions) compares every pair of ``models.py`` files (``similarity``; ``boilerplate``: the template handed
    out, discounted) into ``out/similarity.csv`` and ``out/similarity.html``.

    Each submission's code runs isolated (``isolation``: the level in force is in every report; with
    ``require_isolation`` a machine without namespaces is refused) and is judged here. Returns
    ``[(name, grading_status, tests)]``."""
    from types import SimpleNamespace

    from coursekit.grading.isolation import GROUP_ONLY, USER_SECCOMP, Limits, available_level
    from coursekit.grading.sandbox import Run

    out = Path(out)
    rubric = load_rubric(rubric_path, assignment)
    checks = fit3181.CHECKS if assignment == "fit3181" else others.CHECKS[assignment]
    names = [name for name, _ in checks]
    marker = "models.py" if assignment == "fit3181" else "*.py"
    submissions = expand(submissions, marker)
    level = available_level()
    if require_isolation and level == GROUP_ONLY:
        raise RuntimeError("--require-isolation: a submission's process can be given neither namespaces nor a user "
                           f"id of its own here (isolation would be '{level}'); grade on Linux as root (a container "
                           "will do) or with unshare, or drop the flag")
    print(f"isolation of each submission: {level}")
    if data_dir is None:
        data_dir = out / "_grader_images"  # only FIT3181's checks read images
        if assignment == "fit3181" and not data_dir.exists():
            make_grader_images(data_dir, seed=seed)
    if assignment == "fit3181":
        kit = fit3181.Kit.build(Path(data_dir).resolve(), seed)  # the grader's model and attacks, once a batch
    else:
        kit = SimpleNamespace(seed=seed, assignment=assignment, rubric={}, submission=None)
    hide = _hidden_paths(submissions, out, rubric_path, data_dir)
    if level == USER_SECCOMP:
        _warn_readable(hide)
    import os

    cpu = int(timeout * (os.cpu_count() or 1)) + 60  # every core busy for the whole time limit, and a minute
    run = Run(timeout, check_timeout, Limits(memory_gb=memory_gb, cpu_seconds=cpu), level, hide)
    from coursekit.grading.classview import gradebook, read_roster, write_index

    students = read_roster(roster) if roster else None
    vers = versions()
    rows, timed = [], []
    title = {"fit3181": "FIT3181 A1 Part 3"}.get(assignment, assignment)
    for submission in progress(submissions, desc="grading", unit="submission"):
        outcome = grade_one(submission, kit, rubric, checks, run, assignment)
        tests = scored_tests(outcome, rubric, names)
        write_reports(out, outcome, tests, seed, vers)
        rows.append((outcome.name, outcome.status, tests))
        timed.append((outcome.name, outcome.status, tests, outcome.seconds))
        write_text_atomic(out / "grades.csv", grades_csv(rows, names))  # kept current: a stop loses nothing
        write_index(out, timed, names, f"{title}: grades")
    if similarity is None:
        similarity = assignment == "fit3181" and len(submissions) >= 3
    if similarity:
        similar = _similarity(submissions, out, boilerplate)
        write_index(out, timed, names, f"{title}: grades", similar)
    for kind in gradebooks:
        text, unknown, missing = gradebook(kind, timed, students, title)
        write_text_atomic(out / f"gradebook_{kind}.csv", text)
        if unknown or missing:
            print(f"gradebook_{kind}.csv: not in the roster (kept under their submission name): "
                  f"{', '.join(unknown) or 'none'}; in the roster with no submission (no row): "
                  f"{', '.join(missing) or 'none'}")
    return rows
