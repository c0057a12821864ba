"""RecVis A2 Part 1 (numpy): a two-layer network trained by hand-written backpropagation on the double moon.

1. gradient check: the analytic gradient against central differences on 1,000 random cases;
2. h = 7, lr = 0.02: decision boundary and error curves;
3. five random restarts, final errors in a table;
4. sweeps: lr in {2, 0.2, 0.02, 0.002} (h = 7) and h in {1, 2, 5, 7, 10, 100} (lr = 0.02), five
   trials of 40 epochs each: final errors with std error bars, and the error evolution.
"""
from __future__ import annotations

import time
from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, report, write_metrics

HELP = "RecVis A2 Part 1: numpy two-layer net on the double moon - gradcheck, training, restarts, lr/h sweeps"

LRATES = [2, 0.2, 0.02, 0.002]
HIDDEN = [1, 2, 5, 7, 10, 100]


def add_arguments(p):
    add_common_arguments(p, out="outputs/double_moon", seed=0,
                         seed_help="seeds data generation, initialisation and example draws",
                         data_help="folder with double_moon_train1000.mat and double_moon_val1000.mat (keys X, Y); "
                                   "default: a generated two-moons set of the same size")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for every run (default: the seed's, 100 for the single runs and 40 in the sweeps)")
    p.add_argument("--trials", type=int, default=5, help="runs per setting (default 5)")
    p.add_argument("--gradcheck-cases", type=int, default=1000, help="random cases in the gradient check")


def _table(results, key_name, keys):
    rows = []
    for key, (tr, val) in zip(keys, results.values()):
        rows.append({key_name: key, "train_error_mean": round(float(tr[:, -1].mean()), 3),
                     "train_error_std": round(float(tr[:, -1].std()), 3),
                     "val_error_mean": round(float(val[:, -1].mean()), 3),
                     "val_error_std": round(float(val[:, -1].std()), 3)})
    return rows


def run(args):
    import matplotlib.pyplot as plt

    from coursekit.exercises import double_moon as dm
    from coursekit.report.plots import finish_figure

    out = out_dir(args.out)
    with data_errors():
        Xtr, Ytr, Xval, Yval, source = dm.load_double_moon(args.data, seed=args.seed)
    print(f"data: {source}")
    single_epochs = args.epochs or 100
    sweep_epochs = args.epochs or 40

    print(f"\nTask 1.4: gradient check on {args.gradcheck_cases} random cases")
    ok = dm.gradcheck(args.gradcheck_cases, seed=args.seed)

    print(f"\nTask 1.5: h = 7, lr = 0.02, {single_epochs} epochs")
    tr, val, params = dm.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.02, vis="never", nEpochs=single_epochs,
                                    seed=args.seed, return_params=True)
    dm.plot_decision_boundary(Xtr, Ytr, *params, title=f"h = 7, lr = 0.02: training error {tr[-1]:.2f}%",
                              save_path=out / "boundary_h7.png")
    dm.plot_error_curves({"h = 7, lr = 0.02": (tr[None], val[None])}, save_path=out / "errors_h7.png")
    plt.close("all")
    print(f"final training / validation error: {tr[-1]:.2f}% / {val[-1]:.2f}%")

    restarts = dm.sweep(Xtr, Ytr, Xval, Yval, [(7, 0.02)], trials=5, nEpochs=single_epochs, seed=args.seed + 1)
    tr5, val5 = restarts[(7, 0.02)]
    restart_rows = [{"run": i + 1, "train_error": round(float(tr5[i, -1]), 3), "val_error": round(float(val5[i, -1]), 3)}
                    for i in range(5)]
    report("Task 1.6: five random restarts (h = 7, lr = 0.02)", restart_rows, out, "restarts")

    start = time.perf_counter()
    lr_results = dm.sweep(Xtr, Ytr, Xval, Yval, [(7, lr) for lr in LRATES], args.trials, sweep_epochs, args.seed + 2)
    h_results = dm.sweep(Xtr, Ytr, Xval, Yval, [(h, 0.02) for h in HIDDEN], args.trials, sweep_epochs, args.seed + 3)
    seconds = time.perf_counter() - start
    print(f"\nboth sweeps ({args.trials} trials x {len(LRATES) + len(HIDDEN)} settings x {sweep_epochs} epochs): "
          f"{seconds:.1f} s")
    lr_rows = _table(lr_results, "lr", LRATES)
    h_rows = _table(h_results, "h", HIDDEN)
    report("Sample task: learning rate (h = 7), final errors (%)", lr_rows, out, "sweep_lr")
    report("Task 1.8: hidden units (lr = 0.02), final errors (%)", h_rows, out, "sweep_h")
    dm.plot_final_errors(lr_results, list(lr_results), "learning rate", save_path=out / "sweep_lr_final.png")
    dm.plot_error_curves({f"LR = {lr}": r for (_, lr), r in lr_results.items()}, title="error evolution per learning rate",
                         save_path=out / "sweep_lr_evolution.png")
    dm.plot_final_errors(h_results, list(h_results), "hidden units h", save_path=out / "sweep_h_final.png")
    dm.plot_error_curves({f"h = {h}": r for (h, _), r in h_results.items()}, title="error evolution per h",
                         save_path=out / "sweep_h_evolution.png")
    fig, axes = plt.subplots(1, len(HIDDEN), figsize=(3.2 * len(HIDDEN), 3.4))
    for ax, h in zip(axes, HIDDEN):
        _, _, p = dm.train_loop(Xtr, Ytr, Xval, Yval, h, 0.02, vis="never", nEpochs=sweep_epochs, seed=args.seed + h,
                                return_params=True)
        dm.plot_decision_boundary(Xtr, Ytr, *p, title=f"h = {h}", ax=ax)
    finish_figure(fig, out / "sweep_h_boundaries.png", dpi=100)
    plt.close("all")
    write_metrics(out, {"data": source, "gradcheck": "SUCCESS" if ok else "FAILURE",
                        "single_run": {"train_error": float(tr[-1]), "val_error": float(val[-1])},
                        "restarts": restart_rows, "sweep_lr": lr_rows, "sweep_h": h_rows,
                        "sweep_seconds": round(seconds, 2)})
    return 0 if ok else 1
