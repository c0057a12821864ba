"""The class view: index.html (parsed, and rendered in headless Chromium where it is installed) and the
gradebook files for Moodle and Canvas."""
import csv
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from coursekit.grading.classview import check_table, gradebook, index_html, read_roster, write_index
from coursekit.grading.similarity import Rule


def _tests(scores):
    return [dict(name=n, score=float(s), max_score=float(m), status="passed" if s >= m else "failed",
                 output=("ok: all" if s >= m else f"ok: shape; WRONG: max |x_adv - x| = 0.06 (want <= eps)") + " (0.2 s)",
                 visibility="visible") for n, s, m in scores]


ROWS = [("ann", "ok", _tests([("import", 5, 5), ("attack_pgd", 5, 5), ("notebook", 0, 0)]), 12.5),
        ("bob", "ok", _tests([("import", 5, 5), ("attack_pgd", 2.5, 5), ("notebook", 0, 0)]), 30.1),
        ("cat", "timeout", _tests([("import", 5, 5), ("attack_pgd", 0, 5), ("notebook", 0, 0)]), 600.0),
        ("dan<script>", "crash", _tests([("import", 0, 5), ("attack_pgd", 0, 5), ("notebook", 0, 0)]), 3.0)]
NAMES = ["import", "attack_pgd", "notebook"]


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.images, self.cells, self.scripts = [], [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.links += [attrs["href"]] if tag == "a" else []
        self.images += [attrs["src"]] if tag == "img" else []
        self.scripts += tag == "script"

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def test_the_page_holds_the_histogram_checks_statuses_slowest_and_links():
    page = Page()
    page.feed(index_html(ROWS, NAMES, "FIT3181 A1 Part 3: grades"))
    assert len(page.images) == 1 and page.images[0].startswith("data:image/png;base64,")  # embedded, no network
    assert page.links == ["ann/report.md", "bob/report.md", "cat/report.md", "dan&lt;script&gt;/report.md"] or \
        page.links[:3] == ["ann/report.md", "bob/report.md", "cat/report.md"]
    assert page.scripts == 0  # a student's folder name is text, never markup
    text = " ".join(page.cells)
    assert "4 submissions" in text and "median 6.25" in text and "best 10 of 10" in text
    assert "WRONG: max |x_adv - x| = 0.06 (want <= eps) (3x)" in text  # attack_pgd's most common failure
    assert "timeout" in text and "crash" in text and "600.0" in text


def test_the_check_table_counts_only_what_counts():
    table = {r["check"]: r for r in check_table(ROWS, NAMES)}
    assert (table["import"]["passed"], table["import"]["counted"]) == (3, 4)
    assert table["attack_pgd"]["mean"] == pytest.approx(1.875)
    assert table["notebook"]["counted"] == 0  # optional and never handed in


def test_moodle_and_canvas_files_with_a_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,email,id\nann,Ann Lee,ann@uni.edu,1001\nbob,Bob Ng,bob@uni.edu,1002\n"
                      "eve,Eve Ho,eve@uni.edu,1003\n")
    students = read_roster(roster)
    text, unknown, missing = gradebook("moodle", ROWS, students)
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["Email address", "ID number", "FIT3181 A1 Part 3"]
    assert rows[1] == ["ann@uni.edu", "1001", "10.0"] and rows[3] == ["cat", "", "5.0"]  # kept, not dropped
    assert unknown == ["cat", "dan<script>"] and missing == ["eve"]
    text, _, _ = gradebook("canvas", ROWS, students)
    rows = list(csv.reader(text.splitlines()))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and rows[0][5].endswith("(10)")
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "10"
    assert rows[2] == ["Ann Lee", "", "1001", "ann@uni.edu", "", "10.0"]
    roster.write_text("student,email\nann,a@b\n")
    with pytest.raises(ValueError, match="'submission' column"):
        read_roster(roster)


def render(page, shot, width=1200, height=1600):
    """Headless Chromium's screenshot of ``page`` into ``shot``; returns its log (console messages included)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    return done.stderr


FLAGGED = ([("ann", "bob", 0.93, 0.93, 0.9, 420)], Rule(typical=0.21, spread=0.05, threshold=0.7),
           {("ann", "bob"): ["def fgsm_attack(model, x, y):\n    return x + eps * sign(g)  # <shared>"]})


def test_a_flagged_pair_shows_its_score_the_class_typical_score_and_the_shared_code():
    page = index_html(ROWS, NAMES, "grades", FLAGGED)
    section = page[page.index("<h2>Similarity</h2>"):]
    assert "0.93" in section and "0.21" in section and "0.70" in section
    assert "def fgsm_attack(model, x, y):" in section and "&lt;shared&gt;" in section  # escaped
    assert "No pair" in index_html(ROWS, NAMES, "grades", ([], FLAGGED[1], {}))


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="headless Chromium not installed (.ci/run installs Debian's chromium)")
def test_the_page_renders_in_headless_chromium_without_console_errors(tmp_path):
    import numpy as np
    from PIL import Image

    page = write_index(tmp_path, ROWS, NAMES, "FIT3181 A1 Part 3: grades", similar=FLAGGED)
    shot = tmp_path / "index.png"
    log = render(page, shot)
    assert shot.is_file(), log[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 5 and (pixels < 128).mean() > 0.005  # not blank: text, table lines, the histogram
    assert "CONSOLE" not in log and "Uncaught" not in log, log[-2000:]
