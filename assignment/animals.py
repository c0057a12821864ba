"""FIT3181 A1 Part 3: the Animals CNN, from the default model to adversarial training.

Steps (each a flag; the plain run does the first two):
1. load the image folders with ``AnimalsDatasetManager`` (cells [3]-[7]);
2. train the template's ``DefaultModel`` and a ``YourModel`` and compare them (cells [8]-[14], Q3.2);
3. ``--compare-skip`` (Q3.3), ``--tune`` (Q3.4), ``--compare-augmentation`` (Q3.5-3.6),
   ``--compare-mixup`` (Q3.7), ``--sam`` (Q3.10);
4. ``--adversarial``: attacks on the trained model (Q3.8) and PGD adversarial training (Q3.9).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from assignment.common import (add_backup_argument, add_common_arguments, add_device_arguments, add_tuning_argument,
                               backup_path, out_dir, report, setup_devices, tuning_worker_done, write_metrics)

HELP = "FIT3181 A1 Part 3: Animals CNN - DefaultModel, YourModel, comparisons, tuning, attacks, adversarial training"
DEFAULT_DATA = Path("datasets/Animals")


def add_arguments(p):
    add_common_arguments(p, out="outputs/animals", seed=1234,
                         seed_help="seed for splits' batching, init, augmentation, mixup",
                         data_help="folder with one sub-folder of images per class (default: datasets/Animals, or the"
                                   " embedded digits set when that folder is absent)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per model (default: YourModel's own, 60; the template's DefaultModel cell: 20)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="batch size for YourModel runs (default: YourModel's own, 32)")
    p.add_argument("--max-images", type=int, default=500, help="images read per class (default 500)")
    p.add_argument("--models-dir", type=Path, default=Path("saved_models"), help="where .h5 models go")
    p.add_argument("--compare-skip", action="store_true", help="Q3.3: YourModel with and without skip connections")
    p.add_argument("--tune", action="store_true", help="Q3.4: grid search over num_blocks, use_skip, learning_rate")
    p.add_argument("--compare-augmentation", action="store_true", help="Q3.6: with and without data augmentation")
    p.add_argument("--compare-mixup", action="store_true", help="Q3.7: with and without mixup")
    p.add_argument("--mixup-alpha", type=float, default=0.2, help="Beta(alpha, alpha) for mixup (default 0.2)")
    p.add_argument("--sam", action="store_true", help="Q3.10: with and without sharpness-aware minimisation")
    p.add_argument("--sam-rho", type=float, default=0.05, help="SAM radius rho (default 0.05)")
    p.add_argument("--adversarial", action="store_true",
                   help="Q3.8-3.9: FGSM/PGD/MIM on the trained model, then PGD adversarial training")
    p.add_argument("--adv-epochs", type=int, default=None, help="epochs of adversarial training (default --epochs)")
    p.add_argument("--adv-clean-weight", type=float, default=0.0,
                   help="weight w of the clean loss in adversarial training, (1 - w) L(x_adv) + w L(x) (default 0)")
    add_device_arguments(p)
    add_backup_argument(p)
    add_tuning_argument(p)


def load_data(data=None, max_images=500, seed=6789, verbose=100):
    """The Animals folders if present, else the embedded digits rendered as an Animals-style tree."""
    from models import AnimalsDatasetManager, SimplePreprocessor, create_label_folder_dict, render_digits_folder

    folder = data if data is not None else DEFAULT_DATA
    if data is None and not DEFAULT_DATA.is_dir():
        folder = render_digits_folder()
        print(f"No {DEFAULT_DATA}/ folder: using the embedded default data, scikit-learn's digits rendered as "
              f"32x32 RGB images in {folder} (see datasets/README.md to use the real Animals set).")
    data_manager = AnimalsDatasetManager([SimplePreprocessor(width=32, height=32)], random_state=seed)
    data_manager.load(create_label_folder_dict(folder), max_num_images=max_images, verbose=verbose)
    data_manager.process_data_label()
    data_manager.train_valid_test_split()
    print(data_manager.X_train.shape, data_manager.y_train.shape)
    print(data_manager.X_valid.shape, data_manager.y_valid.shape)
    print(data_manager.X_test.shape, data_manager.y_test.shape)
    print(data_manager.classes)
    return data_manager


def make_your_model(data_manager, args, name="your_model", **overrides):
    """A ``YourModel`` with its own defaults (the recipe) unless ``--epochs``/``--batch-size`` or a comparison
    (``overrides``) says otherwise."""
    from models import YourModel

    params = dict(name=name, num_classes=len(data_manager.classes), seed=args.seed, strategy=args.strategy_object,
                  backup_dir=backup_path(args, name))
    if args.epochs:
        params["num_epochs"] = args.epochs
    if args.batch_size:
        params["batch_size"] = args.batch_size
    params.update(overrides)
    return YourModel(**params)


def summarise(name, model, data_manager):
    """One results row: validation and test accuracy, the epochs actually trained and why training
    stopped early (``"3"``: early stopping at epoch 3; ``"1 (loss diverged)"``: the loss diverged in epoch 1)."""
    hist = model.history
    stopped = getattr(hist, "stopped_epoch", None) or "-"
    if getattr(hist, "diverged_epoch", None):
        stopped = f"{hist.diverged_epoch} (loss diverged)"
    return {"model": name,
            "val_accuracy": round(model.compute_accuracy(data_manager.X_valid, data_manager.y_valid), 4),
            "test_accuracy": round(model.compute_accuracy(data_manager.X_test, data_manager.y_test), 4),
            "epochs": len(hist.history["loss"]),
            "stopped_early_at": stopped}


def compare(title, variants, data_manager, args, out, key):
    """Train each ``{label: model}``, print the comparison and save their learning curves side by side."""
    from models import plot_comparison

    rows = []
    for label, model in variants.items():
        print(f"\n-- {title}: {label} --")
        model.fit(data_manager)
        rows.append(summarise(label, model, data_manager))
    report(title, rows, out, key, collect=args.metrics)
    plot_comparison({label: m.history for label, m in variants.items()}, title=title,
                    save_path=out / f"{key}.png")
    print(f"learning curves: {out / (key + '.png')}")
    return variants


def run_baseline(data_manager, args, out):
    """Cells [8]-[14] and Q3.2: the template's default model beside YourModel."""
    from models import DefaultModel

    network1 = DefaultModel(name="network1", num_classes=len(data_manager.classes), optimizer="sgd",
                            batch_size=128, num_epochs=args.epochs or 20, learning_rate=0.5, seed=args.seed,
                            strategy=args.strategy_object, backup_dir=backup_path(args, "network1"))
    network1.build_cnn()
    network1.summary()
    network1.fit(data_manager, batch_size=64, num_epochs=args.epochs or 20)
    yours = make_your_model(data_manager, args)
    yours.build_cnn()
    yours.summary()
    yours.fit(data_manager)
    rows = [summarise("DefaultModel (template: sgd, lr=0.5)", network1, data_manager),
            summarise("YourModel (its defaults: the recipe)", yours, data_manager)]
    report("Default model vs YourModel", rows, out, "baseline", collect=args.metrics)
    for model in (network1, yours):
        model.plot_progress(save_path=out / f"{model.name}_progress.png")
        model.plot_prediction(data_manager.X_test, data_manager.y_test, data_manager.classes,
                              save_path=out / f"{model.name}_predictions.png")
        print(f"saved {model.save(args.models_dir / (model.name + '.h5'))}")
    print(f"plots: {out}/*_progress.png, {out}/*_predictions.png")
    return yours


