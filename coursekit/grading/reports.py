"""A submission's Gradescope ``results.json`` and readable ``report.md``; the class's ``grades.csv``."""
from __future__ import annotations

import csv
import io
import json
import platform

from coursekit.atomic_files import write_text_atomic


def scored_tests(outcome, rubric, check_names):
    """Gradescope ``tests`` rows: every check in the rubric, scored from its fraction (0 where it did not run)."""
    rows = []
    for name in check_names:
        settings = rubric[name]
        record = outcome.checks.get(name)
        max_score = float(settings.get("max_score", 0))
        if record is None:
            why = outcome.message or "not run"
            if "required" in settings and not settings["required"]:
                max_score = 0.0  # an optional file's check: counted only when it ran on a file handed in
            rows.append(dict(name=name, score=0.0, max_score=max_score, status="failed",
                             output=f"not run ({outcome.status}): {why}",
                             visibility=settings.get("visibility", "visible")))
            continue
        if record.get("not_applicable") and not settings.get("required", False):
            max_score = 0.0  # optional and not handed in: not counted
        score = round(max_score * max(0.0, min(1.0, float(record.get("fraction", 0.0)))), 3)
        rows.append(dict(name=name, score=score, max_score=max_score,
                         status="passed" if score >= max_score else "failed",
                         output=f"{record.get('message', '')} ({record.get('seconds', 0)} s)"
                                + (f" [code: {record['code']}]" if record.get("code") else ""),
                         visibility=settings.get("visibility", "visible")))
    return rows


def results_json(outcome, tests, seed, versions):
    """Gradescope's results format: total, per-test rows, time, and what graded it in ``extra_data``."""
    return {"score": round(sum(t["score"] for t in tests), 3), "execution_time": outcome.seconds,
            "output": f"grading_status: {outcome.status}" + (f" ({outcome.message})" if outcome.message else ""),
            "tests": tests, "extra_data": {"grading_status": outcome.status, "seed": seed, "versions": versions,
                                           "isolation": outcome.isolation, "code": outcome.code,
                                           "peak_memory_mb": outcome.peak_mb}}


def report_md(outcome, tests):
    total, possible = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    lines = [f"# {outcome.name}: {total:g} / {possible:g}", "",
             f"Grading status: **{outcome.status}**" + (f" ({outcome.message})" if outcome.message else ""),
             f"Time: {outcome.seconds} s; the submission's process peaked at {outcome.peak_mb} MB",
             f"Isolation: {outcome.isolation or 'none recorded'}",
             *([f"Code graded: {outcome.code}"] if outcome.code else []), "", "| check | score | what was checked |", "| --- | --- | --- |"]
    lines += [f"| {t['name']} | {t['score']:g} / {t['max_score']:g} | {t['output'].replace('|', '/')} |"
              for t in tests]
    if outcome.output_tail.strip():
        lines += ["", "## The submission's last output", "", "```", outcome.output_tail.strip()[-2000:], "```"]
    return "\n".join(lines) + "\n"


def grades_csv(rows, check_names):
    """One line per student: total, grading status, then each check's score."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", "total", "max", "grading_status", *check_names])
    for name, status, tests in rows:
        scores = {t["name"]: t["score"] for t in tests}
        writer.writerow([name, round(sum(scores.values()), 3), round(sum(t["max_score"] for t in tests), 3), status,
                         *(scores.get(c, 0.0) for c in check_names)])
    return buf.getvalue()


def versions():
    """The stack that graded, read from the installed distributions: importing TensorFlow for its version would cost
    the grader some 600 MB (too much beside a submission on a 768 MB Gradescope container)."""
    from importlib.metadata import PackageNotFoundError, version

    def first(*names):
        for name in names:
            try:
                return version(name)
            except PackageNotFoundError:
                continue
        return "not installed"

    return {"python": platform.python_version(), "tensorflow": first("tensorflow", "tensorflow-cpu"),
            "keras": first("keras"), "numpy": first("numpy")}


def write_reports(out_dir, outcome, tests, seed, vers):
    folder = out_dir / outcome.name
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "results.json", json.dumps(results_json(outcome, tests, seed, vers), indent=2) + "\n")
    write_text_atomic(folder / "report.md", report_md(outcome, tests))
    return folder
