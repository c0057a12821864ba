"""Instructors: grade a class's FIT3181 Part 3 submissions (``models.py``, optionally ``saved_models/*.h5`` and the
notebook) with named, scored checks, each submission in its own sandboxed subprocess.

Writes ``OUT/<student>/results.json`` (Gradescope's format) and ``report.md`` per submission, ``OUT/grades.csv``
for the class and ``OUT/metrics.json`` (the class summary it printed).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, report, write_metrics

HELP = "Instructors: grade FIT3181 Part 3 submissions (sandboxed checks, Gradescope results.json, grades.csv)"


def add_arguments(p):
    p.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                   help="a folder holding models.py (and saved_models/, the notebook), a .zip of one, or a folder "
                        "of such submissions")
    add_common_arguments(p, out="outputs/grade", seed=0,
                         seed_help="seeds the kit's model and every check",
                         data_help="a folder-per-class image set to grade on (default: the kit's generated images, "
                                   "one corrupt file included)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per submission (default 600)")
    p.add_argument("--check-timeout", type=float, default=120, help="seconds per check (default 120)")
    p.add_argument("--memory-gb", type=float, default=8, help="address-space cap per submission (default 8)")
    p.add_argument("--rubric", type=Path, default=None,
                   help="a TOML rubric overriding the shipped weights (coursekit/grading/rubric_fit3181.toml)")
    p.add_argument("--gradebook", action="append", choices=["moodle", "canvas"], default=[],
                   help="also write OUT/gradebook_<kind>.csv for Moodle's or Canvas' grade import (repeatable)")
    p.add_argument("--roster", type=Path, default=None,
                   help="CSV with a 'submission' column (folder or zip name) and name/email/id columns, for the "
                        "gradebooks; unknown and missing students are listed")
    p.add_argument("--similarity", action=argparse.BooleanOptionalAction, default=None,
                   help="compare every pair of models.py files (copydetect, the template discounted) into "
                        "OUT/similarity.csv and .html (default: on for 3 or more submissions)")
    p.add_argument("--boilerplate", type=Path, action="append", default=[],
                   help="course material whose code --similarity discounts: the handed-out notebook, models.py, "
                        "tutorials, public examples the course points to; a .py or .ipynb file or a folder of them "
                        "(repeatable; default: the template's given classes, "
                        "coursekit/grading/template_given_fit3181.txt)")
    p.add_argument("--template", type=Path, default=None,
                   help="the models.py you handed out: a notebook handed in without its own models.py is graded on "
                        "top of it, as the notebook imports it (default: the template's given classes)")
    p.add_argument("--jobs", type=int, default=1,
                   help="submissions graded at once, each in its own isolated process with its own limits "
                        "(default 1; about 1 GB of memory each)")
    p.add_argument("--require-isolation", action="store_true",
                   help="refuse to grade unless each submission can run in its own namespaces or, as root in a "
                        "container, under a user id of its own with no network (seccomp); without it 'process group "
                        "only' may be used, named in the reports")
    p.add_argument("--assignment", choices=["fit3181", "technion-hw2", "ds5220", "recvis-a2"], default="fit3181",
                   help="whose checks: FIT3181 Part 3 (models.py; default), or the hand-written functions of "
                        "Technion HW2 (xavier_init, kaiming_init), DS 5220 (train_one_epoch, test_one_epoch) or "
                        "RecVis A2 (gradient_nn, train_loop) in the submission's .py files")


def run(args):
    from coursekit.grading.batch import grade_batch

    from coursekit.grading.config import GradeConfig

    out = out_dir(args.out)
    with data_errors():
        try:
            config = GradeConfig(out, args.data, args.rubric, args.timeout, args.check_timeout, args.memory_gb,
                                 args.seed, args.assignment, args.require_isolation, args.jobs, args.gradebook,
                                 args.roster, args.similarity, args.boilerplate, args.template)
            rows = grade_batch(args.submissions, config)
        except (RuntimeError, ValueError) as exc:
            raise SystemExit(f"error: {exc}") from exc
    table = [{"student": name, "total": round(sum(t["score"] for t in tests), 2),
              "of": round(sum(t["max_score"] for t in tests), 2), "grading_status": status,
              "lost points on": ", ".join(t["name"] for t in tests if t["score"] < t["max_score"]) or "-"}
             for name, status, tests in rows]
    report("Grades", table, out, "grades_summary")
    print(f"reports: {out}/<student>/results.json and report.md; class: {out / 'grades.csv'}, "
          f"{out / 'index.html'}")
    write_metrics(out, {"submissions": len(rows), "grades": {r["student"]: r["total"] for r in table},
                        "statuses": {r["student"]: r["grading_status"] for r in table}})
    return 0
