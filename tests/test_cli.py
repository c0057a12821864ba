"""``python -m assignment``: the task list and an end-to-end run on a tiny image folder."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _run(args, cwd, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "assignment", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, **kwargs)


def test_help_lists_the_tasks(tmp_path):
    done = _run(["--help"], tmp_path)
    assert done.returncode == 0
    for assignment in ("FIT3181", "Technion", "DS 5220", "RecVis", "Students and instructors"):
        assert assignment in done.stdout
    for task in ("animals", "numerics", "fashion-mnist", "init-study", "magic", "imagenette", "mnist", "double-moon",
                 "conv-blocks", "cifar10", "check", "grade"):
        assert f"  {task} " in done.stdout, task


def test_every_task_shares_the_common_options_and_the_data_error_exit():
    import argparse

    from assignment import ASSIGNMENTS, load_task
    from assignment.common import data_errors

    for task in [t for tasks in ASSIGNMENTS.values() for t in tasks]:
        parser = argparse.ArgumentParser()
        load_task(task).add_arguments(parser)
        args = parser.parse_args(["--out", "somewhere", "--seed", "7"] + (["x.zip"] if task == "grade" else []))
        assert args.out == Path("somewhere") and getattr(args, "seed", getattr(args, "student_id", None)) == 7, task
    with pytest.raises(SystemExit, match=r"^error: no folder /nowhere: put the files there$"):
        with data_errors():
            raise FileNotFoundError("no folder /nowhere: put the files there")
    with pytest.raises(KeyError):   # anything else is a bug, not a data error: its traceback stays
        with data_errors():
            raise KeyError("x")


def _colour_folders(root, n=20):
    rng = np.random.default_rng(0)
    for c, colour in enumerate([(220, 30, 30), (30, 220, 30), (30, 30, 220)]):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(n):
            img = np.clip(rng.normal(colour, 40, (24, 24, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / f"class{c}" / f"{i:02d}.jpg")
    return root


def test_animals_task_runs_end_to_end_on_a_folder(tmp_path):
    data = _colour_folders(tmp_path / "Animals")
    done = _run(["animals", "--data", str(data), "--epochs", "1", "--out", "out", "--models-dir", "models"],
                tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Default model vs YourModel" in done.stdout
    rows = json.loads((tmp_path / "out" / "baseline.json").read_text())
    assert [r["model"].split()[0] for r in rows] == ["DefaultModel", "YourModel"]
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in rows)
    assert (tmp_path / "models" / "network1.h5").is_file() and (tmp_path / "models" / "your_model.h5").is_file()
    assert (tmp_path / "out" / "your_model_progress.png").is_file()
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["baseline"] == rows
    assert "\r" not in done.stdout and "\x1b" not in done.stdout


@pytest.mark.slow
def test_animals_task_runs_every_comparison_tuning_and_the_adversarial_part(tmp_path):
    data = _colour_folders(tmp_path / "Animals", n=30)
    done = _run(["animals", "--data", str(data), "--epochs", "1", "--adv-epochs", "1", "--out", "out",
                 "--models-dir", "models", "--compare-skip", "--tune", "--compare-augmentation", "--compare-mixup",
                 "--sam", "--adversarial"], tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    for key, runs in (("compare_skip", 2), ("compare_augmentation", 3), ("compare_mixup", 2), ("compare_sam", 2)):
        assert len(json.loads((out / f"{key}.json").read_text())) == runs, key  # augmentation: none, crops, template
        assert (out / f"{key}.png").is_file(), key
    assert len(json.loads((out / "tuning.json").read_text())) == 12
    robustness = json.loads((out / "robustness.json").read_text())
    assert [set(r) for r in robustness] == [{"model", "clean", "fgsm", "pgd", "mim"}] * 2
    assert (tmp_path / "models" / "animals_robust.h5").is_file() and (out / "adversarial_pgd.png").is_file()
    assert "loaded " in done.stdout  # the saved robust model was evaluated in a process of its own


def test_numerics_task_prints_every_value_with_its_formula(tmp_path):
    done = _run(["numerics", "--student-id", "1234", "--out", "plots"], tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for key in ("h1_bar", "probs", "loss_smoothed", "dl_dh1_bar", "dl_dW1", "W1_new", "b2_new"):
        assert f"  {key} = " in done.stdout
    assert "loss = 0.402016" in done.stdout  # id 1234, x = [1, -1, 1.5], y = 3 (checked against autodiff)
    assert (tmp_path / "plots" / "softplus.png").is_file()
    assert abs(json.loads((tmp_path / "plots" / "metrics.json").read_text())["loss"] - 0.402016) < 1e-6
    bad = _run(["numerics", "--label", "0"], tmp_path)
    assert bad.returncode != 0 and "1-based" in bad.stderr


@pytest.mark.slow
def test_fashion_mnist_task_runs_end_to_end_from_local_idx_files(tmp_path):
    from tests.datasets.test_fashion_mnist import write_fake_fashion

    folder = write_fake_fashion(tmp_path / "fm", n_train=300, n_test=60)
    done = _run(["fashion-mnist", "--data", str(folder), "--epochs", "1", "--out", "out", "--alphas", "0.1",
                 "--no-download"], tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    grid = json.loads((tmp_path / "out" / "grid_search.json").read_text())
    assert len(grid) == 12 and "test_accuracy" in grid[0]
    smooth = json.loads((tmp_path / "out" / "label_smoothing.json").read_text())
    assert [r["alpha"] for r in smooth] == [0.0, 0.1]
    assert (tmp_path / "out" / "samples.png").is_file()
    assert set(json.loads((tmp_path / "out" / "metrics.json").read_text())) == {"dnn", "grid_search", "label_smoothing"}
    missing = _run(["fashion-mnist", "--data", str(tmp_path / "none"), "--no-download"], tmp_path)
    assert missing.returncode != 0 and "train-images-idx3-ubyte.gz" in missing.stderr


def test_mnist_recipes_are_the_seeds_by_default_and_flags_override_them():
    import argparse

    import keras

    from assignment.mnist import RECIPES, add_arguments, recipe_of

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert recipe_of(parser.parse_args([])) == RECIPES["seed"]
    seed = recipe_of(parser.parse_args([]))
    assert (seed.epochs, seed.lr, seed.momentum, seed.batch_size, seed.weight_decay) == (10, 0.01, 0.0, 64, 0.0)
    plain = seed.optimizer(100)
    assert float(plain.learning_rate) == pytest.approx(0.01) and not plain.nesterov
    tuned = recipe_of(parser.parse_args(["--recipe", "tuned", "--epochs", "4"]))
    assert (tuned.epochs, tuned.lr, tuned.batch_size, tuned.weight_decay) == (4, 0.1, 128, 5e-4)
    opt = tuned.optimizer(10)
    schedule = opt._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay) and opt.nesterov
    assert float(schedule(0)) == 0.0 and float(schedule(10)) == pytest.approx(0.1)  # warm-up over epoch 1
    assert float(schedule(40)) == pytest.approx(0.0, abs=1e-7)  # cosine to 0 at the end of epoch 4
    assert opt.weight_decay == pytest.approx(5e-4) and opt.momentum == 0.9
    assert "Nesterov" in tuned.describe() and "cosine" in tuned.describe()


@pytest.mark.slow
def test_mnist_task_runs_end_to_end_from_local_idx_files(tmp_path):
    from tests.datasets.test_mnist import write_fake_mnist

    folder = write_fake_mnist(tmp_path / "mnist", n_train=320, n_test=100)
    done = _run(["mnist", "--data", str(folder), "--epochs", "2", "--log-interval", "2", "--out", "out",
                 "--no-download"], tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["mlp_params"] == 101_770 and metrics["cnn_params"] == 47_658
    assert 0 < metrics["train_mean"] < 1 and 0 < metrics["train_std"] < 1
    for key in ("mlp_test_accuracy", "cnn_test_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert set(metrics["accuracy_normalized"]) == set(metrics["accuracy_unnormalized"]) == {"mlp", "cnn"}
    assert metrics["accuracy_normalized"]["cnn"] == metrics["cnn_test_accuracy"]
    for name in ("train_samples", "mlp_loss", "mlp_predictions", "mlp_misclassified", "cnn_misclassified"):
        assert (tmp_path / "out" / f"{name}.png").is_file(), name
    assert "5*5*10*20 + 20" in done.stdout and "Train Data: Mean=" in done.stdout
    missing = _run(["mnist", "--data", str(tmp_path / "none"), "--no-download"], tmp_path)
    assert missing.returncode != 0 and "t10k-labels-idx1-ubyte.gz" in missing.stderr
    tuned = _run(["mnist", "--data", str(folder), "--recipe", "tuned", "--epochs", "2", "--log-interval", "2",
                  "--out", "tuned", "--no-download"], tmp_path, timeout=600)
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    assert "recipe tuned: SGD lr=0.1, momentum=0.9 (Nesterov), 1-epoch warm-up then cosine decay" in tuned.stdout
    assert json.loads((tmp_path / "tuned" / "metrics.json").read_text())["recipe"] == "tuned"


@pytest.mark.slow
def test_double_moon_task_runs_end_to_end(tmp_path):
    done = _run(["double-moon", "--epochs", "1", "--trials", "2", "--gradcheck-cases", "20", "--out", "out"],
                tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["gradcheck"] == "SUCCESS" and len(metrics["restarts"]) == 5
    assert [r["lr"] for r in metrics["sweep_lr"]] == [2, 0.2, 0.02, 0.002]
    assert [r["h"] for r in metrics["sweep_h"]] == [1, 2, 5, 7, 10, 100]
    assert metrics["sweep_seconds"] > 0 and "generated two-moons" in done.stdout
    for name in ("boundary_h7", "errors_h7", "sweep_lr_final", "sweep_lr_evolution", "sweep_h_final",
                 "sweep_h_evolution", "sweep_h_boundaries"):
        assert (tmp_path / "out" / f"{name}.png").is_file(), name


@pytest.mark.slow
def test_conv_blocks_task_prints_nhwc_shapes(tmp_path):
    image = tmp_path / "img.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(image)
    done = _run(["conv-blocks", "--image", str(image), "--out", "out"], tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    shapes = json.loads((tmp_path / "out" / "metrics.json").read_text())["shapes"]
    assert shapes["conv_5x5x10"] == [1, 60, 76, 10] and shapes["conv_5x5x10_stride16"] == [1, 4, 5, 10]
    assert shapes["laplacian"] == [1, 64, 80, 1] and shapes["max_pool_15"] == [1, 50, 66, 3]
    assert (tmp_path / "out" / "laplacian.png").is_file()
    bad = _run(["conv-blocks", "--image", str(tmp_path / "none.png")], tmp_path)
    assert bad.returncode != 0 and "--image" in bad.stderr


@pytest.mark.slow
def test_cifar10_task_runs_end_to_end_on_folders(tmp_path):
    from tests.datasets.test_cifar10 import write_cifar_folders

    data = write_cifar_folders(tmp_path / "cifar", n=4)
    done = _run(["cifar10", "--data", str(data), "--epochs", "1", "--out", "out", "--no-download"], tmp_path,
                timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["convnet_params"] == 258_058
    assert 0 <= metrics["linear_test_accuracy"] <= 1 and 0 <= metrics["convnet_test_accuracy"] <= 1
    for name in ("samples", "linear_progress", "convnet_progress", "convnet_filters"):
        assert (tmp_path / "out" / f"{name}.png").is_file(), name
    missing = _run(["cifar10", "--data", str(tmp_path / "none"), "--no-download"], tmp_path)
    assert missing.returncode != 0 and "train/<class>" in missing.stderr


@pytest.mark.slow
def test_init_study_task_writes_every_variant(tmp_path):
    done = _run(["init-study", "--depth", "40", "--trials", "50", "--out", "out"], tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert 20 <= metrics["nan_layer"] <= 35 and abs(metrics["sqrt_fan_in"] - 22.627) < 1e-3
    assert abs(metrics["std_ax"] - metrics["sqrt_fan_in"]) < 2
    for name in ("scaled", "normal_tanh", "xavier_tanh", "kaiming_relu", "xavier_relu"):
        assert set(metrics[name]) == {"mean", "std"}, name
    assert (tmp_path / "out" / "layer_std.png").is_file()


@pytest.mark.slow
def test_magic_task_runs_end_to_end(tmp_path):
    from tests.datasets.test_magic import write_magic

    data = write_magic(tmp_path / "magic04.data", n=600)
    done = _run(["magic", "--data", str(data), "--epochs", "3", "--quick-grid", "--out", "out", "--no-download"],
                tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert 0.5 < metrics["logreg_test_accuracy"] <= 1 and 0 <= metrics["mlp_test_accuracy"] <= 1
    assert len(metrics["init_test_accuracy"]) == 3
    assert (tmp_path / "out" / "mlp_search_curves.png").is_file()
    missing = _run(["magic", "--data", str(tmp_path / "none.data"), "--no-download"], tmp_path)
    assert missing.returncode != 0 and "magic04.data" in missing.stderr


@pytest.mark.slow
def test_imagenette_task_runs_end_to_end_on_a_tiny_tree(tmp_path):
    from tests.datasets.test_imagenette import write_imagenette

    data = write_imagenette(tmp_path / "imagenette", n=10)
    done = _run(["imagenette", "--data", str(data), "--epochs", "1", "--augmented-epochs", "1", "--widths", "4", "8",
                 "--out", "out", "--no-download"], tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["params"] > 0 and metrics["size_mb"] == metrics["params"] * 4 / 2 ** 20
    assert set(metrics["noise_test_accuracy"]) == {"0.05", "0.01", "0.005"}
    assert 0 <= metrics["test_accuracy"] <= 1 and 0 <= metrics["augmented_test_accuracy"] <= 1
    assert (tmp_path / "out" / "progress_augmented.png").is_file()
    # the augmented network is tested at the size its validation accuracy was best at; the plain one at 64 px
    scores = metrics["augmented_val_accuracy_by_test_size"]
    assert set(scores) == {"64", "72", "80"}
    assert metrics["augmented_test_size"] == min(int(s) for s, a in scores.items() if a == max(scores.values()))
    assert metrics["test_size"] == 64 and set(metrics["val_accuracy_by_test_size"]) == {"64"}
    assert "validation accuracy with the input enlarged to: 64 px" in done.stdout
    missing = _run(["imagenette", "--data", str(tmp_path / "none"), "--no-download"], tmp_path)
    assert missing.returncode != 0 and "imagenette2-160" in missing.stderr
    cnn = _run(["imagenette", "--data", str(data), "--arch", "cnn", "--test-size", "72", "--no-download"], tmp_path)
    assert cnn.returncode != 0 and "--test-size are for --arch resnet" in cnn.stderr


@pytest.mark.slow
def test_imagenette_recipe_run_trains_only_with_augmentation_and_resumes_its_settings(tmp_path):
    from tests.datasets.test_imagenette import write_imagenette

    data = write_imagenette(tmp_path / "imagenette", n=10)
    args = ["imagenette", "--data", str(data), "--augmented-epochs", "2", "--widths", "4", "8", "--out", "out",
            "--no-download", "--augmented-only", "--cosine", "--learning-rate", "1e-3", "--weight-decay", "0.05",
            "--label-smoothing", "0.1", "--backup-dir", "backup", "--test-size", "72"]
    done = _run(args, tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ("AdamW 0.001, 1-epoch warm-up, cosine decay, weight decay 0.05, label smoothing 0.1, the first 1 epoch "
            "at 48 px" in done.stdout)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["augmented_test_size"] == 72 and set(metrics["augmented_val_accuracy_by_test_size"]) == {"72"}
    import keras
    saved = keras.models.load_model(tmp_path / "out" / "imagenette_augmented.h5", compile=False)
    assert saved.input.shape[1:] == (64, 64, 3) and saved.get_layer("test_resize").get_config()["height"] == 72
    assert "test_accuracy" not in metrics and len(metrics["augmented_val_accuracy_curve"]) == 2
    assert set(metrics["noise_test_accuracy"]) == {"0.05", "0.01", "0.005"}
    assert not (tmp_path / "out" / "progress.png").exists()


def test_imagenette_recipe_options_become_the_training_config():
    from argparse import Namespace

    from assignment.imagenette import recipe_config
    from coursekit.training.augmentation import Augmentation

    seed_like = Namespace(learning_rate=1e-3, schedule="constant", warmup_epochs=0.0, weight_decay=0.0,
                          label_smoothing=0.0, epochs=10, augmented_epochs=20, batch_size=64, patience=8, seed=0,
                          zoom=[-0.3, 0.1], arch="resnet", low_res_epochs=None, low_res_size=48)
    config = recipe_config(seed_like, augment=False)
    assert (config.optimizer, config.schedule, config.weight_decay, config.label_smoothing) == ("adam", "constant",
                                                                                                0.0, 0.0)
    assert config.augment is False and config.augmentation is None
    assert (config.epochs, config.patience, config.warmup_epochs) == (10, 8, 0.0)
    recipe = Namespace(**{**vars(seed_like), "schedule": "cosine", "warmup_epochs": 1.0, "weight_decay": 0.05,
                          "label_smoothing": 0.1, "patience": None})
    config = recipe_config(recipe, augment=True)
    assert (config.schedule, config.weight_decay, config.label_smoothing) == ("cosine", 0.05, 0.1)
    assert config.augmentation == Augmentation(zoom=(-0.3, 0.1))  # random crops, beyond the template's zoom
    assert (config.epochs, config.warmup_epochs) == (20, 1.0)
    assert config.patience == 20  # no early stop by default, but the best validation epoch's weights are kept
    assert config.progressive_resizing == (48, 8)  # 40% of the augmented run's 20 epochs at 48 px
    assert recipe_config(recipe, augment=False).progressive_resizing is None  # the run without augmentation: 64 px
    assert recipe_config(Namespace(**{**vars(recipe), "low_res_epochs": 0}), augment=True).progressive_resizing is None
    assert recipe_config(Namespace(**{**vars(recipe), "arch": "cnn"}), augment=True).progressive_resizing is None
    custom = recipe_config(Namespace(**{**vars(recipe), "low_res_epochs": 5, "low_res_size": 32}), augment=True)
    assert custom.progressive_resizing == (32, 5)
    short = recipe_config(Namespace(**{**vars(recipe), "augmented_epochs": 1}), augment=True)
    assert short.warmup_epochs == 0.0  # a run shorter than its warm-up skips it


def test_imagenette_epochs_given_alone_bound_both_runs():
    """``--epochs 2`` is a two-epoch look at each run; ``--augmented-epochs`` still wins for its run."""
    import argparse

    from assignment.imagenette import AUGMENTED_EPOCHS, PLAIN_EPOCHS, add_arguments, low_res_epochs, run_epochs

    parser = argparse.ArgumentParser()
    add_arguments(parser)

    def epochs(*argv):
        args = parser.parse_args(list(argv))
        return run_epochs(args, augment=False), run_epochs(args, augment=True)

    assert epochs() == (PLAIN_EPOCHS, AUGMENTED_EPOCHS) == (18, 50)
    assert epochs("--epochs", "2") == (2, 2)
    assert epochs("--epochs", "2", "--augmented-epochs", "5") == (2, 5)
    assert epochs("--augmented-epochs", "5") == (18, 5)
    two = parser.parse_args(["--epochs", "2"])
    assert low_res_epochs(two, True, 2) == 1  # the quick look has one epoch at each size
    assert low_res_epochs(two, True, 1) == 0  # a one-epoch run trains at 64 px


def test_imagenette_refuses_a_zoom_range_it_cannot_draw_from(tmp_path):
    done = _run(["imagenette", "--data", str(tmp_path), "--zoom", "0.2", "-0.2", "--no-download"], tmp_path)
    assert done.returncode != 0 and "--zoom 0.2 -0.2" in done.stderr and "low <= high" in done.stderr
