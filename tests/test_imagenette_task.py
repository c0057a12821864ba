"""``python -m assignment imagenette``: killed and resumed, it finishes; its .h5 files stand on their own."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["imagenette", "--widths", "4", "8", "--epochs", "30", "--augmented-epochs", "3", "--out", "out",
        "--no-download", "--backup-dir", "backup"]


def _command(data):
    return [sys.executable, "-m", "assignment", *ARGS, "--data", str(data)]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")


def _kill_after_epochs(data, cwd, epochs, timeout=300):
    """Start the task and SIGKILL it once its first run's backup holds ``epochs`` finished epochs."""
    from coursekit.training.resume import completed_epochs

    proc = subprocess.Popen(_command(data), cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while completed_epochs(cwd / "backup" / "plain") < epochs:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, "no epoch finished in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.returncode


@pytest.mark.slow
def test_a_killed_run_resumes_and_ends_like_an_uninterrupted_one(tmp_path):
    from tests.datasets.test_imagenette import write_imagenette

    data = write_imagenette(tmp_path / "imagenette", n=10)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    done = subprocess.run(_command(data), cwd=straight, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _kill_after_epochs(data, killed, 2) == -signal.SIGKILL
    resumed = subprocess.run(_command(data), cwd=killed, env=_env(), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from backup/plain: " in resumed.stdout and " of 30 epochs done" in resumed.stdout
    assert not (killed / "backup" / "plain").exists()  # removed once its training completed
    a, b = (json.loads((d / "out" / "metrics.json").read_text()) for d in (straight, killed))
    assert len(b["val_accuracy_curve"]) == 30 and len(b["augmented_val_accuracy_curve"]) == 3
    for key in ("val_accuracy_curve", "augmented_val_accuracy_curve", "test_accuracy", "augmented_test_accuracy"):
        assert a[key] == b[key], key
    for name in ("imagenette_plain.h5", "imagenette_augmented.h5", "noise.png", "progress.png", "samples.png"):
        assert (killed / "out" / name).is_file(), name


LOAD_AND_SCORE = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1], compile=False)
data = np.load(sys.argv[2])
x = data["x"].astype("float32")
logits = model.predict(x, verbose=0)
softmax = lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
both = softmax(logits.astype("float64")) + softmax(model.predict(x[:, :, ::-1], verbose=0).astype("float64"))
print(model.get_layer("pixels_to_unit").scale, float((logits.argmax(1) == data["y"]).mean()),
      float((both.argmax(1) == data["y"]).mean()))
"""


@pytest.mark.slow
def test_the_h5_files_load_with_plain_keras_and_reproduce_the_printed_accuracy_from_raw_pixels(tmp_path):
    from coursekit.datasets.imagenette import load_imagenette
    from tests.datasets.test_imagenette import write_imagenette

    data = write_imagenette(tmp_path / "imagenette", n=12)
    args = [sys.executable, "-m", "assignment", "imagenette", "--data", str(data), "--widths", "4", "8",
            "--epochs", "4", "--augmented-epochs", "2", "--out", "out", "--no-download", "--test-size", "80"]
    done = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    (_, _), (x_test, y_test), wnids, names, _ = load_imagenette(data, allow_download=False)
    assert metrics["class_names"] == list(names) and x_test.dtype == np.uint8
    np.savez(tmp_path / "test.npz", x=x_test, y=y_test)
    (tmp_path / "score.py").write_text(LOAD_AND_SCORE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for name, key in (("imagenette_plain.h5", "test_accuracy"), ("imagenette_augmented.h5", "augmented_test_accuracy")):
        # a bare directory and no PYTHONPATH: nothing of the project can be imported while loading
        scored = subprocess.run([sys.executable, str(tmp_path / "score.py"), str(tmp_path / "out" / name),
                                 str(tmp_path / "test.npz")], cwd=tmp_path / "out", env=env, capture_output=True,
                                text=True, timeout=300)
        assert scored.returncode == 0, scored.stderr[-3000:]
        scale, accuracy, flipped = (float(v) for v in scored.stdout.split()[-3:])
        assert scale == pytest.approx(1 / 255) and accuracy == pytest.approx(metrics[key], abs=1e-9), name
        assert flipped == pytest.approx(metrics[key + "_flip_tta"], abs=1e-9), name
    assert "test accuracy " in done.stdout and "the .h5 file on raw test pixels" in done.stdout
    assert "with flip test-time augmentation" in done.stdout
    assert metrics["machine"]["dtype_policy"] in ("float32", "mixed_bfloat16")
    assert metrics["test_size"] == metrics["augmented_test_size"] == 80  # a Resizing layer in each file
