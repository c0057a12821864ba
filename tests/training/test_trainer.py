"""``ClassifierTrainer``'s training step against hand-written reference steps, one option at a time.

Each test runs one ``train_on_batch`` of the trainer and the same SGD step written out with a
``GradientTape`` on a copy of the network, then compares the weights and the logged loss.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from coursekit.attacks.core import pgd_core, start_noise
from coursekit.training.config import TrainConfig
from coursekit.training.mixup import sample_mixup
from coursekit.training.trainer import AdversarialTraining, ClassifierTrainer

LR, SEED = 0.1, 11
CE = keras.losses.CategoricalCrossentropy(from_logits=True)


def _net(batch_norm=False, dropout=0.0, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 4, 3))
    h = keras.layers.Flatten()(inputs)
    h = keras.layers.Dense(6, activation="tanh")(h)
    if batch_norm:
        h = keras.layers.BatchNormalization()(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(h))


def _batch(n=8, seed=1):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.uniform(-0.8, 0.8, (n, 4, 4, 3)).astype(np.float32))
    return x, tf.one_hot(rng.integers(0, 3, n), 3)


def _copy(net):
    twin = keras.models.clone_model(net)
    twin.set_weights(net.get_weights())
    return twin


def _trainer_step(net, x, y, augmenter=None, **options):
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3, seed=SEED, **options), augmenter=augmenter)
    trainer.compile(optimizer=keras.optimizers.SGD(LR), loss=CE, metrics=["accuracy"])
    logs = trainer.train_on_batch(x, y, return_dict=True)
    return trainer, logs


def _reference_step(net, x_in, y_in, weights=None):
    """One SGD step on the mean (weighted: sum(w * l) / n) cross-entropy of ``net(x_in)``."""
    with tf.GradientTape() as tape:
        losses = keras.losses.categorical_crossentropy(y_in, net(x_in, training=True), from_logits=True)
        loss = tf.reduce_mean(losses if weights is None else weights * losses)
    grads = tape.gradient(loss, net.trainable_variables)
    for v, g in zip(net.trainable_variables, grads):
        v.assign_sub(LR * g)
    return float(loss)


def _assert_same(net, reference, logs, loss):
    for got, want in zip(net.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert logs["loss"] == pytest.approx(loss, rel=1e-5)


def test_plain_step_is_one_sgd_step_on_the_cross_entropy():
    net, (x, y) = _net(), _batch()
    reference = _copy(net)
    _, logs = _trainer_step(net, x, y)
    _assert_same(net, reference, logs, _reference_step(reference, x, y))


def test_mixup_step_trains_on_the_batch_mixed_with_the_step_seed():
    net, (x, y) = _net(), _batch()
    reference = _copy(net)
    _, logs = _trainer_step(net, x, y, mixup_alpha=0.4)
    xm, ym, _, _ = sample_mixup(x, y, 0.4, tf.constant([SEED + 1, 0]))  # seed + 1, first step
    _assert_same(net, reference, logs, _reference_step(reference, xm, ym))


def _pgd_examples(net, x, y, adv):
    noise = start_noise(tf.shape(x), tf.constant([SEED + 2, 0]), x.dtype)
    return pgd_core(lambda z: net(z, training=False), x, y, eps=adv.eps, steps=adv.steps, step_size=adv.step_size,
                    clip_min=adv.value_range[0], clip_max=adv.value_range[1], noise=noise)


def test_adversarial_step_trains_on_pgd_examples_made_in_inference_mode():
    net, (x, y) = _net(batch_norm=True), _batch()
    reference = _copy(net)
    adv = AdversarialTraining(eps=0.1, steps=3, step_size=0.04)
    _, logs = _trainer_step(net, x, y, adversarial=adv)
    x_adv = _pgd_examples(reference, x, y, adv)
    # clean_weight 0: the batch is the adversarial examples alone (batch norm sees no clean rows)
    _assert_same(net, reference, logs, _reference_step(reference, x_adv, y))


def test_clean_weight_weighs_the_clean_and_adversarial_losses():
    net, (x, y) = _net(), _batch()
    reference = _copy(net)
    adv = AdversarialTraining(eps=0.1, steps=2, step_size=0.05, clean_weight=0.25)
    _, logs = _trainer_step(net, x, y, adversarial=adv)
    x_adv = _pgd_examples(reference, x, y, adv)
    n = int(x.shape[0])
    # (1 - w) * mean L(x_adv) + w * mean L(x), as one mean over the 2n rows with weights 2(1 - w) and 2w
    weights = tf.concat([tf.fill([n], 2 * 0.75), tf.fill([n], 2 * 0.25)], 0)
    loss = _reference_step(reference, tf.concat([x_adv, x], 0), tf.concat([y, y], 0), weights)
    _assert_same(net, reference, logs, loss)


class _ShiftWhenTraining(keras.layers.Layer):
    """A deterministic 'augmentation': adds 0.5 in training mode only."""

    def call(self, x, training=None):
        return x + 0.5 if training else x


def test_augmentation_then_mixup_then_attack_in_that_order():
    net, (x, y) = _net(), _batch()
    reference = _copy(net)
    adv = AdversarialTraining(eps=0.1, steps=2, step_size=0.05, value_range=(-2.0, 2.0))
    _, logs = _trainer_step(net, x, y, augmenter=_ShiftWhenTraining(name="shift"), mixup_alpha=0.3, adversarial=adv)
    xm, ym, _, _ = sample_mixup(x + 0.5, y, 0.3, tf.constant([SEED + 1, 0]))
    x_adv = _pgd_examples(reference, xm, ym, adv)
    _assert_same(net, reference, logs, _reference_step(reference, x_adv, ym))


def test_calling_the_trainer_is_inference_unless_told_otherwise():
    net, (x, _) = _net(dropout=0.5, batch_norm=True), _batch()
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3))
    np.testing.assert_allclose(trainer(x).numpy(), net(x, training=False).numpy(), rtol=1e-6)
    assert not np.allclose(trainer(x, training=True).numpy(), trainer(x).numpy())


def test_logged_accuracy_is_on_the_batch_it_trained_on():
    net, (x, y) = _net(), _batch(n=32, seed=3)
    predictions = net(x, training=True).numpy()  # no dropout: training mode changes nothing here
    _, logs = _trainer_step(net, x, y)
    assert logs["accuracy"] == pytest.approx(np.mean(predictions.argmax(1) == y.numpy().argmax(1)))


def test_logged_loss_is_the_mean_over_examples_when_the_last_batch_is_smaller():
    net, (x, y) = _net(), _batch(n=10, seed=4)
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3))
    trainer.compile(optimizer=keras.optimizers.SGD(0.0), loss=CE)  # frozen: every batch sees the same weights
    history = trainer.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # batches of 4, 4 and 2
    per_example = keras.losses.categorical_crossentropy(y, net(x), from_logits=True).numpy()
    assert history.history["loss"][0] == pytest.approx(per_example.mean(), rel=1e-5)


def test_sample_weights_reach_weighted_metrics_as_keras_defines_them():
    """With clean_weight, ``weighted_metrics`` weigh adversarial and clean rows like the loss; ``metrics`` do not."""
    net, (x, y) = _net(), _batch(n=16, seed=5)
    reference = _copy(net)
    adv = AdversarialTraining(eps=0.3, steps=3, step_size=0.15, clean_weight=0.25)
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3, seed=SEED, adversarial=adv))
    trainer.compile(optimizer=keras.optimizers.SGD(LR), loss=CE, metrics=["accuracy"],
                    weighted_metrics=[keras.metrics.CategoricalAccuracy(name="weighted_accuracy")])
    logs = trainer.train_on_batch(x, y, return_dict=True)
    x_adv = _pgd_examples(reference, x, y, adv)
    right = lambda z: np.mean(reference(z).numpy().argmax(1) == y.numpy().argmax(1))
    clean, attacked = right(x), right(x_adv)
    assert clean != attacked
    assert logs["weighted_accuracy"] == pytest.approx(0.75 * attacked + 0.25 * clean, abs=1e-6)
    assert logs["accuracy"] == pytest.approx(0.5 * attacked + 0.5 * clean, abs=1e-6)


class _CountTrainingCalls(keras.layers.Layer):
    """Counts the forward passes in training mode that the step builds (at trace time)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x, training=None):
        self.calls += bool(training)
        return x


