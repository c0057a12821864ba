"""``TrainConfig``: the training settings, checked once; and the optimizer, schedule and loss built from them."""
import keras
import numpy as np
import pytest

from coursekit.training.config import TrainConfig
from coursekit.training.fit import fit_classifier
from coursekit.training.optimizers import get_optimizer
from coursekit.training.trainer import AdversarialTraining
from tests.conftest import make_blobs_images


@pytest.mark.parametrize("changes, match", [
    (dict(num_classes=1), "num_classes must be an int >= 2"),
    (dict(epochs=0), "epochs and batch_size must be >= 1"),
    (dict(learning_rate=0), "learning_rate must be positive"),
    (dict(schedule="step"), "schedule must be one of constant, cosine"),
    (dict(weight_decay=-1), r"weight_decay must be >= 0 \(0 = off\)"),
    (dict(sam_rho=-0.1), r"sam_rho must be >= 0"),
    (dict(label_smoothing=1.0), r"label_smoothing must be in \[0, 1\)"),
    (dict(value_range=(1, 0)), "value_range must be"),
    (dict(adversarial=(0.03, 10, 0.002)), "adversarial must be an AdversarialTraining"),
    (dict(patience=0), "patience must be a positive integer or None"),
    (dict(output_kind="softmax"), "output_kind must be"),
    (dict(optimizer="adamw2"), "unknown optimizer 'adamw2'"),
    (dict(jit_compile="maybe"), "jit_compile must be"),
    (dict(warmup_epochs=1), "warmup_epochs needs schedule='cosine'"),
    (dict(warmup_epochs=10, schedule="cosine", epochs=10), r"must be below epochs \(10\)"),
    (dict(progressive_resizing=(48, 10), epochs=10), r"progressive_resizing must be \(size, epochs\) .* < 10"),
    (dict(progressive_resizing=(4, 2)), r"size >= 8 .*got \(4, 2\)"),
    (dict(progressive_resizing=48), "progressive_resizing must be"),
    (dict(progressive_resizing=(48.0, 2)), "progressive_resizing must be"),
])
def test_each_bad_setting_is_named(changes, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{"num_classes": 3, **changes})


def test_several_bad_settings_are_named_together_and_replace_checks_again():
    with pytest.raises(ValueError, match="learning_rate must be positive.*mixup_alpha must be >= 0"):
        TrainConfig(num_classes=3, learning_rate=-1, mixup_alpha=-1)
    config = TrainConfig(num_classes=3, value_range=(0, 1))
    assert config.value_range == (0.0, 1.0)
    with pytest.raises(ValueError, match="sam_rho"):
        config.replace(sam_rho=-1)


def test_the_fingerprint_holds_what_changes_a_run_and_not_how_it_is_shown():
    config = TrainConfig(num_classes=3, adversarial=AdversarialTraining())
    printed = config.replace(verbose=False, jit_compile=True)
    assert config.fingerprint() == printed.fingerprint()
    assert "verbose" not in config.fingerprint() and config.fingerprint()["adversarial"] == AdversarialTraining()
    assert config.fingerprint() != config.replace(label_smoothing=0.1).fingerprint()


def test_cosine_schedule_and_weight_decay_build_the_optimizer():
    plain = get_optimizer("adam", 1e-3)
    assert plain.weight_decay is None and isinstance(plain.learning_rate, keras.Variable)
    decayed = get_optimizer("momentum", 0.1, weight_decay=0.05, decay_steps=100)
    assert decayed.weight_decay == 0.05 and decayed.momentum == 0.9
    schedule = keras.optimizers.schedules.deserialize(decayed.get_config()["learning_rate"])
    assert float(schedule(0)) == pytest.approx(0.1) and float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(50)) == pytest.approx(0.05, rel=1e-3)


def test_warmup_rises_linearly_to_the_peak_then_the_cosine_reaches_zero_at_the_last_step():
    adam = get_optimizer("adam", 2e-3, decay_steps=100, warmup_steps=10)
    schedule = keras.optimizers.schedules.deserialize(adam.get_config()["learning_rate"])
    assert float(schedule(0)) == pytest.approx(0.0, abs=1e-9) and float(schedule(5)) == pytest.approx(1e-3)
    assert float(schedule(10)) == pytest.approx(2e-3) and float(schedule(55)) == pytest.approx(1e-3, rel=1e-3)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="warmup_steps needs the cosine schedule"):
        get_optimizer("adam", 1e-3, warmup_steps=5)


def test_fit_decays_the_rate_over_all_its_steps_and_smooths_the_labels():
    x, y = make_blobs_images(n_per_class=8, size=8)
    inputs = keras.Input((8, 8, 3))
    net = keras.Model(inputs, keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(inputs)))
    config = TrainConfig(num_classes=3, batch_size=8, epochs=3, schedule="cosine", weight_decay=0.01,
                         label_smoothing=0.2, verbose=False)
    history = fit_classifier(net, (x, y), None, config)
    trainer = history.trainer
    assert int(trainer.optimizer.iterations) == 9   # 24 images, batch 8, 3 epochs
    assert float(trainer.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # the cosine's end
    assert trainer.loss.get_config()["label_smoothing"] == 0.2
    assert np.isfinite(history.history["loss"]).all()


def test_progressive_resizing_is_kept_as_a_pair_and_reaches_the_trainer():
    assert TrainConfig(num_classes=3, progressive_resizing=[8, 2]).progressive_resizing == (8, 2)
    x, y = make_blobs_images(n_per_class=14, num_classes=3, size=16)
    inputs = keras.Input((None, None, 3))
    net = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs)))
    config = TrainConfig(num_classes=3, batch_size=16, epochs=3, progressive_resizing=(8, 2), verbose=False)
    history = fit_classifier(net, (x, y), (x[:10], y[:10]), config)
    assert history.trainer.low_res == (8, 2 * 3)  # 2 epochs of ceil(42 / 16) = 3 steps
    assert history.trainer.optimizer.iterations.numpy() == 9
