"""FIT3181 A1 Part 2: a feed-forward network on Fashion-MNIST (Q2.1-Q2.6).

1. load the data (Keras, a local folder of the four idx files, or the Keras cache) and flatten it;
2. split 90/10 into training and validation and scale to [0, 1];
3. show 36 random training images with their class names;
4. train 784 -> 20 (ReLU) -> 40 (ReLU) -> 10 (softmax) and test it;
5. grid-search n1, n2 in {20, 40} and the activation in {sigmoid, tanh, relu} (``--widths``/``--activations``
   widen it; the Q2.4 network stays 784-20-40-10);
6. retrain the best configuration with hand-written label smoothing, alpha in {0.1, 0.15, 0.2}.
"""
from __future__ import annotations

from pathlib import Path

from assignment.common import (add_common_arguments, add_device_arguments, add_tuning_argument, data_errors, out_dir,
                               report, setup_devices, tuning_worker_done, write_metrics)

HELP = "FIT3181 A1 Part 2: Fashion-MNIST DNN - load, split, plot, train, grid search, label smoothing"


def add_arguments(p):
    add_common_arguments(p, out="outputs/fashion_mnist", seed=1234, download=True,
                         data_help="folder with the four Fashion-MNIST idx .gz files (default: "
                                   "datasets/fashion_mnist, the Keras cache, then a Keras download)")
    p.add_argument("--epochs", type=int, default=20, help="epochs per model (default 20)")
    p.add_argument("--batch-size", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--alphas", type=float, nargs="+", default=[0.1, 0.15, 0.2], help="label-smoothing values")
    p.add_argument("--widths", type=int, nargs="+", default=[20, 40],
                   help="Q2.5 grid: values tried for n1 and for n2 (default: the assignment's 20 40)")
    p.add_argument("--activations", nargs="+", default=["sigmoid", "tanh", "relu"],
                   choices=["sigmoid", "tanh", "relu", "elu", "gelu"],
                   help="Q2.5 grid: activations tried (default: the assignment's sigmoid tanh relu)")
    add_device_arguments(p)
    add_tuning_argument(p)


def run(args):
    from coursekit.datasets.fashion_mnist import CLASS_NAMES, load_fashion_mnist, prepare_splits
    from coursekit.report.plots import plot_numbered_samples
    from coursekit.training.dnn import DenseClassifier
    from coursekit.training.tuning import grid_search

    strategy = setup_devices(args)
    out = out_dir(args.out)
    metrics = {}
    with data_errors():
        (X_train_full_img, y_train_full), (X_test_img, y_test) = load_fashion_mnist(
            args.data, allow_download=not args.no_download)
    print("Q2.1", X_train_full_img.shape, X_test_img.shape)
    data = prepare_splits((X_train_full_img, y_train_full), (X_test_img, y_test), seed=args.seed)
    print("Q2.2 train", data.X_train.shape, "valid", data.X_valid.shape, "test", data.X_test.shape,
          f"pixels in [{data.X_train.min():.1f}, {data.X_train.max():.1f}]")
    plot_numbered_samples(X_train_full_img, y_train_full, CLASS_NAMES, 36, seed=args.seed,
                          save_path=out / "samples.png")
    print(f"Q2.3 36 random training images: {out / 'samples.png'}")

    def model(**kw):
        params = dict(learning_rate=args.learning_rate, batch_size=args.batch_size, num_epochs=args.epochs,
                      seed=args.seed, verbose=False, strategy=strategy)
        params.update(kw)
        return DenseClassifier(**params)

    print("\nQ2.4 784 -> 20 (ReLU) -> 40 (ReLU) -> 10 (softmax)")
    net = model(n1=20, n2=40, activation="relu", verbose=True)
    net.fit(data)
    test_acc = net.compute_accuracy(data.X_test, data.y_test)
    report("Q2.4 test accuracy", [{"model": "784-20-40-10 relu", "epochs": args.epochs,
                                   "test_accuracy": round(test_acc, 4)}], out, "dnn", collect=metrics)

    print("\nQ2.5 grid search")
    rows, best = grid_search(lambda **kw: model(**kw), data,
                             grid={"n1": args.widths, "n2": args.widths, "activation": args.activations},
                             batch_size=args.batch_size, num_epochs=args.epochs, print_table=False,
                             directory=args.tune_dir)
    if tuning_worker_done(best):
        return 0
    report("Q2.5 grid search, sorted by validation accuracy", rows, out, "grid_search", collect=metrics)

    print(f"\nQ2.6 label smoothing on the best configuration (n1={best.n1}, n2={best.n2}, {best.activation})")
    smooth_rows = [{"alpha": 0.0, "val_accuracy": rows[0]["val_accuracy"], "test_accuracy": rows[0]["test_accuracy"]}]
    for alpha in args.alphas:
        smoothed = model(n1=best.n1, n2=best.n2, activation=best.activation, label_smoothing=alpha)
        smoothed.fit(data)
        smooth_rows.append({"alpha": alpha,
                            "val_accuracy": round(smoothed.compute_accuracy(data.X_valid, data.y_valid), 4),
                            "test_accuracy": round(smoothed.compute_accuracy(data.X_test, data.y_test), 4)})
        print(f"alpha={alpha}: {smooth_rows[-1]}", flush=True)
    report("Q2.6 label smoothing (hand-written loss)", smooth_rows, out, "label_smoothing", collect=metrics)
    write_metrics(out, metrics)
    return 0
