"""Grade a class: every submission in its own sandbox, one after another, with a progress bar; reports per
submission and ``grades.csv`` for the class."""
from __future__ import annotations

from pathlib import Path

from coursekit.atomic_files import write_text_atomic
from coursekit.grading import fit3181, others
from coursekit.grading.data import make_grader_images
from coursekit.grading.reports import grades_csv, scored_tests, versions, write_reports
from coursekit.grading.rubric import load_rubric
from coursekit.grading.sandbox import as_patterns, grade_one, submission_name
from coursekit.progress import progress


def expand(paths, marker="models.py"):
    """Submissions from the arguments: a ``.zip``, a folder with ``marker`` (a pattern, e.g. ``models.py``, or a
    tuple of them: ``models.py`` or a notebook), or a folder of those (one each)."""
    patterns = as_patterns(marker)
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"submission not found: {path}")
        if path.suffix.lower() == ".zip" or any(p for m in patterns for p in path.glob(m)):
            found.append(path)
        elif path.is_dir():
            children = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip" or p.is_dir())
            if not children:
                raise ValueError(f"{path} holds no {' or '.join(patterns)}, no .zip and no submission folders")
            found += children
        else:
            raise ValueError(f"{path}: a submission is a folder holding {' or '.join(patterns)} or a .zip of one")
    names = [submission_name(p) for p in found]
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
    """Compare what every pair of students wrote (``models.py`` and notebook code cells), the course material in
    ``boilerplate`` discounted; write ``similarity.csv`` and the side-by-side ``similarity.html``. Returns
    ``(flagged pairs, the class's rule, the shared regions of each flagged pair)``."""
    import tempfile

    from coursekit.grading.sandbox import unpack
    from coursekit.grading.similarity import code_of, compare, material, similarity_csv

    with tempfile.TemporaryDirectory(prefix="similarity_") as tmp:
        students = {}
        for submission in submissions:
            name = submission_name(submission)
            try:
                folder = unpack(submission, Path(tmp) / name, ())
            except (OSError, ValueError):
                continue
            text = code_of(folder)
            if text.strip():
                students[name] = text
        pairs, rule, shared = compare(students, material(boilerplate), out / "similarity.html")
    write_text_atomic(out / "similarity.csv", similarity_csv(pairs, rule))
    flagged = [p for p in pairs if p[2] >= rule.threshold]
    print(f"similarity: {len(flagged)} pair(s) flagged of {len(pairs)} compared (the class's typical pair "
          f"{rule.typical:.2f}; flagged at or above {rule.threshold:.2f}) ({out / 'similarity.csv'})")
    return flagged, rule, shared


def _eta(done, total, elapsed):
    if not done:
        return "estimating the time left"
    left = elapsed / done * (total - done)
    return f"about {int(left // 60)} min {int(left % 60)} s left" if left >= 60 else f"about {left:.0f} s left"


class _Board:
    """The class's files, rewritten whole after each submission (``grades.csv``, ``index.html``), by one thread at
    a time: several submissions may finish at once with ``jobs`` > 1, and a stop loses nothing already graded.
    Rows stay in the submissions' order whatever order they finish in."""

    def __init__(self, out, names, title, order):
        import threading

        self.out, self.names, self.title, self.order = out, names, title, {n: i for i, n in enumerate(order)}
        self.rows, self.lock = {}, threading.Lock()

    def add(self, outcome, tests):
        from coursekit.grading.classview import write_index

        with self.lock:
            self.rows[outcome.name] = (outcome.name, outcome.status, tests, outcome.seconds)
            timed = self.timed()
            write_text_atomic(self.out / "grades.csv", grades_csv([r[:3] for r in timed], self.names))
            write_index(self.out, timed, self.names, self.title)

    def timed(self):
        return sorted(self.rows.values(), key=lambda r: self.order.get(r[0], len(self.order)))


