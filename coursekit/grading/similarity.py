"""Similarity between a class's submissions: what each student wrote (``models.py`` and the notebook's code cells)
compared pair by pair with ``copydetect`` (winnowed fingerprints of the token stream, the MOSS method), with all the
course material the students start from given as boilerplate, so that it does not count: the template's
``models.py``, the handed-out notebook, the tutorials, the public examples the course points to.

A pair's similarity is the larger of the two fractions of a student's fingerprints found in the other's code. A pair
is flagged by ``flag_rule``: at or above ``FLOOR`` and an outlier of the class's own pair scores (above the median by
``OUTLIER_SPREADS`` robust spreads). Both numbers were measured, on the 2022 students' code (the issue's figures) and
on the test class of ``tests/grading/class_2022_style`` (README, "Similarity").
"""
from __future__ import annotations

import csv
import io
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coursekit.grading.fit3181.common import TEMPLATE_GIVEN
from coursekit.grading.notebook_code import code_cells

# copies (identical, renamed and reordered, one attack rewritten) score 0.81-1.00 against their original;
# independent students up to 0.52 once all the course material is boilerplate, and up to 0.69 with only the
# template's models.py as boilerplate (tests/grading/test_similarity.py); the 2022 students' code, measured with
# copydetect: independent 0.14-0.31 and 0.31-0.62, copies 0.90-1.00. 0.7 lies between
FLOOR = 0.7
# and above the class's typical pair by this many robust spreads (1.4826 x the median absolute deviation): a pair
# that shares code the instructor did not list as boilerplate with the whole class is not singled out
OUTLIER_SPREADS = 4.0
MATERIAL_SUFFIXES = (".py", ".ipynb", ".txt")


@dataclass(frozen=True)
class Rule:
    """The flag rule as applied to one class: its typical (median) pair score, its spread and the threshold."""
    typical: float
    spread: float
    threshold: float


def notebook_as_python(path):
    """A notebook's code cells as one Python text (shell and magic lines kept as they are: copydetect tokenises
    text, it never parses it)."""
    return "\n\n".join(code_cells(path))


def code_of(folder):
    """What a student handed in, as one text: ``models.py`` files and every notebook's code cells."""
    folder = Path(folder)
    parts = []
    for path in sorted(folder.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        if path.name == "models.py":
            parts.append(path.read_text(errors="replace"))
        elif path.suffix == ".ipynb":
            try:
                parts.append(notebook_as_python(path))
            except ValueError:
                continue  # not a notebook: nothing to compare
    return "\n\n".join(parts)


def material(paths):
    """The course material's code: ``[(name, text)]`` from files or folders of ``.py``, ``.ipynb`` (code cells) and
    ``.txt`` (the shipped template); the template's given classes when ``paths`` is empty."""
    found = []
    for path in map(Path, paths or [TEMPLATE_GIVEN]):
        files = sorted(p for p in path.rglob("*") if p.suffix in MATERIAL_SUFFIXES) if path.is_dir() else [path]
        for f in files:
            text = notebook_as_python(f) if f.suffix == ".ipynb" else f.read_text(errors="replace")
            found.append((f.name, text))
    return found


def flag_rule(pairs):
    """The class's ``Rule``: threshold = max(``FLOOR``, median + ``OUTLIER_SPREADS`` x 1.4826 x MAD)."""
    sims = [p[2] for p in pairs]
    if not sims:
        return Rule(0.0, 0.0, FLOOR)
    typical = statistics.median(sims)
    spread = 1.4826 * statistics.median(abs(s - typical) for s in sims)
    return Rule(typical, spread, max(FLOOR, typical + OUTLIER_SPREADS * spread))


def compare(students, boilerplate=(), out_html=None):
    """``students``: ``{name: code text}``; ``boilerplate``: ``[(name, code text)]`` of course material (default:
    the template's given classes). Returns ``(pairs, rule, shared)``: every pair as ``(a, b, similarity, a_in_b,
    b_in_a, shared_tokens)``, most similar first; the class's ``Rule``; and for each flagged pair ``(a, b)`` the
    longest code regions they share (a's text). Writes copydetect's side-by-side report of the flagged pairs to
    ``out_html``."""
    from copydetect import CopyDetector

    with tempfile.TemporaryDirectory(prefix="similarity_") as tmp:
        tmp = Path(tmp)
        dirs = []
        for i, (student, text) in enumerate(students.items()):
            folder = tmp / "students" / f"{i:05d}"
            folder.mkdir(parents=True)
            (folder / "code.py").write_text(text)
            dirs.append(str(folder))
        names = dict(zip(dirs, students))
        (tmp / "boilerplate").mkdir()
        for i, (name, text) in enumerate(boilerplate or material(())):
            (tmp / "boilerplate" / f"{i:03d}_{Path(name).stem}.py").write_text(text)
        if len(dirs) < 2:
            return [], flag_rule([]), {}
        detector = CopyDetector(test_dirs=dirs, ref_dirs=dirs, boilerplate_dirs=[str(tmp / "boilerplate")],
                                extensions=["py"], display_t=FLOOR, autoopen=False, silent=True,
                                out_file=str(out_html) if out_html else str(tmp / "report.html"))
        detector.run()
        files = detector.test_files
        who = [names[str(Path(f).parent)] for f in files]
        pairs = []
        for i in range(len(files)):
            for j in range(i + 1, len(files)):
                a_in_b, b_in_a = (float(v) for v in detector.similarity_matrix[i, j])
                shared_tokens = int(detector.token_overlap_matrix[i, j])
                pairs.append((who[i], who[j], max(a_in_b, b_in_a), a_in_b, b_in_a, shared_tokens))
        pairs.sort(key=lambda p: -p[2])
        rule = flag_rule(pairs)
        flagged = {(a, b) for a, b, sim, *_ in pairs if sim >= rule.threshold}
        shared = {}
        for i in range(len(files)):
            for j in range(i + 1, len(files)):
                if (who[i], who[j]) in flagged:
                    shared[(who[i], who[j])] = _regions(detector, files[i], files[j])
        if out_html and flagged:
            detector.conf.display_t = rule.threshold - 1e-9
            detector.generate_html_report()
    return pairs, rule, shared


def _regions(detector, a, b, most=3, lines=12):
    """The longest code regions of ``a`` that ``b`` shares (copydetect's slices: character spans of a's text)."""
    key, side = ((a, b), 0) if (a, b) in detector.slice_matrix else ((b, a), 1)
    if key not in detector.slice_matrix:
        return []
    spans = detector.slice_matrix[key][side]
    if getattr(spans, "size", 0) == 0 or spans.ndim != 2:
        return []
    text = detector.file_data[a].raw_code
    regions = sorted(((int(s), int(e)) for s, e in zip(spans[0], spans[1])), key=lambda se: se[0] - se[1])[:most]
    return ["\n".join(text[s:e].splitlines()[:lines]) for s, e in sorted(regions)]


def similarity_csv(pairs, rule):
    """The flagged pairs, one row each, with the class's typical score and the threshold applied."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student_a", "student_b", "similarity", "a_in_b", "b_in_a", "shared_tokens", "class_typical",
                     "threshold"])
    for a, b, sim, ab, ba, shared in pairs:
        if sim >= rule.threshold:
            writer.writerow([a, b, round(sim, 3), round(ab, 3), round(ba, 3), shared, round(rule.typical, 3),
                             round(rule.threshold, 3)])
    return buf.getvalue()
