"""The Colab GPU configurations, forced on the CPU: XLA (``jit_compile=True``, what Keras' ``auto`` picks on a
GPU) and mixed precision (``mixed_float16`` with loss scaling on a T4, ``mixed_bfloat16`` on an A100/L4),
through every training variant, the attacks and the ``.h5`` round trip."""
import keras
import numpy as np
import pytest

from coursekit.training.runtime import describe
from coursekit.training.trainer import AdversarialTraining
from models import DefaultModel, YourModel, fgsm, mim, pgd
from tests.conftest import ArrayDataManager, make_blobs_images

CONFIGS = {"float32+xla": ("float32", True), "float16": ("mixed_float16", False),
           "float16+xla": ("mixed_float16", True), "bfloat16+xla": ("mixed_bfloat16", True)}
VARIANTS = {
    "plain": {},
    "augmentation": dict(is_augmentation=True),
    "mixup": dict(mixup_alpha=0.4),
    "sam": dict(sam_rho=0.05),
    "adversarial": dict(adversarial=AdversarialTraining(eps=0.05, steps=2, step_size=0.03)),
    "early_stopping": dict(patience=1, num_epochs=3),
    "resume": dict(num_epochs=2),
}


FAST_CONFIG = "float16+xla"  # the default test tier runs this one (loss scaling and XLA); the others are slow


def _params(configs, variants=None, fast_variants=None):
    """(config[, variant]) parameters, marked slow except in FAST_CONFIG (and there, for ``fast_variants``)."""
    out = []
    for config in configs:
        for variant in (variants if variants is not None else [None]):
            fast = config == FAST_CONFIG and (fast_variants is None or variant in fast_variants)
            marks = () if fast else (pytest.mark.slow,)
            values = (config,) if variant is None else (config, variant)
            out.append(pytest.param(*values, marks=marks, id="-".join(values)))
    return out


@pytest.fixture
def policy(request):
    """Sets Keras' global dtype policy for one test (networks must be built inside it), then float32 again."""
    def use(name):
        keras.mixed_precision.set_global_policy(name)
        return name
    yield use
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="module")
def tiny_manager():
    X, y = make_blobs_images(n_per_class=20, num_classes=3, size=8, seed=3)
    return ArrayDataManager(X[:36], y[:36], X[36:48], y[36:48], X[48:], y[48:], ["a", "b", "c"])


def _trainable(net):
    return [v.numpy().copy() for v in net.model.trainable_variables]


