"""Training and attacks under MirroredStrategy over two logical CPUs match one device."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from coursekit.attacks import fgsm, mim, pgd
    from coursekit.nets.architectures import default_cnn
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 16, 16, 3)).astype("float32")
    y = rng.integers(0, 3, 64)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2

    results = {}
    for name, strat in (("one", None), ("two", strategy)):
        keras.utils.set_random_seed(1)
        net = default_cnn(16, 16, 3, 3)
        config = TrainConfig(num_classes=3, batch_size=16, epochs=2, learning_rate=1e-3, seed=3, verbose=False)
        hist = fit_classifier(net, (x, y), (x[:16], y[:16]), config, strategy=strat)
        results[name] = dict(loss=np.array(hist.history["loss"]), weights=net.get_weights(),
                             pgd=pgd(net, x, y, eps=0.05, steps=5, step_size=0.01, batch_size=32, strategy=strat),
                             fgsm=fgsm(net, x, y, eps=0.05, batch_size=32, strategy=strat),
                             mim=mim(net, x, y, eps=0.05, steps=5, step_size=0.01, batch_size=32, strategy=strat))
    one, two = results["one"], results["two"]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)
    for key in ("pgd", "fgsm", "mim"):
        diff = np.abs(two[key] - one[key])
        assert (diff > 1e-4).mean() < 0.01, (key, (diff > 1e-4).mean())  # signs may flip only at near-zero gradients
    print("MIRRORED-OK", one["loss"], two["loss"])
""")


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "MIRRORED-OK" in done.stdout


def test_mixed_precision_trains_with_float32_logits_and_finite_loss():
    import keras
    import numpy as np

    from coursekit.nets.architectures import residual_cnn
    from coursekit.training.config import TrainConfig
    from coursekit.training.distribute import get_strategy, mixed_precision_policy
    from coursekit.training.fit import fit_classifier

    try:
        assert mixed_precision_policy(True) == "mixed_bfloat16"  # no GPU here: bfloat16 on the CPU
        net = residual_cnn(16, 16, 3, num_blocks=1, feature_maps=4, num_classes=3, batch_norm=True)
        assert net.get_layer("block1_conv1").compute_dtype == "bfloat16"
        assert net.get_layer("logits").compute_dtype == "float32"
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (32, 16, 16, 3)).astype("float32")
        y = rng.integers(0, 3, 32)
        hist = fit_classifier(net, (x, y), None, TrainConfig(num_classes=3, batch_size=16, epochs=1, sam_rho=0.05,
                                                             verbose=False))
        assert np.isfinite(hist.history["loss"]).all()
        assert net.predict(x, verbose=0).dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert mixed_precision_policy("auto") == "float32"  # auto: off without a GPU
    assert get_strategy("default") is None
    import pytest
    with pytest.raises(ValueError, match="unknown strategy"):
        get_strategy("warp")


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_worker_processes_train_like_one_device(tmp_path):
    """``--strategy multiworker``: two processes on localhost, joined by TF_CONFIG, each training half
    of every global batch, end with the weights of a one-device run."""
    import json

    import numpy as np

    script = str(ROOT / "tests" / "multiworker_run.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    one = subprocess.run([sys.executable, script, str(tmp_path / "one.npz")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]
    workers = [f"localhost:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen([sys.executable, script, str(tmp_path / f"worker{index}.npz")],
                                      env=dict(env, TF_CONFIG=json.dumps(config)), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    with np.load(tmp_path / "one.npz") as f:
        want = {k: f[k] for k in f.files}
    assert int(want["replicas"]) == 1
    for index in range(2):
        with np.load(tmp_path / f"worker{index}.npz") as f:
            got = {k: f[k] for k in f.files}
        assert int(got["replicas"]) == 2
        np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-4)
        for key in want:
            if key.startswith("arr_"):
                np.testing.assert_allclose(got[key], want[key], rtol=1e-3, atol=1e-5, err_msg=key)