def test_sam_takes_a_second_forward_pass_only_when_rho_is_positive():
    calls = {}
    for rho in (0.0, 0.1):
        keras.utils.set_random_seed(0)
        counter = _CountTrainingCalls(name="count")
        inputs = keras.Input((4, 4, 3))
        net = keras.Model(inputs, keras.layers.Dense(3, name="logits")(counter(keras.layers.Flatten()(inputs))))
        _trainer_step(net, *_batch(), sam_rho=rho)
        calls[rho] = counter.calls
    assert calls[0.1] == 2 * calls[0.0] > 0


def test_trainer_is_named_after_its_network_and_passes_keras_arguments_on():
    net = _net()
    assert ClassifierTrainer(net, TrainConfig(num_classes=3)).name == net.name + "_trainer"
    named = ClassifierTrainer(net, TrainConfig(num_classes=3), name="mine", trainable=False)
    assert named.name == "mine" and named.trainable is False


def test_default_seed_is_zero_and_seeds_wrap_into_int32():
    net = _net()
    assert ClassifierTrainer(net, TrainConfig(num_classes=3)).seed == 0
    assert ClassifierTrainer(net, TrainConfig(num_classes=3, seed=2 ** 31 + 5)).seed == 5
    assert ClassifierTrainer(net, TrainConfig(num_classes=3, seed=-1)).seed == 2 ** 31 - 1
    assert ClassifierTrainer(net, TrainConfig(num_classes=3, seed=2 ** 31 - 1)).seed == 2 ** 31 - 1


