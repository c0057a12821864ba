"""The other assignments' checks (``--assignment technion-hw2|ds5220|recvis-a2``): the project's own functions
pass, planted faults lose exactly their check; in process (fast) and through the command (slow)."""
import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from coursekit.exercises import double_moon, epochs, initializers
from coursekit.grading import others

ROOT = Path(__file__).resolve().parents[2]


def _ctx(assignment, **functions):
    return others.make_context(SimpleNamespace(__file__="submission.py", **functions), assignment, 0)


def _score(check, ctx):
    fraction, message = check(ctx)
    return fraction, message


def test_technion_initialisations():
    ok = _ctx("technion-hw2", xavier_init=initializers.xavier_init, kaiming_init=initializers.kaiming_init)
    assert _score(others.check_functions, ok)[0] == 1
    assert _score(others.check_xavier_init, ok)[0] == 1 and _score(others.check_kaiming_init, ok)[0] == 1
    narrow = _ctx("technion-hw2", xavier_init=lambda i, o: tf.random.uniform((o, i), -math.sqrt(3 / (i + o)),
                                                                                math.sqrt(3 / (i + o))))
    fraction, message = others.check_xavier_init(narrow)
    assert fraction == 0.75 and "WRONG: variance" in message
    transposed = _ctx("technion-hw2", kaiming_init=lambda i, o: tf.random.normal((i, o), 0, math.sqrt(2 / i)))
    assert "WRONG: shape" in others.check_kaiming_init(transposed)[1]
    uniform = _ctx("technion-hw2", kaiming_init=lambda i, o: tf.random.uniform((o, i), -math.sqrt(6 / i),
                                                                                 math.sqrt(6 / i)))
    assert "WRONG: " in others.check_kaiming_init(uniform)[1] and "beyond 2 std" in others.check_kaiming_init(uniform)[1]
    assert others.check_functions(_ctx("technion-hw2", xavier_init=initializers.xavier_init))[0] == 0.5


def test_ds5220_epoch_functions():
    ok = _ctx("ds5220", train_one_epoch=epochs.train_one_epoch, test_one_epoch=epochs.test_one_epoch)
    assert others.check_train_one_epoch(ok)[0] == 1 and others.check_test_one_epoch(ok)[0] == 1

    def never_steps(dataset, model, optimizer, log_interval, epoch):
        return epochs.train_one_epoch(dataset, model, type(optimizer)(0.0), log_interval, epoch)

    fraction, message = others.check_train_one_epoch(_ctx("ds5220", train_one_epoch=never_steps))
    assert fraction == 0.8 and "WRONG: lr 0.1 moves the weights" in message

    def summed(dataset, model):
        loss, correct = epochs.test_one_epoch(dataset, model)
        return loss * 64, correct

    assert "WRONG: loss" in others.check_test_one_epoch(_ctx("ds5220", test_one_epoch=summed))[1]


def test_recvis_gradient_and_train_loop():
    ok = _ctx("recvis-a2", gradient_nn=double_moon.gradient_nn, train_loop=double_moon.train_loop)
    assert others.check_gradient_nn(ok)[0] == 1 and others.check_train_loop(ok)[0] == 1

    def sign_error(X, Y, Wi, bi, Wo, bo):
        return tuple(-np.asarray(g) for g in double_moon.gradient_nn(X, Y, Wi, bi, Wo, bo))

    assert others.check_gradient_nn(_ctx("recvis-a2", gradient_nn=sign_error))[0] == 0

    def per_epoch(Xtr, Ytr, Xval, Yval, h, lr, vis="all", nEpochs=100):
        tr, val = double_moon.train_loop(Xtr, Ytr, Xval, Yval, h, lr, vis=vis, nEpochs=nEpochs, seed=0)
        return tr[::len(Xtr)], val[::len(Xtr)]

    fraction, message = others.check_train_loop(_ctx("recvis-a2", train_loop=per_epoch))
    assert fraction < 1 and "WRONG: " in message and "one per step" in message


XAVIER = """import math
import tensorflow as tf


def xavier_init(fan_in, fan_out):
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return tf.random.uniform((fan_out, fan_in), -bound, bound)


def kaiming_init(fan_in, fan_out):
    return tf.random.normal((fan_out, fan_in), 0.0, math.sqrt(2.0 / fan_in))
"""


@pytest.mark.slow
def test_the_command_grades_the_other_assignments(tmp_path):
    cases = {"technion-hw2": {"ok": ("hw2.py", XAVIER), "bad": ("hw2.py", XAVIER.replace("6.0 /", "3.0 /"))},
             "ds5220": {"ok": ("ps4.py", "from coursekit.exercises.epochs import test_one_epoch, train_one_epoch\n"),
                        "bad": ("ps4.py", "def train_one_epoch(*args):\n    raise NotImplementedError\n\n\n"
                                          "from coursekit.exercises.epochs import test_one_epoch\n")},
             "recvis-a2": {"ok": ("part1.py", "from coursekit.exercises.double_moon import gradient_nn, train_loop\n"),
                           "bad": ("part1.py", "from coursekit.exercises.double_moon import gradient_nn\n\n\n"
                                               "def train_loop(*args, **kwargs):\n    return [], []\n")}}
    lost = {"technion-hw2": {"xavier_init"}, "ds5220": {"train_one_epoch"}, "recvis-a2": {"train_loop"}}
    for assignment, subs in cases.items():
        for name, (file, source) in subs.items():
            (tmp_path / assignment / name).mkdir(parents=True)
            (tmp_path / assignment / name / file).write_text(source)
        out = tmp_path / f"out-{assignment}"
        done = subprocess.run([sys.executable, "-m", "assignment", "grade", str(tmp_path / assignment), "--assignment",
                               assignment, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        ok = json.loads((out / "ok" / "results.json").read_text())
        bad = json.loads((out / "bad" / "results.json").read_text())
        assert ok["score"] == 10 and ok["extra_data"]["grading_status"] == "ok", ok
        assert {t["name"] for t in bad["tests"] if t["score"] < t["max_score"]} == lost[assignment], bad


def test_students_check_the_other_assignments_in_their_own_process(tmp_path, capsys):
    from coursekit.grading import check

    (tmp_path / "hw2.py").write_text(XAVIER.replace("6.0 /", "3.0 /"))
    rows = check(str(tmp_path / "hw2.py"), assignment="technion-hw2")
    by = {r["check"]: r for r in rows}
    assert by["functions"]["result"] == "pass" and by["kaiming_init"]["result"] == "pass"
    assert by["xavier_init"]["result"] == "FAIL" and "WRONG: variance" in by["xavier_init"]["message"]
    printed = capsys.readouterr().out
    assert "xavier_init" in printed and "FAIL" in printed and "total" in printed
    only = check(str(tmp_path / "hw2.py"), "kaiming_init", assignment="technion-hw2", show=False)
    assert [r["check"] for r in only] == ["kaiming_init"]
    with pytest.raises(ValueError, match="unknown check"):
        check(str(tmp_path / "hw2.py"), "kaiming", assignment="technion-hw2")