def run_adversarial(model, data_manager, args, out):
    """Q3.8: attack the trained model; Q3.9: PGD adversarial training, best robust model reloaded."""
    from coursekit.attacks.robustness import RobustCheckpoint, robustness_report
    from models import AdversarialTraining, pgd, plot_adversarial

    vr = data_manager.value_range
    X, y = data_manager.X_test, data_manager.y_test
    print("\n== Q3.8: attacks on the clean-trained model (eps=0.0313, k=20, eta=0.002) ==")
    clean_report = robustness_report(model.model, X, y, value_range=vr, seed=args.seed)
    idx = np.random.default_rng(args.seed).choice(len(X), size=min(20, len(X)), replace=False)
    x_adv = pgd(model.model, X[idx], y[idx], eps=0.0313, steps=20, step_size=0.002, value_range=vr, seed=args.seed)
    plot_adversarial(X[idx], x_adv, y[idx], model.predict(X[idx]), model.predict(x_adv), data_manager.classes,
                     value_range=vr, title="clean (top) and PGD-20 (below)", save_path=out / "adversarial_pgd.png")
    print(f"figure: {out / 'adversarial_pgd.png'}")

    print("\n== Q3.9: PGD adversarial training (eps=0.0313, k=10, eta=0.002) ==")
    robust = make_your_model(data_manager, args, name="animals_robust", patience=None,
                             **({"num_epochs": args.adv_epochs} if args.adv_epochs else {}),
                             adversarial=AdversarialTraining(0.0313, 10, 0.002, vr,
                                                             clean_weight=args.adv_clean_weight))
    robust.build_cnn()
    path = args.models_dir / "animals_robust.h5"
    checkpoint = RobustCheckpoint(data_manager.X_valid, data_manager.y_valid, path, value_range=vr, seed=args.seed)
    robust.fit(data_manager, callbacks=[checkpoint])
    robust.plot_progress(save_path=out / "animals_robust_progress.png")
    print(f"best robust model (PGD validation accuracy {checkpoint.best:.4f}, epoch {checkpoint.best_epoch}): {path}")

    split = out / "test_split.npz"
    np.savez(split, X=X, y=y, value_range=np.asarray(vr))
    print("evaluating the saved model in a fresh process ...", flush=True)
    subprocess.run([sys.executable, "-m", "assignment.robust_eval", str(path), str(split),
                    "--seed", str(args.seed), "--json", str(out / "robust_eval.json")], check=True)
    robust_report = json.loads((out / "robust_eval.json").read_text())
    rows = [{"model": "clean-trained YourModel", **{k: round(v, 4) for k, v in clean_report.items()}},
            {"model": "PGD-trained (reloaded .h5)", **{k: round(v, 4) for k, v in robust_report.items()}}]
    report("Robust accuracy on the test set (eps=0.0313, k=20, eta=0.002)", rows, out, "robustness",
           collect=args.metrics)


