"""Technion ECE 046211 HW2 Task 2: an MLP on the MAGIC Gamma Telescope data.

1. read all 11 columns of magic04.data; split 70/10/20 (stratified, seeded); fit the scaler on the
   training rows only; g -> 0, h -> 1;
2. a logistic-regression baseline trained on train + validation;
3. a small hyper-parameter search for the MLP (binary cross-entropy from its logit), ranked by
   validation accuracy; the best retrained on train + validation for its best epoch count, then tested;
4. the same MLP retrained with two other initialisations.
"""
from __future__ import annotations

from pathlib import Path

from assignment.common import (add_common_arguments, add_device_arguments, add_tuning_argument, data_errors, out_dir,
                               report, setup_devices, tuning_worker_done, write_metrics)

HELP = "Technion HW2 Task 2: MAGIC gamma telescope - logistic-regression baseline, MLP search, initialisations"

GRID = {"hidden": [(256, 128), (256, 256, 128)], "dropout": [0.1, 0.2]}


def add_arguments(p):
    add_common_arguments(p, out="outputs/magic", seed=0, download=True,
                         seed_help="seeds the split, initialisation and shuffling",
                         data_help="the magic04.data file (default: datasets/magic04.data, then the UCI download)")
    p.add_argument("--epochs", type=int, default=150, help="most epochs per search run (early stopping, default 150)")
    p.add_argument("--patience", type=int, default=20, help="early-stopping patience on validation accuracy")
    p.add_argument("--preprocess", choices=["power", "standard"], default="power",
                   help="power: Yeo-Johnson then standardise (default); standard: standardise only")
    p.add_argument("--quick-grid", action="store_true", help="search one configuration only (for smoke tests)")
    add_device_arguments(p)
    add_tuning_argument(p)


def run(args):
    import keras
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from coursekit.datasets.magic import COLUMNS, load_magic, split_magic
    from coursekit.exercises.initializers import kaiming_init, keras_initializer
    from coursekit.report.plots import plot_comparison, plot_progress
    from coursekit.training.tabular import BinaryMLP
    from coursekit.training.tuning import grid_search

    strategy = setup_devices(args)
    out = out_dir(args.out)
    with data_errors():
        X, y = load_magic(args.data, allow_download=not args.no_download)
    print(f"{len(y)} rows, columns: {', '.join(COLUMNS)}; g (gamma) -> 0: {np.sum(y == 0)}, h (hadron) -> 1: "
          f"{np.sum(y == 1)}")
    print("first 5 rows:\n", np.array2string(X[:5], precision=4, suppress_small=True))
    data = split_magic(X, y, seed=args.seed, transform=args.preprocess)
    print(f"train {len(data.y_train)}, validation {len(data.y_valid)}, test {len(data.y_test)}; "
          f"{args.preprocess} scaling fitted on the training rows")
    X_trval, y_trval = np.r_[data.X_train, data.X_valid], np.r_[data.y_train, data.y_valid]

    logreg = LogisticRegression(solver="lbfgs", max_iter=1000).fit(X_trval, y_trval)
    metrics = {"preprocess": args.preprocess, "logreg_test_accuracy": float(logreg.score(data.X_test, data.y_test))}
    print(f"\nLogistic Regression (train + validation) test accuracy = {metrics['logreg_test_accuracy']:.4f}")

    grid = {k: v[:1] for k, v in GRID.items()} if args.quick_grid else GRID
    print(f"\nMLP search on validation accuracy: {grid}, Adam 1e-3, batch 256, early stopping "
          f"(patience {args.patience})")
    rows, best = grid_search(lambda **p: BinaryMLP(input_dim=X.shape[1], num_epochs=args.epochs,
                                                   patience=args.patience, seed=args.seed,
                                                   strategy=strategy, **p),
                             data, grid, batch_size=256, num_epochs=args.epochs, print_table=False,
                             directory=args.tune_dir)
    if tuning_worker_done(best):
        return 0
    for row in rows:
        row["best_epoch"] = None
    rows[0]["best_epoch"] = best.best_epoch
    report("MLP search, sorted by validation accuracy", rows, out, "search")
    plot_progress(best.history, title=f"best MLP {best.hidden}, dropout {best.dropout}",
                  save_path=out / "mlp_search_curves.png")

    epochs = best.best_epoch
    print(f"\nretrain {best.hidden} (dropout {best.dropout}) on train + validation for {epochs} epochs")
    inits = {"glorot_uniform (Keras default, Xavier)": "glorot_uniform",
             "kaiming_init (hand-written)": keras_initializer(kaiming_init, seed=args.seed),
             "normal(0, 0.005)": keras.initializers.RandomNormal(0.0, 0.005, seed=args.seed)}
    accuracies, histories = {}, {}
    for name, init in inits.items():
        model = BinaryMLP(input_dim=X.shape[1], hidden=best.hidden, dropout=best.dropout, kernel_initializer=init,
                          seed=args.seed, strategy=strategy)
        histories[name] = model.fit_arrays(X_trval, y_trval, epochs)
        accuracies[name] = model.compute_accuracy(data.X_test, data.y_test)
    metrics["mlp"] = {"hidden": list(best.hidden), "dropout": best.dropout, "epochs": epochs}
    metrics["mlp_test_accuracy"] = accuracies["glorot_uniform (Keras default, Xavier)"]
    metrics["init_test_accuracy"] = accuracies
    report("test accuracy per initialisation", [{"initialisation": k, "test_accuracy": round(v, 4)}
                                                for k, v in accuracies.items()], out, "initialisations")
    plot_comparison(histories, title="retrained on train + validation: loss and accuracy per initialisation",
                    save_path=out / "mlp_init_curves.png")
    write_metrics(out, metrics)
    return 0
