"""Similarity between a class's submissions: every pair of ``models.py`` files compared with ``copydetect``
(winnowed fingerprints of the token stream, the MOSS method), the template's code given as boilerplate so that the
skeleton every student starts from does not count.

A pair's similarity is the larger of the two fractions of a file's fingerprints found in the other. Pairs at or
above ``threshold`` go to ``DIR/similarity.csv`` and ``DIR/similarity.html`` (copydetect's side-by-side view, the
shared code highlighted); ``index.html`` lists them. ``THRESHOLD`` was measured, not guessed (README, "Similarity").
"""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

# measured on the kit's planted pairs (tests/grading/test_similarity.py): copies of the 2022 students' code
# (identical, renamed and reordered, its MIM rewritten) score 0.91-1.00 against it and each other; independent
# solutions (the template-style one, this project's models.py, the 2022 students' code) and a planted fault
# score at most 0.045 against each other
THRESHOLD = 0.4
TEMPLATE_GIVEN = Path(__file__).with_name("template_given_fit3181.txt")


def compare(files, boilerplate=None, out_html=None, threshold=THRESHOLD):
    """``files``: ``{student: path of their models.py}``. Returns every pair as ``(a, b, similarity, a_in_b,
    b_in_a, shared_tokens)``, most similar first; writes copydetect's side-by-side report to ``out_html`` when a
    pair reaches ``threshold``."""
    from copydetect import CopyDetector

    boilerplate = Path(boilerplate) if boilerplate is not None else TEMPLATE_GIVEN
    with tempfile.TemporaryDirectory(prefix="similarity_") as tmp:
        tmp = Path(tmp)
        dirs = []
        for student, path in files.items():
            folder = tmp / "students" / student
            folder.mkdir(parents=True)
            shutil.copyfile(path, folder / "models.py")
            dirs.append(str(folder))
        (tmp / "boilerplate").mkdir()
        shutil.copyfile(boilerplate, tmp / "boilerplate" / "models.py")
        if len(dirs) < 2:
            return []
        detector = CopyDetector(test_dirs=dirs, ref_dirs=dirs, boilerplate_dirs=[str(tmp / "boilerplate")],
                                extensions=["py"], display_t=threshold, autoopen=False, silent=True,
                                out_file=str(out_html) if out_html else str(tmp / "report.html"))
        detector.run()
        names = [Path(f).parent.name for f in detector.test_files]
        pairs = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                a_in_b, b_in_a = (float(v) for v in detector.similarity_matrix[i, j])
                shared = int(detector.token_overlap_matrix[i, j])
                pairs.append((names[i], names[j], max(a_in_b, b_in_a), a_in_b, b_in_a, shared))
        pairs.sort(key=lambda p: -p[2])
        if out_html and pairs and pairs[0][2] >= threshold:
            detector.generate_html_report()
    return pairs


def similarity_csv(pairs, threshold=THRESHOLD):
    """The pairs at or above ``threshold``, one row each."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student_a", "student_b", "similarity", "a_in_b", "b_in_a", "shared_tokens"])
    for a, b, sim, ab, ba, shared in pairs:
        if sim >= threshold:
            writer.writerow([a, b, round(sim, 3), round(ab, 3), round(ba, 3), shared])
    return buf.getvalue()