class Disconnect(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("runtime disconnected")


def _net(cls, jit, **variant):
    params = dict(name="tiny", width=8, height=8, num_blocks=1, feature_maps=4, num_classes=3, drop_rate=0.1,
                  batch_norm=True, optimizer="adam", learning_rate=1e-2, batch_size=12, num_epochs=1,
                  verbose=False, patience=None, seed=7, jit_compile=jit, is_augmentation=False)
    params.update(variant)
    return cls(**params)


def _train(cls, config, variant, manager, tmp_path):
    dtype, jit = CONFIGS[config]
    net = _net(cls, jit, **VARIANTS[variant])
    net.build_cnn()
    before = _trainable(net)
    if variant == "resume":
        net.backup_dir = tmp_path / "backup"
        with pytest.raises(RuntimeError, match="disconnected"):
            net.fit(manager, callbacks=[Disconnect()])
        assert (tmp_path / "backup").exists()
        net.fit(manager)  # carries on from the backup of epoch 1
        assert not (tmp_path / "backup").exists() and len(net.history.history["loss"]) == 2
    else:
        net.fit(manager)
    return net, before


@pytest.mark.parametrize("config, variant", _params(CONFIGS, VARIANTS, fast_variants=("plain", "mixup", "sam",
                                                                                     "adversarial")))
def test_your_model_trains_in_every_gpu_configuration(config, variant, policy, tiny_manager, tmp_path):
    policy(CONFIGS[config][0])
    net, before = _train(YourModel, config, variant, tiny_manager, tmp_path)
    losses = net.history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    moved = [np.abs(a - b.numpy()).max() for a, b in zip(before, net.model.trainable_variables)]
    assert max(moved) > 0 and np.isfinite(moved).all()  # every variant updates the weights
    trainer = net.history.trainer
    want_xla = CONFIGS[config][1] and variant != "augmentation"  # Keras runs random layers without XLA
    assert bool(trainer.jit_compile) == want_xla
    assert describe(trainer,
                    CONFIGS[config][1]).startswith(f"CPU: {CONFIGS[config][0]}, XLA {'on' if want_xla else 'off'}")


@pytest.mark.parametrize("config, variant", _params(CONFIGS, VARIANTS, fast_variants=("mixup", "sam")))
def test_default_cnn_trains_in_every_gpu_configuration(config, variant, policy, tiny_manager, tmp_path):
    policy(CONFIGS[config][0])
    net, before = _train(DefaultModel, config, variant, tiny_manager, tmp_path)
    assert np.all(np.isfinite(net.history.history["loss"]))
    assert max(np.abs(a - b.numpy()).max() for a, b in zip(before, net.model.trainable_variables)) > 0


@pytest.mark.parametrize("config", _params(CONFIGS))
def test_attacks_and_the_h5_round_trip_in_every_gpu_configuration(config, policy, tiny_manager, tmp_path):
    policy(CONFIGS[config][0])
    net, _ = _train(YourModel, config, "plain", tiny_manager, tmp_path)
    X, y = tiny_manager.X_test, tiny_manager.y_test
    for attack in (fgsm, pgd, mim):
        x_adv = attack(net.model, X, y, eps=0.05)
        assert x_adv.dtype == X.dtype and np.abs(x_adv - X).max() <= 0.05 + 1e-6
        assert x_adv.min() >= -1 and x_adv.max() <= 1
        assert np.abs(x_adv - X).max() > 0.04  # the gradient did not vanish in low precision
    path = net.save(tmp_path / "tiny.h5")
    again = _net(YourModel, False)
    again.load(path)
    assert all(w.dtype == np.float32 for w in again.model.get_weights())  # variables stay float32
    np.testing.assert_allclose(again.predict_proba(X), net.predict_proba(X), atol=1e-6)
    keras.mixed_precision.set_global_policy("float32")  # and a float32 notebook loads it too
    plain = keras.models.load_model(path, compile=False)
    assert all(w.dtype == np.float32 for w in plain.get_weights())


def test_sam_under_float16_loss_scaling_takes_real_steps(policy, tiny_manager):
    """SAM took its loss scale off the tape: every gradient was None, so no weight ever moved."""
    policy("mixed_float16")
    net = _net(YourModel, False, sam_rho=0.05, num_epochs=2)
    net.build_cnn()
    before = _trainable(net)
    net.fit(tiny_manager)
    assert type(net.history.trainer.optimizer).__name__ == "LossScaleOptimizer"
    moved = [np.abs(a - b.numpy()).max() for a, b in zip(before, net.model.trainable_variables)]
    assert min(moved) > 0  # every variable, not only some


def _changed(before, model):
    return max(np.abs(a - b.numpy()).max() for a, b in zip(before, model.trainable_variables)) > 0


@pytest.mark.parametrize("config", _params(["float32+xla", "float16", "float16+xla"]))
def test_the_hand_written_mnist_epochs_under_xla_and_float16(config, policy):
    import tensorflow as tf

    from coursekit.exercises.epochs import test_one_epoch, train_one_epoch
    from coursekit.nets.small_nets import mnist_cnn

    dtype, jit = CONFIGS[config]
    policy(dtype)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (48, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 48)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model = mnist_cnn()
    optimizer = keras.optimizers.SGD(0.05)
    if dtype == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    before = [v.numpy().copy() for v in model.trainable_variables]
    losses, counter, correct = train_one_epoch(ds, model, optimizer, 1, 0, jit_compile=jit)
    assert len(losses) == 3 and np.all(np.isfinite(losses)) and counter == [16, 32, 48] and 0 <= correct <= 48
    assert _changed(before, model)
    loss, correct = test_one_epoch(ds, model)
    assert np.isfinite(loss) and 0 <= correct <= 48


@pytest.mark.parametrize("network", ["cifar_convnet", "imagenette_cnn", "magic_mlp"])
@pytest.mark.parametrize("config", _params(["float32+xla", "float16", "float16+xla"]))
def test_the_other_tasks_networks_under_xla_and_float16(network, config, policy):
    from coursekit.nets.small_nets import cifar_convnet, imagenette_cnn
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier
    from coursekit.training.tabular import binary_mlp

    dtype, jit = CONFIGS[config]
    policy(dtype)
    rng = np.random.default_rng(1)
    if network == "magic_mlp":  # MAGIC: 10 features, one logit
        net, x, classes = binary_mlp(10, hidden=(16, 8)), rng.normal(size=(48, 10)).astype(np.float32), 2
    elif network == "cifar_convnet":
        net, x, classes = cifar_convnet(), rng.uniform(-1, 1, (48, 32, 32, 3)).astype(np.float32), 10
    else:  # GroupNorm, no BatchNorm
        net, x, classes = (imagenette_cnn(size=16, widths=(8, 16), groups=4),
                           rng.uniform(-1, 1, (48, 16, 16, 3)).astype(np.float32), 10)
    y = rng.integers(0, classes, 48)
    before = [v.numpy().copy() for v in net.trainable_variables]
    history = fit_classifier(net, (x[:36], y[:36]), (x[36:], y[36:]), TrainConfig(num_classes=classes, batch_size=12,
                                                                                  epochs=1, optimizer="sgd",
                                                                                  learning_rate=0.05, verbose=False,
                                                                                  jit_compile=jit))
    assert np.isfinite(history.history["loss"][0]) and np.isfinite(history.history["val_loss"][0])
    assert bool(history.trainer.jit_compile) == jit
    assert _changed(before, net)


@pytest.mark.slow
def test_the_line_naming_device_policy_and_xla_is_printed(policy, tiny_manager, capsys):
    policy("mixed_bfloat16")
    net = _net(YourModel, True, verbose=True)
    net.build_cnn()
    net.fit(tiny_manager)
    assert "CPU: mixed_bfloat16, XLA on" in capsys.readouterr().out
    net = _net(YourModel, True, verbose=True, is_augmentation=True)
    net.build_cnn()
    net.fit(tiny_manager)
    assert "XLA off (a layer, e.g. random augmentation, does not support it)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="jit_compile must be 'auto'"):
        _net(YourModel, "yes")
