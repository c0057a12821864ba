"""DS 5220 PS4, Problems 2-3: a two-layer network and a CNN on MNIST, trained by hand-written epoch loops.

1. load MNIST (four idx files, the Keras cache or a download); print the training pixel mean and std;
2. batches of 64, training order shuffled with the seed; show 20 training images;
3. the 784-128-10 network and the small CNN, each trained ``--epochs`` with SGD by
   ``train_one_epoch`` / ``test_one_epoch`` (``GradientTape``, compiled);
4. inspection: loss curves, predictions on the first 20 test images, the first 20 mistakes;
5. both networks again with the other normalisation setting, to compare.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, report, write_metrics

HELP = "DS 5220 PS4 P2-P3: MNIST two-layer network and CNN with hand-written train/test epoch functions"


def add_arguments(p):
    add_common_arguments(p, out="outputs/mnist", seed=1234, download=True,
                         seed_help="seeds the shuffling and the initialisation",
                         data_help="folder with the four MNIST idx .gz files (default: datasets/mnist, the Keras "
                                   "cache, then a Keras download)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="seed",
                   help="seed: the problem set's SGD lr 0.01, batch 64, 10 epochs (default); tuned: SGD with Nesterov "
                        "momentum 0.9, peak lr 0.1 after a 1-epoch warm-up then cosine decay to 0, weight decay 5e-4, "
                        "batch 128, 15 epochs (the CNN: 99.45%% on the 8,000 shared test images, README). Flags "
                        "given below override the recipe's values")
    p.add_argument("--epochs", type=int, default=None, help="epochs per network (default: the recipe's, 10 or 15)")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                   help="standardise inputs with the training mean and std (default on); the other setting is "
                        "run too, for the comparison")
    p.add_argument("--lr", type=float, default=None,
                   help="SGD learning rate, the peak one under the tuned recipe (default: the recipe's, 0.01 or 0.1)")
    p.add_argument("--momentum", type=float, default=None, help="SGD momentum (default: the recipe's, 0 or 0.9)")
    p.add_argument("--batch-size", type=int, default=None, help="training batch size (default: the recipe's, 64 "
                                                                    "or 128)")
    p.add_argument("--log-interval", type=int, default=100, help="record the training loss every N batches")
    p.add_argument("--seed-cnn", action="store_true",
                   help="the seed's CNN: no activation between fc1 and fc2 (one linear map)")
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="XLA compilation of each training step: auto = on when a GPU is present, as Keras does")


@dataclass(frozen=True)
class Recipe:
    """How the networks are trained (the networks and the epoch functions stay the seed's)."""

    epochs: int
    lr: float
    momentum: float
    batch_size: int
    nesterov: bool = False
    weight_decay: float = 0.0
    warmup_epochs: int = 0   # linear warm-up to ``lr``, then cosine decay to 0 (0: a constant ``lr``)

    def optimizer(self, steps_per_epoch):
        import keras

        lr = self.lr
        if self.warmup_epochs:
            total, warm = self.epochs * steps_per_epoch, self.warmup_epochs * steps_per_epoch
            lr = keras.optimizers.schedules.CosineDecay(0.0, max(total - warm, 1), warmup_target=self.lr,
                                                        warmup_steps=warm)
        return keras.optimizers.SGD(learning_rate=lr, momentum=self.momentum, nesterov=self.nesterov,
                                    weight_decay=self.weight_decay or None)

    def describe(self):
        text = f"SGD lr={self.lr}, momentum={self.momentum}"
        if self.nesterov:
            text += " (Nesterov)"
        if self.warmup_epochs:
            text += f", {self.warmup_epochs}-epoch warm-up then cosine decay"
        if self.weight_decay:
            text += f", weight decay {self.weight_decay:g}"
        return text + f", batch {self.batch_size}, {self.epochs} epochs"


RECIPES = {
    "seed": Recipe(epochs=10, lr=0.01, momentum=0.0, batch_size=64),
    "tuned": Recipe(epochs=15, lr=0.1, momentum=0.9, batch_size=128, nesterov=True, weight_decay=5e-4,
                    warmup_epochs=1),
}


def recipe_of(args):
    """The ``--recipe`` with the values given by flags put in."""
    recipe = RECIPES[args.recipe]
    given = {field: getattr(args, field) for field in ("epochs", "lr", "momentum", "batch_size")
             if getattr(args, field, None) is not None}
    return replace(recipe, **given)


def train_network(name, build, data, args, normalize, out=None):
    """Build, train and test one network; with ``out``, also draw the inspection figures."""
    import keras
    import tensorflow as tf

    from coursekit.exercises.epochs import train_epochs
    from coursekit.nets.classifier import predict_classes
    from coursekit.nets.classifier import first_misclassified
    from coursekit.report.plots import plot_image_grid, plot_loss_curve

    recipe = recipe_of(args)
    keras.utils.set_random_seed(args.seed)
    model = build()
    train_ds, test_ds, x_test, y_test, value_range = data(normalize)
    optimizer = recipe.optimizer(int(train_ds.cardinality()))
    jit = {"on": True, "off": False}.get(getattr(args, "jit", "auto"), bool(tf.config.list_physical_devices("GPU")))
    rec = train_epochs(model, optimizer, train_ds, test_ds, recipe.epochs, args.log_interval, desc=f"{name} epochs",
                       jit_compile=jit)
    accuracy = rec["test_correct"][-1] / len(y_test)
    if out is not None:
        n_train = rec["train_counter"][-1] // recipe.epochs if rec["train_counter"] else 0
        plot_loss_curve(rec["train_counter"], rec["train_losses"],
                        [n_train * (e + 1) for e in range(recipe.epochs)], rec["test_losses"],
                        title=f"{name}: loss curve", save_path=out / f"{name}_loss.png")
        pred = predict_classes(model, x_test)
        plot_image_grid(x_test[:20], [f"Prediction: {p}" for p in pred[:20]], value_range=value_range,
                        title=f"{name}: the first 20 test images",
                        title_colors=["black" if p == t else "red" for p, t in zip(pred[:20], y_test[:20])],
                        save_path=out / f"{name}_predictions.png")
        wrong = first_misclassified(y_test, pred, 20)
        plot_image_grid(x_test[wrong], [f"Prediction: {pred[i]}\nLabel: {y_test[i]}" for i in wrong],
                        value_range=value_range, title=f"{name}: the first {len(wrong)} misclassified test images",
                        save_path=out / f"{name}_misclassified.png")
    return accuracy, rec


def _last(values):
    return f"{values[-1]:.4f}" if values else "n/a (an epoch has fewer batches than --log-interval)"


def run(args):
    import numpy as np

    from coursekit.datasets.mnist import load_mnist, pixel_stats, to_inputs
    from coursekit.nets.small_nets import mnist_cnn, mnist_mlp, parameter_table
    from coursekit.report.plots import plot_image_grid
    from coursekit.training.pipelines import labelled_dataset

    out = out_dir(args.out)
    with data_errors():
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data, allow_download=not args.no_download)
    print(f"train {x_train.shape}, test {x_test.shape}")
    mean, std = pixel_stats(x_train)
    print(f"Train Data: Mean={mean:.4f}, Std={std:.4f}")

    recipe = recipe_of(args)

    def data(normalize):
        stats = (mean, std) if normalize else (None, None)
        xt, xs = to_inputs(x_train, *stats), to_inputs(x_test, *stats)
        value_range = ((0 - mean) / std, (1 - mean) / std) if normalize else (0.0, 1.0)
        return (labelled_dataset(xt, y_train, recipe.batch_size, shuffle_seed=args.seed),
                labelled_dataset(xs, y_test, 1000), xs, y_test.astype(np.int64), value_range)

    train_ds, _, _, _, value_range = data(args.normalize)
    images, labels = next(iter(train_ds))
    print(f"first batch: images {tuple(images.shape)}, labels {tuple(labels.shape)}, "
          f"mean={float(np.mean(images)):.4f}, std={float(np.std(images)):.4f}")
    plot_image_grid(images.numpy()[:20], [f"Label: {int(v)}" for v in labels.numpy()[:20]], value_range=value_range,
                    save_path=out / "train_samples.png")
    print(f"20 training images: {out / 'train_samples.png'}")

    builds = {"mlp": mnist_mlp,
              "cnn": (lambda: mnist_cnn(hidden_activation=None)) if args.seed_cnn else mnist_cnn}
    setting = "normalised" if args.normalize else "not normalised"
    print(f"\nrecipe {args.recipe}: {recipe.describe()}, inputs {setting}")
    metrics = {"train_mean": mean, "train_std": std, "n_train": int(len(y_train)), "n_test": int(len(y_test)),
               "recipe": args.recipe, "training": recipe.describe()}
    accuracy = {args.normalize: {}, not args.normalize: {}}
    for name, build in builds.items():
        report(f"{name}: parameters per layer", parameter_table(build()), out, f"{name}_parameters")
        metrics[f"{name}_params"] = int(build().count_params())
        acc, rec = train_network(name, build, data, args, args.normalize, out)
        accuracy[args.normalize][name] = acc
        metrics[f"{name}_test_accuracy"] = acc
        print(f"{name}: train accuracy {rec['train_correct'][-1] / len(y_train):.4f}, test accuracy {acc:.4f}, "
              f"train loss {_last(rec['train_losses'])}, "
              f"test loss {rec['test_losses'][-1]:.4f}")
    print(f"\nthe same networks with inputs {'not normalised' if args.normalize else 'normalised'}")
    for name, build in builds.items():
        accuracy[not args.normalize][name], _ = train_network(name, build, data, args, not args.normalize)
    rows = [{"network": name, "normalised": round(accuracy[True][name], 4),
             "not_normalised": round(accuracy[False][name], 4)} for name in builds]
    report("test accuracy with and without normalisation", rows, out, "normalisation")
    metrics["accuracy_normalized"] = accuracy[True]
    metrics["accuracy_unnormalized"] = accuracy[False]
    write_metrics(out, metrics)
    return 0
