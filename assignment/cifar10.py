"""RecVis A2 Part 3: CIFAR-10 - a single linear layer, then a small ConvNet, trained with SGD.

1. load CIFAR-10 (Keras, image folders or the binary version), scale to [-1, 1], show 5 images;
2. the linear layer 3072 -> 10, 10 epochs (the seed reaches about 40%);
3. the ConvNet conv5x5x16 - pool - tanh - conv5x5x128 - pool - tanh - fc64 - tanh - fc10, 20 epochs
   (the seed: 63%); its parameters per layer and its first-layer filters as images.
The test set is evaluated after every epoch, as the seed's loop does.
"""
from __future__ import annotations

from pathlib import Path

from assignment.common import (add_backup_argument, add_common_arguments, add_device_arguments, backup_path,
                               data_errors, out_dir, report, setup_devices, write_metrics)

HELP = "RecVis A2 Part 3: CIFAR-10 linear classifier and ConvNet (SGD lr 0.01, batch 64), filters, parameters"


def add_arguments(p):
    add_common_arguments(p, out="outputs/cifar10", seed=1234, download=True,
                         seed_help="seeds initialisation and shuffling",
                         data_help="CIFAR-10 as image folders (train/<class>/, test/<class>/; either may come as a "
                                   ".tar.gz of that tree in the folder, or be the .tar.gz itself) or the binary "
                                   "version (cifar-10-batches-bin); default: datasets/cifar10, then "
                                   "keras.datasets.cifar10")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for both networks (default: the seed's, 10 for the linear layer and 20 for the ConvNet)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--limit-per-class", type=int, default=None, help="read at most N images per class from folders")
    add_backup_argument(p)
    add_device_arguments(p)


def train(net, data, epochs, args):
    """Train ``net`` with the project's trainer; the test set is the per-epoch validation, as in the seed."""
    from coursekit.nets.classifier import accuracy
    from coursekit.training.fit import fit_classifier

    from coursekit.training.config import TrainConfig

    (x_train, y_train), (x_test, y_test) = data
    config = TrainConfig(num_classes=10, batch_size=args.batch_size, epochs=epochs, optimizer="sgd",
                         learning_rate=args.lr, value_range=(-1.0, 1.0), seed=args.seed)
    history = fit_classifier(net, (x_train, y_train), (x_test, y_test), config, backup_dir=backup_path(args, net.name),
                             strategy=getattr(args, "strategy_object", None))
    return accuracy(net, x_test, y_test), history


def run(args):
    import keras
    import matplotlib.pyplot as plt

    from coursekit.datasets.cifar10 import load_cifar10, to_unit_range
    from coursekit.exercises.conv_blocks import plot_filters
    from coursekit.nets.small_nets import cifar_convnet, cifar_linear, parameter_table
    from coursekit.report.plots import plot_image_grid, plot_progress

    out = out_dir(args.out)
    args.strategy_object = setup_devices(args)
    with data_errors():
        (x_train, y_train), (x_test, y_test), classes, source = load_cifar10(
            args.data, allow_download=not args.no_download, limit_per_class=args.limit_per_class)
    print(f"data: {source}; train {x_train.shape}, test {x_test.shape}")
    data = ((to_unit_range(x_train), y_train), (to_unit_range(x_test), y_test))
    pick = keras.random.shuffle(keras.ops.arange(len(y_train)), seed=args.seed).numpy()[:5]
    plot_image_grid(data[0][0][pick], [classes[y_train[i]] for i in pick], value_range=(-1.0, 1.0),
                    save_path=out / "samples.png")
    print("5 training images:", " ".join(classes[y_train[i]] for i in pick), f"({out / 'samples.png'})")

    metrics = {"data": source, "n_train": int(len(y_train)), "n_test": int(len(y_test))}
    linear_epochs = args.epochs or 10
    print(f"\nTask 3.1: the linear layer 3072 -> 10, {linear_epochs} epochs, SGD lr {args.lr}, batch {args.batch_size}")
    keras.utils.set_random_seed(args.seed)
    linear = cifar_linear()
    metrics["linear_test_accuracy"], history = train(linear, data, linear_epochs, args)
    plot_progress(history, title="linear layer (validation = test set)", save_path=out / "linear_progress.png")
    print(f"linear layer: test accuracy {metrics['linear_test_accuracy']:.4f}")

    conv_epochs = args.epochs or 20
    keras.utils.set_random_seed(args.seed)
    convnet = cifar_convnet()
    report("Task 3.6: ConvNet parameters per layer", parameter_table(convnet), out, "convnet_parameters")
    metrics["convnet_params"] = int(convnet.count_params())
    print(f"\nTask 3.4: the ConvNet, {conv_epochs} epochs")
    metrics["convnet_test_accuracy"], history = train(convnet, data, conv_epochs, args)
    plot_progress(history, title="ConvNet (validation = test set)", save_path=out / "convnet_progress.png")
    plot_filters(convnet.get_layer("conv1").kernel.numpy(), title="first-layer filters",
                 save_path=out / "convnet_filters.png")
    plt.close("all")
    print(f"ConvNet: test accuracy {metrics['convnet_test_accuracy']:.4f}; filters: {out / 'convnet_filters.png'}")
    write_metrics(out, metrics)
    return 0
