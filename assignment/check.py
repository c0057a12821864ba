"""Students: run the grader's checks on your own ``models.py`` (or the other assignments' ``.py`` files) before
handing it in. The same messages and points as ``grade`` gives, computed in this process in about a minute.

Prints a table (check, pass/FAIL, points, message) and writes ``OUT/metrics.json`` with each check's points.
"""
from __future__ import annotations

from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, write_metrics

HELP = "Students: run the grader's checks on your own models.py before handing it in (same messages, same points)"


def add_arguments(p):
    p.add_argument("module", nargs="?", type=Path, default=Path("models.py"),
                   help="your models.py (default: ./models.py), or the .py file with the other assignments' functions")
    p.add_argument("--check", dest="checks", action="append", default=[], metavar="NAME",
                   help="run only this check (repeatable), e.g. --check attack_pgd")
    p.add_argument("--assignment", choices=["fit3181", "technion-hw2", "ds5220", "recvis-a2"], default="fit3181",
                   help="whose checks (default fit3181)")
    p.add_argument("--rubric", type=Path, default=None, help="a TOML rubric overriding the shipped weights")
    add_common_arguments(p, out="outputs/check", seed=0, seed_help="seeds the kit's images, model and checks")


def run(args):
    from coursekit.grading.selfcheck import check

    with data_errors():
        rows = check(args.module, *args.checks, assignment=args.assignment, seed=args.seed, rubric=args.rubric)
    write_metrics(out_dir(args.out), {"module": str(args.module), "assignment": args.assignment,
                                      "checks": {r["check"]: {"result": r["result"], "score": r["score"],
                                                              "max_score": r["max_score"], "message": r["message"]}
                                                 for r in rows}})
    return 0 if all(r["result"] != "FAIL" for r in rows) else 1
