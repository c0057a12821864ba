"""A training wrapper whose ``train_step`` adds augmentation, mixup, SAM and adversarial examples.

The wrapped network stays a plain functional model: only ``trainer.net`` is ever saved,
so the ``.h5`` file loads anywhere without custom code, while all training logic lives here.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from coursekit.attacks.core import pgd_core, start_noise
from coursekit.keras_compat import (BuildFromExampleBatch, distribute_strategy_of, in_multi_worker_mode,
                                    unscale_loss_for_distribution)
from coursekit.nets.network import network_view
from coursekit.training.mixup import MIXUP_KEY, MIXUP_LAM, mix_batch, sample_mixup
from coursekit.training.sam import sam_update


@dataclass(frozen=True)
class AdversarialTraining:
    """PGD adversarial training (Madry et al., 2018) settings.

    ``clean_weight`` in [0, 1) mixes the clean loss in: ``(1 - w) * L(x_adv) + w * L(x)``.
    """
    eps: float = 0.0313
    steps: int = 10
    step_size: float = 0.002
    value_range: tuple = (-1.0, 1.0)
    clean_weight: float = 0.0

    def __post_init__(self):
        if not self.eps >= 0 or int(self.steps) != self.steps or self.steps < 1 or not self.step_size > 0:
            raise ValueError(f"AdversarialTraining needs eps >= 0, steps >= 1 and step_size > 0, got {self}")
        if not 0 <= self.clean_weight < 1:
            raise ValueError(f"clean_weight must be in [0, 1), got {self.clean_weight}")


class ClassifierTrainer(BuildFromExampleBatch):
    """Trains ``net`` (a functional classifier) on one-hot labels with optional extras.

    Args:
        net: the functional model to train (its logits are reached via ``network_view``).
        config: a ``TrainConfig``; the step reads its ``mixup_alpha`` (Beta(alpha, alpha) mixup of the
            augmented batch), ``sam_rho`` (SAM radius), ``adversarial`` (an ``AdversarialTraining``: PGD
            examples made in inference mode), ``seed`` (mixup draws and PGD starts, with the step counter;
            taken modulo 2**31) and ``output_kind`` (``'probabilities'`` for a network whose softmax cannot
            be found: its ``log(p)`` is trained on). 0 / ``None`` turn each off.
        augmenter: a Keras layer applied with ``training=True`` to each training batch.
        **kwargs: ``keras.Model`` arguments; ``name`` defaults to ``net.name + '_trainer'``.
    The trainer outputs logits; compile it with a ``from_logits=True`` loss.
    """

    def __init__(self, net, config, augmenter=None, **kwargs):
        super().__init__(name=kwargs.pop("name", net.name + "_trainer"), **kwargs)
        self.net = net
        self.logits_net = network_view(net, kind=config.output_kind, warn=False).logits
        self.augmenter = augmenter
        self.mixup_alpha = float(config.mixup_alpha)
        self.sam_rho = float(config.sam_rho)
        self.adversarial = config.adversarial
        self.seed = int(config.seed) % (2 ** 31)
        self.low_res = None  # (size, steps): fit_classifier sets it from config.progressive_resizing
        self.example_batch = None  # (x, one-hot y) numpy rows: builds the trainer under a strategy (below)

    def call(self, x, training=False):
        return self.logits_net(x, training=training)

    def _step_seed(self, salt):
        return tf.stack([tf.constant(self.seed + salt, tf.int32), tf.cast(self.optimizer.iterations, tf.int32)])

    def prepare_batch(self, x, y, draws=None):
        """Augment, mix and attack one training batch, in that order, as configured.

        ``draws`` are the batch's mixup draws from the input pipeline (``pipelines.training_dataset``);
        without them they are drawn here, which XLA cannot compile."""
        if self.augmenter is not None:
            x = self.augmenter(x, training=True)
        if self.low_res is not None:
            x = self._resized_early(x, *self.low_res)
        if self.mixup_alpha > 0:
            if draws is not None and MIXUP_LAM in draws:
                x, y = mix_batch(x, y, draws[MIXUP_LAM], tf.argsort(draws[MIXUP_KEY]))
            else:
                x, y, _, _ = sample_mixup(x, y, self.mixup_alpha, self._step_seed(1))
        if self.adversarial is not None:
            a = self.adversarial
            x_adv = pgd_core(lambda z: self.logits_net(z, training=False), x, tf.cast(y, x.dtype), eps=a.eps,
                             steps=a.steps, step_size=a.step_size, clip_min=a.value_range[0],
                             clip_max=a.value_range[1], noise=start_noise(tf.shape(x), self._step_seed(2), x.dtype))
            return x, x_adv, y
        return x, None, y

    def _resized_early(self, x, size, steps):
        """``x`` resized to ``size`` x ``size`` during the first ``steps`` optimizer steps, else as it is.

        Read from the step counter, so a resumed run resizes exactly where an uninterrupted one would."""
        # the branches' shapes differ, so the traced step sees an unknown height and width and serves both phases
        return tf.cond(self.optimizer.iterations < steps,
                       lambda: tf.image.resize(x, [size, size], antialias=True), lambda: x)

    def train_step(self, data):
        x, y = data[0], data[1]
        draws = data[2] if len(data) > 2 and isinstance(data[2], dict) else None
        x_clean, x_adv, y = self.prepare_batch(x, y, draws)
        adv = self.adversarial
        if adv is not None and adv.clean_weight > 0:
            w = adv.clean_weight
            n = tf.shape(y)[0]
            x_in = tf.concat([x_adv, x_clean], 0)
            y_in = tf.concat([y, y], 0)
            weights = tf.concat([tf.fill([n], 2 * (1 - w)), tf.fill([n], 2 * w)], 0)
        else:
            x_in, y_in, weights = (x_adv if adv is not None else x_clean), y, None

        def loss_fn(y_true, y_pred):
            return self.compute_loss(x=x_in, y=y_true, y_pred=y_pred, sample_weight=weights)

        if self.sam_rho > 0:
            loss, y_pred = sam_update(self, loss_fn, x_in, y_in, self.sam_rho, self.optimizer,
                                      stat_vars=self.net.non_trainable_variables)
        else:
            with tf.GradientTape() as tape:
                y_pred = self(x_in, training=True)
                loss = loss_fn(y_in, y_pred)
                scaled = self.optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
        return self._update_metrics(loss, y_in, y_pred, weights)

    def test_step(self, data):
        return self._shaped_for_reduction(super().test_step(data))

    def _update_metrics(self, loss, y, y_pred, weights):
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(unscale_loss_for_distribution(loss), sample_weight=tf.shape(y)[0])
            else:
                metric.update_state(y, y_pred, sample_weight=weights)
        return self._shaped_for_reduction(self.get_metrics_result())

    def _shaped_for_reduction(self, logs):
        # Keras 3.15 averages each step's logs across workers with reduce("MEAN", axis=0), which fails on
        # scalars ("Invalid reduction dimension 0", tensorflow/tensorflow#72388): give them one axis there.
        if in_multi_worker_mode(distribute_strategy_of(self)):
            return {key: tf.reshape(value, [1]) for key, value in logs.items()}
        return logs
