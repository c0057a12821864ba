import numpy as np
import pytest
import tensorflow as tf

from coursekit.nets.architectures import residual_cnn
from coursekit.training.augmentation import Augmentation, build_augmenter
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


def _square(size=32):
    x = np.zeros((16, size, size, 1), np.float32)
    x[:, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1.0
    return x


def test_a_zoom_range_of_negatives_only_crops_in_and_of_positives_only_zooms_out():
    x = _square()
    only = dict(flip=None, translation=0, rotation=0, contrast=0)
    crops = np.asarray(build_augmenter((0.0, 1.0), seed=0, zoom=(-0.4, -0.2), **only)(x, training=True))
    outs = np.asarray(build_augmenter((0.0, 1.0), seed=0, zoom=(0.2, 0.4), **only)(x, training=True))
    # the centred square grows by 1/(1-z) per side when cropped in, shrinks when zoomed out
    assert (crops.sum(axis=(1, 2, 3)) > 1.3 * x[0].sum()).all()
    assert (outs.sum(axis=(1, 2, 3)) < 0.8 * x[0].sum()).all()


def test_augmentation_settings_are_checked_described_and_become_the_augmenter():
    strong = Augmentation(zoom=[-0.3, 0.1])
    assert strong.zoom == (-0.3, 0.1) and strong.describe() == ("flip, translation 0.1, rotation 0.05, "
                                                                "zoom (-0.3, 0.1), contrast 0.1")
    assert Augmentation(flip=None, translation=0, rotation=0, zoom=0, contrast=0).describe() == "none"
    names = [layer.__class__.__name__ for layer in build_augmenter(**strong.as_kwargs()).layers]
    assert names == ["RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomContrast"]
    zoom = build_augmenter(**strong.as_kwargs()).layers[3]
    assert (zoom.height_factor, zoom.width_factor) == ((-0.3, 0.1), (-0.3, 0.1))
    for bad, match in ((dict(zoom=(0.2, -0.2)), "low <= high"), (dict(zoom=1.5), r"zoom must be in \[0, 1\)"),
                       (dict(flip="diagonal"), "flip must be"), (dict(rotation=-0.1), "rotation must be")):
        with pytest.raises(ValueError, match=match):
            Augmentation(**bad)


def test_train_config_takes_true_for_the_template_set_or_an_augmentation():
    assert TrainConfig(num_classes=3, augment=True).augmentation == Augmentation()
    assert TrainConfig(num_classes=3).augmentation is None
    strong = TrainConfig(num_classes=3, augment=Augmentation(zoom=(-0.3, 0.1)))
    assert strong.fingerprint() != strong.replace(augment=Augmentation(zoom=(-0.2, 0.1))).fingerprint()
    assert TrainConfig(num_classes=3, augment="crops").augmentation == Augmentation.crops()
    for bad in ({"zoom": 0.3}, "crop"):
        with pytest.raises(ValueError, match=r"augment must be True, False, 'crops' or an Augmentation"):
            TrainConfig(num_classes=3, augment=bad)


def test_fit_trains_with_the_configured_augmentation(monkeypatch):
    from coursekit.training import fit as fit_module

    built = []
    real = fit_module.build_augmenter
    monkeypatch.setattr(fit_module, "build_augmenter", lambda *a, **k: built.append(k) or real(*a, **k))
    x = _images(16)
    y = np.arange(16) % 3
    net = residual_cnn(16, 16, 3, num_blocks=1, feature_maps=4, num_classes=3)
    config = TrainConfig(num_classes=3, epochs=1, batch_size=8, augment=Augmentation(zoom=(-0.3, 0.1)), verbose=False)
    fit_module.fit_classifier(net, (x, y), None, config)
    assert built and built[0]["zoom"] == (-0.3, 0.1) and built[0]["seed"] == 0


def test_crops_shift_whole_pixels_per_image_with_the_border_reflected():
    crops = Augmentation.crops()
    assert crops.describe() == "flip, translation 0.1875, nearest resampling"
    x = np.tile(np.arange(16, dtype=np.float32)[None, None, :, None], (32, 16, 1, 3))  # column index as value
    out = np.asarray(build_augmenter((0.0, 15.0), seed=5, **crops.as_kwargs())(x, training=True))
    assert set(np.unique(out)) <= set(range(16))  # nearest: every value is a pixel of the image, no blend
    rows = out[:, 8, :, 0]
    steps = np.abs(np.diff(rows, axis=1))
    assert (steps <= 1).all()  # neighbours stay neighbours: a shift (maybe flipped), reflected at the border
    assert len({tuple(r) for r in rows}) > 4  # each image its own shift and flip
    assert (rows != np.arange(16)).any(axis=1).mean() > 0.5
    blurred = np.asarray(build_augmenter((0.0, 15.0), seed=5, flip=None, translation=0.125, rotation=0, zoom=0,
                                         contrast=0)(x, training=True))
    assert not set(np.unique(blurred)) <= set(range(16))  # bilinear (the default) blends neighbours
    with pytest.raises(ValueError, match="interpolation must be one of bilinear, nearest"):
        Augmentation(interpolation="bicubic")
