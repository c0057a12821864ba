"""The template's face: DefaultModel / YourModel used as the notebook cells use them."""
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import models
from coursekit.training.augmentation import Augmentation
from models import DefaultModel, YourModel

TEMPLATE_ORDER = ["name", "width", "height", "depth", "num_blocks", "feature_maps", "num_classes", "drop_rate",
                  "batch_norm", "is_augmentation", "activation_func", "use_skip", "optimizer", "batch_size",
                  "num_epochs", "learning_rate", "verbose"]


def test_positional_order_and_defaults_are_the_templates():
    params = inspect.signature(DefaultModel.__init__).parameters
    positional = [p for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD][1:]
    assert [p.name for p in positional] == TEMPLATE_ORDER
    assert [p.default for p in positional] == ['network1', 32, 32, 3, 2, 32, 4, 0.2, None, False, 'relu', True,
                                               'adam', 10, 20, 0.0001, True]


def test_your_models_defaults_are_the_recipe_the_readme_lists():
    import ast
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### YourModel's defaults (the recipe)")[1].split("\n#")[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    listed = {name.strip().strip("`"): ast.literal_eval(value.strip().strip("`")) for name, value in rows}
    assert listed == YourModel.DEFAULTS
    params = inspect.signature(YourModel).parameters
    assert {name: params[name].default for name in listed} == listed
    positional = [p.name for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == TEMPLATE_ORDER   # the template's order, as DefaultModel's
    model = YourModel(num_classes=3)
    config = model.train_config()
    assert (model.num_blocks, model.batch_norm, config.epochs, config.batch_size, config.schedule, config.augment,
            config.weight_decay, config.label_smoothing, config.patience) == (3, True, 60, 32, "cosine", "crops", 0.05,
                                                                              0.1, None)
    assert config.augmentation == Augmentation.crops() and config.mixup_alpha == 0.2
    positional_call = YourModel("n", 32, 32, 3, 2)   # positional arguments still land on the template's names
    assert (positional_call.name, positional_call.num_blocks, positional_call.learning_rate) == ("n", 2, 1e-3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_blocks=6), "num_blocks=6"),
    (dict(optimizer="adamw2"), "unknown optimizer 'adamw2'"),
    (dict(activation_func="relux"), "unknown activation_func 'relux'"),
    (dict(num_classes=1), "num_classes"),
    (dict(drop_rate=1.0), "drop_rate"),
    (dict(learning_rate=0), "learning_rate"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        YourModel(**kwargs)


def test_methods_before_build_say_what_to_do():
    with pytest.raises(RuntimeError, match="build_cnn"):
        DefaultModel().summary()
    with pytest.raises(RuntimeError, match="fit"):
        DefaultModel().plot_progress()


class SeedYourModel(DefaultModel):
    """The Q3.2 cell verbatim, with a build_cnn a student might write."""

    def __init__(self,
                 name='network1',
                 width=32, height=32, depth=3,
                 num_blocks=2,
                 feature_maps=32,
                 num_classes=4,
                 drop_rate=0.2,
                 batch_norm=None,
                 is_augmentation=False,
                 activation_func='relu',
                 use_skip=True,
                 optimizer='adam',
                 batch_size=10,
                 num_epochs=20,
                 learning_rate=0.0001,
                 verbose=True):
        super(SeedYourModel, self).__init__(name, width, height, depth, num_blocks, feature_maps, num_classes,
                                            drop_rate, batch_norm, is_augmentation, activation_func, use_skip,
                                            optimizer, batch_size, num_epochs, learning_rate, verbose)

    def build_cnn(self):
        self.model = models.residual_cnn(self.width, self.height, self.depth, self.num_blocks, self.feature_maps,
                                         self.num_classes, self.drop_rate, self.batch_norm, self.activation_func,
                                         self.use_skip)


def test_seed_subclass_passing_arguments_positionally_trains_one_epoch(blobs_manager):
    net = SeedYourModel(name='network1', width=16, height=16, num_classes=len(blobs_manager.classes),
                        num_blocks=2, feature_maps=8, batch_norm=True, optimizer='adam', learning_rate=0.01,
                        verbose=False)
    assert (net.num_blocks, net.feature_maps, net.batch_norm, net.learning_rate) == (2, 8, True, 0.01)
    net.build_cnn()
    net.fit(blobs_manager, batch_size=16, num_epochs=1)
    assert len(net.history.history["loss"]) == 1
    assert set(net.history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_template_cells_fit_evaluate_predict_plot(blobs_manager, tmp_path, capsys):
    network1 = DefaultModel(name='network1', width=16, height=16, num_classes=len(blobs_manager.classes),
                            optimizer='adam', batch_size=128, num_epochs=20, learning_rate=0.003)
    network1.build_cnn()
    network1.summary()
    network1.fit(blobs_manager, batch_size=16, num_epochs=3)
    out = capsys.readouterr().out
    n_train, n_valid = len(blobs_manager.y_train), len(blobs_manager.y_valid)
    assert f"Train on {n_train} samples, validate on {n_valid} samples" in out
    assert "\x1b" not in out and "\x08" not in out  # logs stay readable off a terminal
    acc = network1.compute_accuracy(blobs_manager.X_test, blobs_manager.y_test)
    assert isinstance(acc, float) and acc > 0.8
    pred = network1.predict(blobs_manager.X_test[0:10])
    assert pred.dtype == np.int64 and pred.shape == (10,)
    network1.plot_progress(save_path=tmp_path / "progress.png")
    network1.plot_prediction(blobs_manager.X_test, blobs_manager.y_test, blobs_manager.classes,
                             save_path=tmp_path / "pred.png")
    assert (tmp_path / "progress.png").stat().st_size > 1000 and (tmp_path / "pred.png").stat().st_size > 1000


def test_h5_round_trip_predicts_identically_in_a_new_process_and_trains_further(blobs_manager, tmp_path):
    net = YourModel(name="roundtrip", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8,
                    batch_norm=True, learning_rate=0.01, verbose=False)
    net.fit(blobs_manager, batch_size=16, num_epochs=1)
    path = net.save(tmp_path / "roundtrip.h5")
    np.save(tmp_path / "x.npy", blobs_manager.X_test)
    before = net.predict_proba(blobs_manager.X_test)
    code = ("import sys, numpy as np; sys.path.insert(0, sys.argv[3]); from coursekit.nets.saving import load_h5; "
            "m = load_h5(sys.argv[1]); np.save(sys.argv[2], m.predict(np.load(sys.argv[2] + '.in.npy'), verbose=0))")
    os.replace(tmp_path / "x.npy", tmp_path / "p.npy.in.npy")
    subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "p.npy"),
                    os.path.dirname(os.path.dirname(__file__))], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), before)

    again = YourModel(name="again", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8,
                      batch_norm=True, learning_rate=0.01, verbose=False)
    again.load(path)
    np.testing.assert_array_equal(again.predict_proba(blobs_manager.X_test), before)
    again.fit(blobs_manager, batch_size=16, num_epochs=1)  # Keras 3 refuses this unless loaded uncompiled
    assert not np.array_equal(again.predict_proba(blobs_manager.X_test), before)


