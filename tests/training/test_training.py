"""fit_classifier / DefaultModel.fit: early stopping, all techniques combined, reproducibility."""
import numpy as np
import pytest

from models import DefaultModel, YourModel


def _small(**kwargs):
    params = dict(name="small", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8, batch_norm=True,
                  learning_rate=0.01, batch_size=16, verbose=False)
    params.update(kwargs)
    return YourModel(**params)


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(blobs_manager):
    # a learning rate too small to change validation accuracy: the best epoch is the first
    net = _small(learning_rate=1e-9, patience=3, num_epochs=20)
    net.build_cnn()
    net.fit(blobs_manager)
    assert len(net.history.history["loss"]) == 4
    assert net.history.stopped_epoch == 4
    best_epoch = int(np.argmax(net.history.history["val_accuracy"]))
    acc = net.compute_accuracy(blobs_manager.X_valid, blobs_manager.y_valid)
    assert acc == pytest.approx(net.history.history["val_accuracy"][best_epoch], abs=1e-6)


def test_patience_none_runs_every_epoch_and_default_model_has_no_early_stopping(blobs_manager):
    net = _small(learning_rate=1e-9, patience=None, num_epochs=5)
    net.fit(blobs_manager)
    assert len(net.history.history["loss"]) == 5 and net.history.stopped_epoch is None
    assert DefaultModel().patience is None and YourModel().patience is None  # YourModel's recipe: a cosine run


def test_all_techniques_combine_in_one_fit(blobs_manager):
    net = _small(is_augmentation=True, mixup_alpha=0.2, sam_rho=0.05, patience=2, num_epochs=3)
    net.fit(blobs_manager, batch_size=32, num_epochs=3)
    trainer = net.history.trainer
    assert trainer.augmenter is not None and trainer.mixup_alpha == 0.2 and trainer.sam_rho == 0.05
    assert 1 <= len(net.history.history["loss"]) <= 3
    assert np.isfinite(net.history.history["loss"]).all()


def _history(data_manager, seed):
    net = _small(seed=seed, is_augmentation=True, mixup_alpha=0.2, num_epochs=2)
    net.fit(data_manager)
    return net.history.history, net.model.get_weights()


def test_same_seed_same_history_different_seed_different(blobs_manager):
    h1, w1 = _history(blobs_manager, 7)
    h2, w2 = _history(blobs_manager, 7)
    h3, _ = _history(blobs_manager, 8)
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1 != h3


def test_bad_fit_settings(blobs_manager):
    with pytest.raises(ValueError, match="patience"):
        _small(patience=0)
    with pytest.raises(ValueError, match="mixup_alpha"):
        _small(mixup_alpha=-1)


def test_one_logit_networks_train_as_binary_classifiers():
    import keras
    import numpy as np
    import pytest

    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (400, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    net = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(inputs)))
    history = fit_classifier(net, (x, y), (x, y), TrainConfig(num_classes=2, batch_size=32, epochs=15,
                                                              learning_rate=1e-2, verbose=False, patience=5))
    predicted = (net.predict(x, verbose=0)[:, 0] > 0).astype(np.int64)
    assert max(history.history["val_accuracy"]) == pytest.approx(np.mean(predicted == y), abs=1e-6)  # best restored
    assert np.mean(predicted == y) > 0.95
    with pytest.raises(ValueError, match="num_classes=2"):
        fit_classifier(net, (x, y), None, TrainConfig(num_classes=3, epochs=1, verbose=False))


def test_early_stopping_restores_the_best_epoch_not_the_last():
    import keras

    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier

    # validation labels are the training labels inverted: the better the net fits, the worse validation gets,
    # so the best epoch is early and the weights keep changing after it
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (256, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    net = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    snapshots = []
    keep = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(net.get_weights()))
    history = fit_classifier(net, (x, y), (x, 1 - y), TrainConfig(num_classes=2, batch_size=32, epochs=30,
                                                                  learning_rate=0.05, patience=3, verbose=False),
                             callbacks=[keep])
    val = history.history["val_accuracy"]
    best = int(np.argmax(val))
    assert best < len(val) - 1 and history.stopped_epoch == len(val)
    final = net.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(final, snapshots[best]))
    assert not all(np.allclose(a, b) for a, b in zip(final, snapshots[-1]))


@pytest.mark.parametrize("part, name", [("X_train", "training data x_train"), ("X_valid", "validation data x_valid")])
def test_nan_or_inf_in_the_data_is_refused_before_training(blobs_manager, part, name):
    from tests.conftest import ArrayDataManager

    arrays = {k: getattr(blobs_manager, k).copy() for k in ("X_train", "y_train", "X_valid", "y_valid",
                                                            "X_test", "y_test")}
    arrays[part][3, 0, 0, 0] = np.nan
    arrays[part][5, 1, 1, 1] = np.inf
    data = ArrayDataManager(**arrays, classes=blobs_manager.classes)
    model = _small(num_epochs=1)
    model.build_cnn()
    with pytest.raises(ValueError, match=f"{name} holds 1 NaN and 1 infinite values"):
        model.fit(data)
