"""``coursekit.training.runtime``: the run-wide --jit / --tensorboard settings and the line naming device, policy and XLA."""
import pytest

from coursekit.nets.architectures import residual_cnn
from coursekit.training import runtime
from coursekit.training.config import TrainConfig
from coursekit.training.fit import fit_classifier
from tests.conftest import make_blobs_images


@pytest.fixture(autouse=True)
def _reset():
    runtime.reset()
    yield
    runtime.reset()


def test_jit_settings_are_checked_and_the_run_wide_default_applies():
    assert runtime.check_jit_compile("on") is True and runtime.check_jit_compile("off") is False
    assert runtime.check_jit_compile("auto") == "auto" and runtime.check_jit_compile(False) is False
    with pytest.raises(ValueError, match="jit_compile must be 'auto'"):
        runtime.check_jit_compile("sometimes")
    assert runtime.jit_compile_setting() == "auto"
    runtime.configure(jit_compile="on")
    assert runtime.jit_compile_setting() is True and runtime.jit_compile_setting(False) is False
    runtime.reset()
    assert runtime.jit_compile_setting() == "auto"


def test_fit_takes_the_run_wide_xla_setting_and_logs_for_tensorboard(tmp_path, capsys):
    X, y = make_blobs_images(n_per_class=8, num_classes=3, size=8)
    runtime.configure(jit_compile="on", tensorboard_dir=tmp_path / "logs")
    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3, name="boardnet")
    history = fit_classifier(net, (X[:18], y[:18]), (X[18:], y[18:]), TrainConfig(num_classes=3, batch_size=6,
                                                                                  epochs=1))
    assert history.trainer.jit_compile is True
    assert "CPU: float32, XLA on" in capsys.readouterr().out
    events = list((tmp_path / "logs" / "boardnet").rglob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)
    runtime.reset()
    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3, name="plainnet")
    history = fit_classifier(net, (X[:18], y[:18]), None, TrainConfig(num_classes=3, batch_size=6, epochs=1,
                                                                      verbose=False))
    assert history.trainer.jit_compile is False and not (tmp_path / "logs" / "plainnet").exists()


def test_the_device_is_named():
    import tensorflow as tf

    name = runtime.device_name()
    assert name == "CPU" if not tf.config.list_physical_devices("GPU") else name.startswith("GPU ")