def test_save_goes_to_saved_models_by_default_and_is_atomic(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = DefaultModel(name="atomic", width=8, height=8, num_classes=3)
    net.build_cnn()
    path = net.save()
    assert path == models.save_h5.__globals__["SAVED_MODELS_DIR"] / "atomic.h5" and path.is_file()
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(net.model, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        net.save()
    assert path.read_bytes() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["atomic.h5"]  # no temporary left behind
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        DefaultModel().load("nothing.h5")
    with pytest.raises(ValueError, match=r"\.h5 .* or \.keras"):
        net.save("model.pt")


def test_data_that_does_not_fit_the_network_is_refused_with_the_fix(blobs_manager):
    with pytest.raises(ValueError, match=r"images are \(16, 16, 3\).*width=16, height=16"):
        DefaultModel(num_classes=3, verbose=False).fit(blobs_manager, num_epochs=1)
    with pytest.raises(ValueError, match="num_classes=len\\(data_manager.classes\\)"):
        DefaultModel(width=16, height=16, num_classes=2, verbose=False).fit(blobs_manager, num_epochs=1)


def test_flip_tta_averages_the_probabilities_of_the_image_and_its_mirror():
    import keras

    # a network that sees where the bright half of the image is: mirroring swaps its two classes
    inputs = keras.Input((4, 4, 1))
    halves = keras.layers.Conv2D(2, (4, 4), use_bias=False, name="halves")(inputs)
    logits = keras.layers.Flatten()(halves)
    net = DefaultModel(width=4, height=4, depth=1, num_classes=2, verbose=False)
    net.model = keras.Model(inputs, logits)
    left = np.zeros((4, 4, 1, 2), np.float32)
    left[:, :2, 0, 0], left[:, 2:, 0, 1] = 1.0, 1.0
    net.model.get_layer("halves").set_weights([left])
    X = np.zeros((3, 4, 4, 1), np.float32)
    X[0, :, :2], X[1, :, 2:], X[2, :, :1] = 1.0, 1.0, 0.5
    plain, mirrored = net.predict_proba(X), net.predict_proba(X[:, :, ::-1])
    assert (plain.argmax(1) == [0, 1, 0]).all() and (mirrored.argmax(1) == [1, 0, 1]).all()
    np.testing.assert_allclose(net.predict_proba(X, flip_tta=True), (plain + mirrored) / 2, rtol=1e-6)
    np.testing.assert_allclose(net.predict_proba(X, flip_tta=True), 0.5, rtol=1e-6)  # this network: a tie
    assert net.compute_accuracy(X, [0, 1, 0]) == 1.0 and net.predict(X, flip_tta=True).shape == (3,)
    assert net.compute_accuracy(X, [0, 1, 0], flip_tta=True) < 1.0
