"""The class at a glance: ``DIR/index.html`` (one self-contained file: score histogram, per-check table, grading
statuses, slowest submissions, links to every report) and the gradebook files Moodle and Canvas import.

``grade`` rewrites ``index.html`` after each submission, as it does ``grades.csv``, so a half-graded class can be
looked at. The plots are PNGs drawn by matplotlib and embedded in the page: it needs no network to be viewed.
"""
from __future__ import annotations

import base64
import collections
import csv
import html
import io
import re
import statistics
from pathlib import Path

from coursekit.atomic_files import write_text_atomic

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f2f2f2}.bad{color:#b00}.num{text-align:right}img{max-width:100%}"""


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _histogram(totals, possible):
    from matplotlib.figure import Figure  # no pyplot: the caller's backend and figures are left alone

    fig = Figure(figsize=(6, 2.8))
    ax = fig.subplots()
    ax.hist(totals, bins=min(20, max(5, len(totals))), range=(0, max(possible, 1)), color="#4477aa",
            edgecolor="white")
    ax.set_xlabel(f"total score (of {possible:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{len(totals)} submissions")
    return _png(fig)


def _failure(output):
    """The first WRONG part of a check's message (or the message), without its timing."""
    text = re.sub(r" \([0-9.]+ s\)$", "", output)
    wrong = [part.strip() for part in text.split(";") if part.strip().startswith("WRONG")]
    return (wrong[0] if wrong else text)[:160]


def check_table(rows, names):
    """Per check: points possible, pass rate, mean points and the most common failure message."""
    table = []
    for name in names:
        tests = [t for _, _, ts, _ in rows for t in ts if t["name"] == name]
        counted = [t for t in tests if t["max_score"] > 0]
        failures = collections.Counter(_failure(t["output"]) for t in counted if t["score"] < t["max_score"])
        common, times = failures.most_common(1)[0] if failures else ("", 0)
        table.append(dict(check=name, max_score=max((t["max_score"] for t in tests), default=0.0),
                          counted=len(counted), passed=sum(t["score"] >= t["max_score"] for t in counted),
                          mean=statistics.fmean([t["score"] for t in counted]) if counted else 0.0,
                          failure=common, failure_count=times))
    return table


def index_html(rows, names, title="Grades", similar=None):
    """The page for ``rows`` (``[(student, status, tests, seconds)]``); ``similar``: what the similarity pass found,
    ``(flagged pairs, the class's rule, shared regions)`` (``batch._similarity``), or ``None`` when it did not run."""
    e = html.escape
    totals = [sum(t["score"] for t in tests) for _, _, tests, _ in rows]
    possible = max((sum(t["max_score"] for t in tests) for _, _, tests, _ in rows), default=0.0)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{e(title)}</h1>"]
    if totals:
        parts.append(f"<p>{len(rows)} submissions; mean {statistics.fmean(totals):.2f}, median "
                     f"{statistics.median(totals):.2f}, best {max(totals):g} of {possible:g}.</p>")
        parts.append(f"<img alt='score histogram' src='{_histogram(totals, possible)}'>")
    parts.append("<h2>Checks</h2><table><tr><th>check</th><th>points</th><th>passed</th><th>mean points</th>"
                 "<th>most common failure</th></tr>")
    for r in check_table(rows, names):
        rate = f"{r['passed']} / {r['counted']}" if r["counted"] else "not counted"
        failure = f"{e(r['failure'])} ({r['failure_count']}x)" if r["failure"] else ""
        parts.append(f"<tr><td>{e(r['check'])}</td><td class='num'>{r['max_score']:g}</td><td class='num'>{rate}"
                     f"</td><td class='num'>{r['mean']:.2f}</td><td>{failure}</td></tr>")
    parts.append("</table><h2>Grading statuses</h2><table><tr><th>status</th><th>submissions</th></tr>")
    statuses = collections.Counter(status for _, status, _, _ in rows)
    for status, count in sorted(statuses.items()):
        who = ", ".join(e(name) for name, s, _, _ in rows if s == status) if status != "ok" else ""
        parts.append(f"<tr><td{' class=bad' if status != 'ok' else ''}>{e(status)}</td><td>{count}"
                     f"{': ' + who if who else ''}</td></tr>")
    parts.append("</table><h2>Slowest submissions</h2><table><tr><th>student</th><th>seconds</th></tr>")
    for name, _, _, seconds in sorted(rows, key=lambda r: -r[3])[:5]:
        parts.append(f"<tr><td>{e(name)}</td><td class='num'>{seconds:.1f}</td></tr>")
    parts.append("</table><h2>Every submission</h2><table><tr><th>student</th><th>total</th><th>status</th>"
                 "<th>lost points on</th></tr>")
    for (name, status, tests, _), total in sorted(zip(rows, totals), key=lambda r: r[0][0]):
        lost = ", ".join(t["name"] for t in tests if t["score"] < t["max_score"]) or "-"
        parts.append(f"<tr><td><a href='{e(name)}/report.md'>{e(name)}</a></td><td class='num'>{total:g}</td>"
                     f"<td>{e(status)}</td><td>{e(lost)}</td></tr>")
    parts.append("</table>")
    if similar is not None:
        parts.append(_similarity_section(*similar))
    parts.append("</body></html>\n")
    return "".join(parts)


def _similarity_section(flagged, rule, shared):
    """The flagged pairs: each with its score, the class's typical score and threshold, and the code they share."""
    e = html.escape
    parts = ["<h2>Similarity</h2>",
             f"<p>What each student wrote (<code>models.py</code> and the notebook's code cells), the course material "
             f"discounted. The class's typical pair scores {rule.typical:.2f}; a pair is flagged at or above "
             f"{rule.threshold:.2f} (README, \"Similarity\"). All pairs side by side in "
             "<a href='similarity.html'>similarity.html</a>, flagged ones in <a href='similarity.csv'>similarity.csv"
             "</a>.</p>"]
    if not flagged:
        parts.append("<p>No pair of submissions was flagged.</p>")
        return "".join(parts)
    parts.append("<table><tr><th>student</th><th>student</th><th>similarity</th><th>class typical</th>"
                 "<th>shared code (the longest regions)</th></tr>")
    for a, b, sim, *_ in flagged:
        regions = shared.get((a, b)) or shared.get((b, a)) or []
        code = "".join(f"<pre>{e(r)}</pre>" for r in regions) or "-"
        parts.append(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td class='num'>{sim:.2f}</td><td class='num'>"
                     f"{rule.typical:.2f}</td><td><details><summary>{len(regions)} region(s)</summary>{code}"
                     "</details></td></tr>")
    parts.append("</table>")
    return "".join(parts)


def write_index(out, rows, names, title="Grades", similar=None):
    return write_text_atomic(Path(out) / "index.html", index_html(rows, names, title, similar))


# ---------------------------------------------------------------------------------------------- gradebooks
def read_roster(path):
    """``{submission name: {"name", "email", "id"}}`` from a CSV with a ``submission`` column (the folder or zip
    name) and any of ``name``, ``email``, ``id``."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if "submission" not in (reader.fieldnames or []):
            raise ValueError(f"roster {path}: want a header with a 'submission' column (the folder or zip name) and "
                             f"name/email/id columns; got {reader.fieldnames}")
        return {row["submission"].strip(): {k: (row.get(k) or "").strip() for k in ("name", "email", "id")}
                for row in reader if row.get("submission", "").strip()}


def gradebook(kind, rows, roster=None, title="FIT3181 A1 Part 3"):
    """The CSV text ``kind`` (``moodle`` or ``canvas``) imports, and ``(unknown, missing)``: submissions not in the
    roster (kept, under their submission name) and roster students with no submission (listed, no row)."""
    roster = roster or {}
    unknown = sorted(name for name, _, _, _ in rows if roster and name not in roster)
    missing = sorted(set(roster) - {name for name, _, _, _ in rows})
    possible = max((sum(t["max_score"] for t in tests) for _, _, tests, _ in rows), default=0.0)
    buf = io.StringIO()
    writer = csv.writer(buf)
    if kind == "moodle":  # an identifier column and a grade column, mapped in Moodle's "Import grades: CSV"
        writer.writerow(["Email address" if roster else "Submission", "ID number", title])
        for name, _, tests, _ in rows:
            who = roster.get(name, {})
            writer.writerow([who.get("email") or name, who.get("id", ""), round(sum(t["score"] for t in tests), 3)])
    elif kind == "canvas":  # Canvas' gradebook layout: its header, then the points-possible row
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{title} ({possible:g})"])
        writer.writerow(["    Points Possible", "", "", "", "", f"{possible:g}"])
        for name, _, tests, _ in rows:
            who = roster.get(name, {})
            writer.writerow([who.get("name") or name, "", who.get("id", ""), who.get("email", ""), "",
                             round(sum(t["score"] for t in tests), 3)])
    else:
        raise ValueError(f"unknown gradebook {kind!r}: use moodle or canvas")
    return buf.getvalue(), unknown, missing