@pytest.mark.parametrize("bad", [dict(mixup_alpha=-0.1), dict(sam_rho=-0.1), dict(mixup_alpha=-1, sam_rho=-1)])
def test_negative_mixup_alpha_or_sam_rho_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"(mixup_alpha|sam_rho) must be >= 0 \(0 = off\), got -"):
        TrainConfig(num_classes=3, **bad)


def test_zero_and_fractional_settings_are_accepted_and_kept():
    net = _net()
    off = ClassifierTrainer(net, TrainConfig(num_classes=3))
    assert (off.mixup_alpha, off.sam_rho, off.augmenter, off.adversarial) == (0.0, 0.0, None, None)
    adv = AdversarialTraining(eps=0.1, steps=1, step_size=0.1)
    on = ClassifierTrainer(net, TrainConfig(num_classes=3, mixup_alpha=0.5, sam_rho=0.05, adversarial=adv),
                           augmenter="aug")
    assert (on.mixup_alpha, on.sam_rho, on.augmenter, on.adversarial) == (0.5, 0.05, "aug", adv)
    assert on.net is net and on.example_batch is None


def test_output_kind_reaches_logits_of_a_network_whose_softmax_is_hidden():
    inputs = keras.Input((4, 4, 3))
    h = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
    hidden = keras.Model(inputs, keras.layers.Lambda(lambda z: keras.ops.softmax(z))(h))
    x, _ = _batch()
    assert ClassifierTrainer(hidden,
                             TrainConfig(num_classes=3)).logits_net is hidden  # no softmax found: taken as logits
    trainer = ClassifierTrainer(hidden, TrainConfig(num_classes=3, output_kind="probabilities"))
    np.testing.assert_allclose(trainer(x), np.log(hidden(x)), rtol=1e-5, atol=1e-6)


def test_progressive_resizing_shrinks_the_batches_of_the_first_steps_only():
    """``low_res = (size, steps)``: the augmented batch is resized to size x size while the optimizer has taken
    fewer than ``steps`` steps, and passed on as it is from then on (a resumed run's counter says where it is)."""
    inputs = keras.Input((None, None, 3))
    net = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs)))
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3))
    trainer.compile(optimizer=keras.optimizers.SGD(LR), loss=CE)
    trainer.low_res = (2, 5)
    x, y = _batch()
    shapes = {}
    for step in (0, 4, 5, 9):
        trainer.optimizer.iterations.assign(step)
        x_out, _, _ = trainer.prepare_batch(x, y)
        shapes[step] = tuple(x_out.shape)
    assert shapes == {0: (8, 2, 2, 3), 4: (8, 2, 2, 3), 5: (8, 4, 4, 3), 9: (8, 4, 4, 3)}
    trainer.optimizer.iterations.assign(9)
    np.testing.assert_array_equal(trainer.prepare_batch(x, y)[0], x)  # full size: untouched
    trainer.optimizer.iterations.assign(0)
    small = trainer.prepare_batch(x, y)[0]  # antialiased, so a shrunk batch is a smaller view, not an aliased one
    np.testing.assert_allclose(small, tf.image.resize(x, (2, 2), antialias=True), atol=1e-6)
