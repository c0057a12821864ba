"""Instructors: build a Gradescope autograder (``autograder.zip``) that grades each submission with the same
sandboxed checks as ``grade``, inside Gradescope's container (``coursekit.grading.gradescope``).

Writes ``OUT/autograder.zip`` (``setup.sh``, ``run_autograder``, a wheel of this project, ``constraints.txt``, the
settings and the rubric) and ``OUT/metrics.json`` (what it holds).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, report, write_metrics

HELP = "Instructors: build a Gradescope autograder zip (setup.sh, run_autograder, this project's wheel)"


def add_arguments(p):
    add_common_arguments(p, out="outputs/autograder", seed=0, seed_help="seeds the kit's model and every check",
                         data_help="a folder-per-class image set to grade on, put in the zip (default: the kit's "
                                   "generated images, made by setup.sh)")
    p.add_argument("--assignment", choices=["fit3181", "technion-hw2", "ds5220", "recvis-a2"], default="fit3181",
                   help="whose checks (as for grade; default fit3181)")
    p.add_argument("--rubric", type=Path, default=None, help="a TOML rubric (as for grade); it may also set "
                   "visibility, at the top level or per check: visible, hidden, after_due_date, after_published")
    p.add_argument("--platform-timeout", type=float, default=600,
                   help="the autograder timeout set on Gradescope, in seconds (default 600, Gradescope's default; "
                        "at most 2400)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds the submission's own code may run (default: the platform's timeout less 180 s, "
                        "so that judging and writing the results fit under it)")
    p.add_argument("--check-timeout", type=float, default=120, help="seconds per check (default 120)")
    p.add_argument("--memory-gb", type=float, default=8,
                   help="address-space cap of the submission's process (default 8; the container's memory is set "
                        "on Gradescope)")
    p.add_argument("--visibility", choices=["visible", "hidden", "after_due_date", "after_published"],
                   default="visible", help="when students see the results (a rubric's top-level visibility wins)")
    p.add_argument("--require-isolation", action="store_true",
                   help="grade no submission where the container allows neither namespaces nor a user id of the "
                        "submission's own (results.json then says so)")
    p.add_argument("--template", type=Path, default=None,
                   help="the models.py you handed out: a notebook handed in without its own models.py is graded on "
                        "top of it (as for grade; default: the template's given classes)")
    p.add_argument("--wheel", type=Path, default=None,
                   help="a wheel of this project to put in the zip (default: built from this checkout)")


def run(args):
    from coursekit.grading.gradescope import JUDGE_MARGIN, Settings, build

    timeout = args.timeout if args.timeout is not None else args.platform_timeout - JUDGE_MARGIN - 60
    settings = Settings(assignment=args.assignment, timeout=timeout, check_timeout=min(args.check_timeout, timeout),
                        memory_gb=args.memory_gb, seed=args.seed, platform_timeout=args.platform_timeout,
                        require_isolation=args.require_isolation, visibility=args.visibility)
    out = out_dir(args.out)
    with data_errors():
        try:
            if args.template is not None and not args.template.is_file():
                raise FileNotFoundError(f"--template {args.template}: no such file (give the models.py you handed out)")
            target = build(out, settings, args.rubric, args.wheel, args.data, args.template)
        except RuntimeError as exc:
            raise SystemExit(f"error: {exc}") from exc
    import zipfile

    with zipfile.ZipFile(target) as z:
        members = [(i.filename, i.file_size) for i in z.infolist()]
    wheel = next(name for name, _ in members if name.endswith(".whl"))
    report("Autograder", [{"file": name, "bytes": size} for name, size in members if not name.startswith("images/")],
           out, "autograder_files")
    print(f"upload {target} to Gradescope (Configure Autograder; base image Ubuntu 22.04, autograder timeout "
          f"{args.platform_timeout:g} s; the submission may run {timeout:g} s)")
    write_metrics(out, {"zip": str(target), "zip_bytes": target.stat().st_size, "wheel": wheel,
                        "timeout": timeout, "platform_timeout": args.platform_timeout, "assignment": args.assignment})
    return 0
