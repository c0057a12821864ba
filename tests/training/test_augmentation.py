import numpy as np
import tensorflow as tf

from coursekit.nets.architectures import residual_cnn
from coursekit.training.augmentation import build_augmenter
from coursekit.training.config import TrainConfig
from coursekit.training.trainer import ClassifierTrainer


def _images(n=8, size=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype(np.float32)


def test_changes_images_in_training_only_and_keeps_the_value_range():
    x = _images()
    aug = build_augmenter((-1.0, 1.0), seed=3)
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape
    assert not np.allclose(out, x)
    assert out.min() >= -1.0 - 1e-5 and out.max() <= 1.0 + 1e-5
    assert out.min() < -0.5  # a [0, 255] contrast layer would have clipped negatives away
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)


def test_trainer_augments_training_batches_but_never_predictions():
    x = _images()
    y = tf.one_hot(np.arange(8) % 3, 3)
    net = residual_cnn(16, 16, 3, num_blocks=1, feature_maps=4, num_classes=3)
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3), augmenter=build_augmenter(seed=1))
    x_train, _, _ = trainer.prepare_batch(tf.constant(x), y)
    assert not np.allclose(np.asarray(x_train), x)
    np.testing.assert_allclose(np.asarray(trainer(x, training=False)),
                               np.asarray(trainer.logits_net(x, training=False)), rtol=1e-6)
    plain = ClassifierTrainer(net, TrainConfig(num_classes=3))
    np.testing.assert_array_equal(np.asarray(plain.prepare_batch(tf.constant(x), y)[0]), x)