def run(args):
    args.strategy_object = setup_devices(args)
    args.metrics = {}
    out = out_dir(args.out)
    args.models_dir.mkdir(parents=True, exist_ok=True)
    data_manager = load_data(args.data, args.max_images)
    yours = run_baseline(data_manager, args, out)
    if args.compare_skip:
        compare("Q3.3 skip connections", {
            "use_skip=True": make_your_model(data_manager, args, "skip", use_skip=True, drop_rate=0.0),
            "use_skip=False": make_your_model(data_manager, args, "no_skip", use_skip=False, drop_rate=0.0),
        }, data_manager, args, out, "compare_skip")
    if args.tune:
        from coursekit.training.tuning import grid_search
        from models import YourModel
        print("\n== Q3.4: grid search (num_blocks x use_skip x learning_rate) ==")
        rows, best = grid_search(lambda **p: make_your_model(data_manager, args, "tuned", verbose=False,
                                                             backup_dir=None, **p),
                                 data_manager, batch_size=args.batch_size or YourModel.DEFAULTS["batch_size"],
                                 num_epochs=args.epochs or YourModel.DEFAULTS["num_epochs"],
                                 print_table=False, directory=args.tune_dir)
        if tuning_worker_done(best):
            return 0
        report("Q3.4 grid search, sorted by validation accuracy", rows, out, "tuning", collect=args.metrics)
    if args.compare_augmentation:
        compare("Q3.6 data augmentation", {
            "no augmentation": make_your_model(data_manager, args, "no_aug", is_augmentation=False),
            "augmentation (the recipe's crops)": make_your_model(data_manager, args, "aug"),
            "augmentation (the template's set)": make_your_model(data_manager, args, "aug_template",
                                                                 is_augmentation=True),
        }, data_manager, args, out, "compare_augmentation")
    if args.compare_mixup:
        compare("Q3.7 mixup", {
            "no mixup": make_your_model(data_manager, args, "no_mixup", mixup_alpha=0.0),
            f"mixup alpha={args.mixup_alpha}": make_your_model(data_manager, args, "mixup",
                                                                mixup_alpha=args.mixup_alpha),
        }, data_manager, args, out, "compare_mixup")
    if args.sam:
        compare("Q3.10 sharpness-aware minimisation", {
            "plain": make_your_model(data_manager, args, "plain"),
            f"SAM rho={args.sam_rho}": make_your_model(data_manager, args, "sam", sam_rho=args.sam_rho),
        }, data_manager, args, out, "compare_sam")
    if args.adversarial:
        run_adversarial(yours, data_manager, args, out)
    write_metrics(out, args.metrics)
    print(f"\nDone. Tables and plots in {out}/, models in {args.models_dir}/")
    return 0
