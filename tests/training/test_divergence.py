import keras
import numpy as np
import pytest

from coursekit.training.config import TrainConfig
from coursekit.training.fit import fit_classifier


class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A sane rate for the first ``calm_steps`` steps, then one that overflows the weights."""

    def __init__(self, calm_steps):
        self.calm_steps = calm_steps

    def __call__(self, step):
        return keras.ops.where(step < self.calm_steps, 0.01, 1e30)


def _mlp():
    inputs = keras.Input((8,))
    x = keras.layers.Dense(16, activation="relu")(inputs)
    x = keras.layers.Dense(16, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x), name="tiny_mlp")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, (64, 8)).astype(np.float32), rng.integers(0, 3, 64)


class WeightsAtEpochEnd(keras.callbacks.Callback):
    def __init__(self, net):
        super().__init__()
        self.net, self.seen = net, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append([w.copy() for w in self.net.get_weights()])


def test_a_diverging_epoch_stops_training_and_puts_back_the_weights_from_before_it(data, capsys):
    x, y = data
    net = _mlp()
    recorder = WeightsAtEpochEnd(net)
    history = fit_classifier(net, (x, y), (x, y), TrainConfig(num_classes=3, batch_size=16, epochs=6, verbose=False,
                                                              optimizer=keras.optimizers.SGD(StepSchedule(calm_steps=8))), callbacks=[recorder])
    assert history.diverged_epoch == 3  # 4 steps an epoch: the rate jumps in epoch 3
    assert len(history.history["loss"]) == 3 and not np.isfinite(history.history["loss"][-1])
    assert np.all(np.isfinite(history.history["loss"][:2]))
    for kept, end_of_epoch_2, seen_at_epoch_3 in zip(net.get_weights(), recorder.seen[1], recorder.seen[2]):
        np.testing.assert_array_equal(kept, end_of_epoch_2)
        np.testing.assert_array_equal(seen_at_epoch_3, end_of_epoch_2)  # the user's callbacks too
    assert np.all(np.isfinite(net.predict(x, verbose=0)))
    printed = capsys.readouterr().out
    assert "Epoch 3: the training loss of tiny_mlp became nan" in printed
    assert "weights from before epoch 3" in printed and "SGD at learning rate 1e+30: try 1e+29" in printed


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_early_stopping_never_keeps_the_overflowed_weights(data, monitor):
    """Validation labels all class 0, which is what a network of NaN weights "predicts" (argmax of NaNs):
    the diverged epoch has the best validation accuracy, and early stopping must not keep its weights."""
    x, y = data
    net = _mlp()
    history = fit_classifier(net, (x, y), (x, np.zeros_like(y)), TrainConfig(num_classes=3, batch_size=16, epochs=6,
                                                                             verbose=False, patience=5,
                                                                             monitor=monitor,
                                                                             optimizer=keras.optimizers.SGD(StepSchedule(calm_steps=4))))
    assert history.diverged_epoch == 2 and history.stopped_epoch is None
    if monitor == "val_accuracy":
        assert history.history["val_accuracy"][1] == 1.0 > history.history["val_accuracy"][0]
    assert all(np.all(np.isfinite(w)) for w in net.get_weights())


def test_a_run_that_stays_finite_runs_every_epoch_and_says_nothing(data, capsys):
    x, y = data
    history = fit_classifier(_mlp(), (x, y), None, TrainConfig(num_classes=3, batch_size=16, epochs=3, verbose=False,
                                                               optimizer="sgd", learning_rate=0.01))
    assert history.diverged_epoch is None and len(history.history["loss"]) == 3
    assert "training loss" not in capsys.readouterr().out


def test_the_templates_default_model_at_its_learning_rate_stops_with_the_explanation(capsys):
    """The template's cell [8] settings (SGD, 0.5) on images in [-1, 1]: the weights overflow in epoch 1."""
    from models import AnimalsDatasetManager, DefaultModel, SimplePreprocessor, create_label_folder_dict
    from coursekit.datasets.digits import render_digits_folder

    # SGD at 0.5 sits at the edge of overflow: on these 600 images whether it overflows turns on the last bit of
    # the pixel values (float32 images overflow in epoch 2; the same images rounded from float64 sit at chance
    # for 20 epochs), so the test fixes the float32 images
    manager = AnimalsDatasetManager([SimplePreprocessor(32, 32)], random_state=6789, dtype=np.float32)
    manager.load(create_label_folder_dict(render_digits_folder()), max_num_images=60, verbose=-1)
    manager.process_data_label()
    manager.train_valid_test_split()
    network1 = DefaultModel(name="network1", num_classes=len(manager.classes), optimizer="sgd", batch_size=128,
                            num_epochs=20, learning_rate=0.5, verbose=False)
    network1.build_cnn()
    history = network1.fit(manager, batch_size=16, num_epochs=20)
    assert history.diverged_epoch is not None and len(history.history["loss"]) == history.diverged_epoch < 20
    assert np.all(np.isfinite(network1.predict(manager.X_test[:4])))
    assert "SGD at learning rate 0.5: try 0.05" in capsys.readouterr().out


def test_the_advice_names_the_optimizer_in_use(data, capsys):
    x, y = data
    history = fit_classifier(_mlp(), (x, y), None, TrainConfig(num_classes=3, batch_size=16, epochs=3, verbose=False,
                                                               optimizer=keras.optimizers.Adam(StepSchedule(calm_steps=0))))
    assert history.diverged_epoch == 1
    printed = capsys.readouterr().out
    assert "(Adam at learning rate 1e+30: try 1e+29)." in printed and "adaptive" not in printed


def test_the_learning_curves_show_where_and_why_they_end(data):
    import matplotlib

    matplotlib.use("Agg")
    from coursekit.report.plots import plot_comparison, plot_progress

    x, y = data
    history = fit_classifier(_mlp(), (x, y), (x, y), TrainConfig(num_classes=3, batch_size=16, epochs=6,
                                                                 verbose=False,
                                                                 optimizer=keras.optimizers.SGD(StepSchedule(calm_steps=8))))
    for fig in (plot_progress(history), plot_comparison({"run": history})):
        loss_ax = fig.axes[0]
        assert "loss not finite in epoch 3" in loss_ax.get_xlabel()
        assert any(list(line.get_xdata()) == [3, 3] for line in loss_ax.lines)  # the marker at epoch 3
