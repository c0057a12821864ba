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


def grade_batch(submissions, out, data_dir=None, rubric_path=None, timeout=600.0, check_timeout=120.0,
                memory_gb=8.0, seed=0, assignment="fit3181"):
    """Grade each submission; write ``out/<name>/results.json`` and ``report.md`` and ``out/grades.csv``.

    Returns ``[(name, grading_status, tests)]``."""
    out = Path(out)
    rubric = load_rubric(rubric_path, assignment)
    checks = fit3181.CHECKS if assignment == "fit3181" else others.CHECKS[assignment]
    names = [name for name, _ in checks]
    marker = "models.py" if assignment == "fit3181" else "*.py"
    submissions = expand(submissions, marker)
    if data_dir is None:
        data_dir = out / "_grader_images"  # only FIT3181's checks read images
        if assignment == "fit3181" and not data_dir.exists():
            make_grader_images(data_dir, seed=seed)
    vers = versions()
    rows = []
    for submission in progress(submissions, desc="grading", unit="submission"):
        outcome = grade_one(submission, Path(data_dir).resolve(), rubric, timeout, check_timeout, memory_gb, seed,
                            assignment)
        tests = scored_tests(outcome, rubric, names)
        write_reports(out, outcome, tests, seed, vers)
        rows.append((outcome.name, outcome.status, tests))
        write_text_atomic(out / "grades.csv", grades_csv(rows, names))  # kept current: a stop loses nothing
    return rows
