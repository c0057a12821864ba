"""Technion ECE 046211 HW2 Task 3: a CNN without BatchNorm on Imagenette at 64x64.

1. load train/ and val/ (a folder or fast.ai's imagenette2-160.tgz), resize to 64x64, show 5 images;
   a stratified 10% of train becomes the validation set, and val is the test set, as the seed does;
2. the CNN (GroupNorm, no BatchNormalization): its parameter count and size in MB;
3. train from scratch without augmentation (early stopping on validation accuracy); curves; test accuracy;
4. test accuracy under image + a * N(0, 1) for a in {0.05, 0.01, 0.005} (pixels in [0, 1]);
5. retrain with augmentation (flips, shifts, rotation, zoom, contrast) and test again (``--augmented-only``: only
   this run, then step 4 on it; ``--cosine``, ``--weight-decay``, ``--label-smoothing``: the recipe's options).
"""
from __future__ import annotations

from pathlib import Path

from assignment.common import (add_backup_argument, add_common_arguments, add_device_arguments, backup_path,
                               data_errors, out_dir, report, setup_devices, write_metrics)

HELP = "Technion HW2 Task 3: Imagenette 64px CNN without BatchNorm - train, noise robustness, augmentation"

NOISE = (0.05, 0.01, 0.005)


def add_arguments(p):
    add_common_arguments(p, out="outputs/imagenette", seed=0, download=True,
                         seed_help="seeds the split, initialisation, shuffling and noise",
                         data_help="Imagenette folder (train/, val/) or imagenette2-160.tgz (default: "
                                   "datasets/imagenette2-160, then a download)")
    p.add_argument("--epochs", type=int, default=40, help="most epochs per training run (default 40)")
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience on validation accuracy")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256],
                   help="filters per stage (default 32 64 128 256; halve them for a quick CPU run)")
    p.add_argument("--limit-per-class", type=int, default=None, help="read at most N images per class and split")
    p.add_argument("--no-augmentation-run", action="store_true", help="skip step 5 (the retrain with augmentation)")
    p.add_argument("--augmented-only", action="store_true",
                   help="skip step 3: train only with augmentation (the recipe run; step 4 then tests that network)")
    p.add_argument("--label-smoothing", type=float, default=0.0,
                   help="label smoothing of the cross-entropy (default 0: the seed's plain loss)")
    p.add_argument("--cosine", action="store_true",
                   help="decay the learning rate to 0 over --epochs along a cosine (default: constant, as the seed)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="decoupled weight decay (AdamW) when > 0 (default 0: plain Adam, as the seed)")
    add_device_arguments(p)
    add_backup_argument(p)


def run(args):
    import time

    import keras
    import matplotlib.pyplot as plt

    from coursekit.datasets.imagenette import load_imagenette, stratified_split, to_unit
    from coursekit.nets.classifier import accuracy
    from coursekit.nets.classifier import accuracy_under_noise
    from coursekit.nets.small_nets import imagenette_cnn, model_size_mb
    from coursekit.report.plots import plot_image_grid, plot_progress
    from coursekit.training.fit import fit_classifier

    strategy = setup_devices(args)
    out = out_dir(args.out)
    with data_errors():
        (x_full, y_full), (x_test, y_test), wnids, names, where = load_imagenette(
            args.data, allow_download=not args.no_download, limit_per_class=args.limit_per_class)
    print(f"data: {where}; train {x_full.shape}, test (val/) {x_test.shape}")
    print("classes:", ", ".join(f"{i} {n} ({w})" for i, (w, n) in enumerate(zip(wnids, names))))
    (x_train, y_train), (x_valid, y_valid) = stratified_split(x_full, y_full, 0.1, seed=args.seed)
    x_train, x_valid, x_test = to_unit(x_train), to_unit(x_valid), to_unit(x_test)
    print(f"split: train {len(y_train)}, validation {len(y_valid)} (10% of train, stratified), test {len(y_test)}")
    plot_image_grid(x_train[:5], [names[c] for c in y_train[:5]], value_range=(0.0, 1.0),
                    save_path=out / "samples.png")

    def build():
        keras.utils.set_random_seed(args.seed)
        return imagenette_cnn(64, tuple(args.widths))

    net = build()
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in net.layers)
    metrics = {"data": where, "n_train": int(len(y_train)), "n_valid": int(len(y_valid)), "n_test": int(len(y_test)),
               "widths": list(args.widths), "params": int(net.count_params()), "size_mb": model_size_mb(net)}
    print(f"\nCNN (GroupNorm, no BatchNorm), input 64x64x3 -> 10 logits: {metrics['params']:,} parameters, "
          f"{metrics['size_mb']:.2f} MB in float32")

    def noise_table(model):
        metrics["noise_test_accuracy"] = {str(a): accuracy_under_noise(model, x_test, y_test, a, seed=args.seed)
                                          for a in NOISE}
        report("test accuracy under image + a * N(0, 1) (pixels in [0, 1], not clipped)",
               [{"a": a, "test_accuracy": round(acc, 4)} for a, acc in metrics["noise_test_accuracy"].items()],
               out, "noise")

    if args.augmented_only and args.no_augmentation_run:
        raise SystemExit("error: --augmented-only and --no-augmentation-run leave nothing to train; drop one")

    def train(model, augment):
        start = time.perf_counter()
        history = fit_classifier(model, (x_train, y_train), (x_valid, y_valid), recipe_config(args, augment),
                                 strategy=strategy, backup_dir=backup_path(args, "augmented" if augment else "plain"))
        seconds = time.perf_counter() - start
        return accuracy(model, x_test, y_test), history, seconds

    if not args.augmented_only:
        print(f"\ntraining without augmentation ({describe_recipe(recipe_config(args, False))}, "
              f"batch {args.batch_size}, up to {args.epochs} epochs, early stopping patience {args.patience})")
        metrics["test_accuracy"], history, metrics["train_seconds"] = train(net, augment=False)
        metrics["epochs_run"] = len(history.history["loss"])
        plot_progress(history, title="Imagenette CNN, no augmentation", save_path=out / "progress.png")
        print(f"test accuracy {metrics['test_accuracy']:.4f} ({metrics['epochs_run']} epochs, "
              f"{metrics['train_seconds']:.0f} s)")
        noise_table(net)
    if not args.no_augmentation_run:
        print(f"\n{'training' if args.augmented_only else 'retraining'} with augmentation (random flip, translation, "
              f"rotation, zoom, contrast; {describe_recipe(recipe_config(args, True))})")
        augmented = build()
        metrics["augmented_test_accuracy"], history, metrics["augmented_train_seconds"] = train(augmented, True)
        metrics["augmented_epochs_run"] = len(history.history["loss"])
        metrics["augmented_val_accuracy_curve"] = [round(float(v), 4) for v in history.history["val_accuracy"]]
        plot_progress(history, title="Imagenette CNN, with augmentation", save_path=out / "progress_augmented.png")
        without = "" if args.augmented_only else f" (without: {metrics['test_accuracy']:.4f})"
        print(f"test accuracy with augmentation {metrics['augmented_test_accuracy']:.4f}{without}")
        if args.augmented_only:
            noise_table(augmented)
    plt.close("all")
    write_metrics(out, metrics)
    return 0


def recipe_config(args, augment):
    """The training settings: Adam as the seed, or with ``--cosine`` (rate decayed to 0 over ``--epochs``),
    ``--weight-decay`` (decoupled, as AdamW) and ``--label-smoothing``."""
    from coursekit.training.config import TrainConfig

    return TrainConfig(num_classes=10, batch_size=args.batch_size, epochs=args.epochs, optimizer="adam",
                       learning_rate=args.learning_rate, schedule="cosine" if args.cosine else "constant",
                       weight_decay=args.weight_decay, label_smoothing=args.label_smoothing, augment=augment,
                       value_range=(0.0, 1.0), patience=args.patience, seed=args.seed)


def describe_recipe(config):
    """One line for the log, read from the ``TrainConfig``: optimizer, rate, schedule, decay and smoothing."""
    parts = [f"{'AdamW' if config.weight_decay > 0 else 'Adam'} {config.learning_rate}"]
    if config.schedule == "cosine":
        parts.append("cosine decay")
    if config.weight_decay > 0:
        parts.append(f"weight decay {config.weight_decay}")
    if config.label_smoothing:
        parts.append(f"label smoothing {config.label_smoothing}")
    return ", ".join(parts)