def grade_batch(submissions, config):
    """Grade each submission by ``config`` (a ``GradeConfig``); write ``out/<name>/results.json`` and ``report.md``,
    and for the class ``out/grades.csv``, ``out/index.html`` (``classview``) and the gradebooks asked for. The
    similarity pass (``similarity``) compares what each student wrote (``models.py`` and the notebook's code
    cells), the course material given as boilerplate discounted, into ``out/similarity.csv`` and ``.html``.

    Each submission's code runs isolated (``isolation``: the level in force is in every report; with
    ``require_isolation`` a machine without namespaces is refused) and is judged here; ``jobs`` of them at once,
    each with its own limits. Returns ``[(name, grading_status, tests)]`` in the submissions' order."""
    import os
    import tempfile
    import time
    from concurrent.futures import ThreadPoolExecutor, as_completed
    from types import SimpleNamespace

    from coursekit.grading.isolation import GROUP_ONLY, USER_SECCOMP, Limits, available_level
    from coursekit.grading.sandbox import Run, markers, share_read_only

    c = config
    out = Path(c.out)
    rubric = load_rubric(c.rubric, c.assignment)
    checks = fit3181.CHECKS if c.assignment == "fit3181" else others.CHECKS[c.assignment]
    names = [name for name, _ in checks]
    submissions = expand(submissions, markers(c.assignment))
    level = available_level()
    if c.require_isolation and level == GROUP_ONLY:
        raise RuntimeError("--require-isolation: a submission's process can be given neither namespaces nor a user "
                           f"id of its own here (isolation would be '{level}'); grade on Linux as root (a container "
                           "will do) or with unshare, or drop the flag")
    print(f"isolation of each submission: {level}; {c.jobs} at once")
    data_dir = c.data_dir
    if data_dir is None:
        data_dir = out / "_grader_images"  # only FIT3181's checks read images
        if c.assignment == "fit3181" and not data_dir.exists():
            make_grader_images(data_dir, seed=c.seed)
    if c.assignment == "fit3181":  # the grader's model and attacks, once a batch
        kit = fit3181.Kit.build(Path(data_dir).resolve(), c.seed, c.template)
    else:
        kit = SimpleNamespace(seed=c.seed, assignment=c.assignment, rubric={}, submission=None)
    hide = _hidden_paths(submissions, out, c.rubric, data_dir)
    if level == USER_SECCOMP:
        _warn_readable(hide)
    cpu = int(c.timeout * (os.cpu_count() or 1)) + 60  # every core busy for the whole time limit, and a minute
    from coursekit.grading.classview import gradebook, read_roster, write_index

    students = read_roster(c.roster) if c.roster else None
    vers = versions()
    title = {"fit3181": "FIT3181 A1 Part 3"}.get(c.assignment, c.assignment)
    board = _Board(out, names, f"{title}: grades", [submission_name(s) for s in submissions])
    with tempfile.TemporaryDirectory(prefix="grading_kit_") as shared:
        if c.assignment == "fit3181":  # the kit's inputs, once a batch, read-only to every submission
            kit.write_shared(Path(shared) / "inputs")
            share_read_only(shared)
        run = Run(c.timeout, c.check_timeout, Limits(memory_gb=c.memory_gb, cpu_seconds=cpu), level, hide,
                  shared=Path(shared) / "inputs" if c.assignment == "fit3181" else None)

        def one(submission):
            outcome = grade_one(submission, kit, rubric, checks, run, c.assignment)
            tests = scored_tests(outcome, rubric, names)
            write_reports(out, outcome, tests, c.seed, vers)
            board.add(outcome, tests)
            return outcome, tests

        started = time.monotonic()
        bar = progress(None, total=len(submissions), desc="grading", unit="submission")
        with ThreadPoolExecutor(max_workers=c.jobs, thread_name_prefix="grade") as pool:
            futures = {pool.submit(one, s): s for s in submissions}
            for done, future in enumerate(as_completed(futures), start=1):
                outcome, tests = future.result()
                bar.update(1)
                if bar.disable:  # a log, not a terminal: one line per submission, with the estimate
                    total = sum(t["score"] for t in tests)
                    print(f"graded {done}/{len(submissions)}: {outcome.name} ({outcome.status}, {total:g} points, "
                          f"{outcome.seconds:.0f} s, {outcome.peak_mb} MB); "
                          f"{_eta(done, len(submissions), time.monotonic() - started)}",
                          flush=True)
        bar.close()
    timed = board.timed()
    rows = [r[:3] for r in timed]
    similarity = c.similarity
    if similarity is None:
        similarity = c.assignment == "fit3181" and len(submissions) >= 3
    if similarity:
        write_index(out, timed, names, f"{title}: grades", _similarity(submissions, out, c.boilerplate))
    for kind in c.gradebooks:
        text, unknown, missing = gradebook(kind, timed, students, title)
        write_text_atomic(out / f"gradebook_{kind}.csv", text)
        if unknown or missing:
            print(f"gradebook_{kind}.csv: not in the roster (kept under their submission name): "
                  f"{', '.join(unknown) or 'none'}; in the roster with no submission (no row): "
                  f"{', '.join(missing) or 'none'}")
    return rows
