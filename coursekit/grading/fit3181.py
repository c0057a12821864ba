"""The FIT3181 A1 Part 3 checks, run inside the sandbox on a student's imported ``models.py``.

Each check takes the ``Context`` and returns ``(fraction, message)``: the fraction of its points earned and what
was wanted and got. A check that raises scores 0 with the exception named; one that runs past its time limit
is stopped. Student code is handled as ``coursekit.nets.student_models`` handles it: a Keras-2 ``Sequential`` without
an input, softmax or logits outputs, a subclassed model. Student outputs become ``np.asarray(..., float32)``
before any comparison.
"""
from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TEMPLATE_INIT = ("name", "width", "height", "depth", "num_blocks", "feature_maps", "num_classes", "drop_rate",
                 "batch_norm", "is_augmentation", "activation_func", "use_skip", "optimizer", "batch_size",
                 "num_epochs", "learning_rate")
METHODS = {"SimplePreprocessor": ("preprocess",),
           "AnimalsDatasetManager": ("load", "process_data_label", "train_valid_test_split"),
           "DefaultModel": ("build_cnn", "summary", "fit", "compute_accuracy", "plot_progress"),
           "YourModel": ("build_cnn",)}
EPS, STEPS, STEP_SIZE = 0.0313, 20, 0.002  # the assignment's Q3.8 settings
ALIASES = {"eps": ("epsilon", "eps"), "steps": ("num_steps", "steps", "k", "num_iter", "iterations", "n_steps",
                                                  "nb_iter", "num_iterations"),
           "step_size": ("step_size", "eta", "alpha", "eps_iter", "step"),
           "decay": ("decay", "decay_factor", "mu", "momentum"),
           "lo": ("clip_value_min", "clip_min", "min_val", "x_min", "lower"),
           "hi": ("clip_value_max", "clip_max", "max_val", "x_max", "upper")}


@dataclass
class Context:
    """What the checks share: the student's module, the grader's data and the kit's own model."""
    module: object
    data_dir: Path
    submission: Path
    rubric: dict
    seed: int = 0
    data: object = None  # a data manager (the student's when it works, else the kit's)
    value_range: tuple = (-1.0, 1.0)
    kit_model: object = None
    found_attacks: dict = field(default_factory=dict)


def _label_dict(data_dir):
    return {p.name: str(p) for p in sorted(Path(data_dir).iterdir()) if p.is_dir()}


def _decodes(path):
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:  # noqa: BLE001 (any unreadable file)
        return False


def _kit_data(ctx):
    """The kit's own data manager on the grader's folder, so that checks after a broken loader still run."""
    if ctx.data is None:
        from coursekit.datasets.animals import AnimalsDatasetManager
        from coursekit.datasets.preprocessing import SimplePreprocessor

        dm = AnimalsDatasetManager([SimplePreprocessor(32, 32)])
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dm.load(_label_dict(ctx.data_dir), verbose=-1)
        dm.process_data_label()
        dm.train_valid_test_split()
        ctx.data = dm
    return ctx.data


def _eval_set(ctx, n=96):
    """Images the attacks and accuracy checks use: the test split first, then validation and training images."""
    dm = _kit_data(ctx)
    x = np.concatenate([_float32(dm.X_test), _float32(dm.X_valid), _float32(dm.X_train)])[:n]
    ids = [np.asarray(v) for v in (dm.y_test, dm.y_valid, dm.y_train)]
    ids = [v.argmax(1) if v.ndim == 2 else v for v in ids]
    return x, np.concatenate(ids)[:n].astype(np.int64)


def _num_classes(ctx):
    return len(_label_dict(ctx.data_dir))


def _graph(model, shape=(32, 32, 3)):
    from coursekit.nets.student_models import as_functional
    return as_functional(model, shape)


def verdict(results):
    """``(fraction passed, message)`` from ``[(passed, what was checked), ...]``, each part marked ok or WRONG."""
    return (sum(ok for ok, _ in results) / len(results),
            "; ".join(("ok: " if ok else "WRONG: ") + m for ok, m in results))


def _float32(a):
    return np.asarray(a, dtype=np.float32)


# ------------------------------------------------------------------------------------------------ checks
def check_import(ctx):
    """The template's classes and methods (extra keyword arguments allowed), and no training at import."""
    mod = ctx.module
    wanted, got = [], []
    for cls, methods in METHODS.items():
        wanted.append(cls)
        klass = getattr(mod, cls, None)
        if klass is None:
            continue
        got.append(cls)
        for m in methods:
            wanted.append(f"{cls}.{m}")
            if callable(getattr(klass, m, None)):
                got.append(f"{cls}.{m}")
    default = getattr(mod, "DefaultModel", None)
    wanted.append("DefaultModel(name, width, ..., learning_rate) in the template's order")
    if default is not None:
        params = [p.name for p in inspect.signature(default.__init__).parameters.values()][1:len(TEMPLATE_INIT) + 1]
        if tuple(params) == TEMPLATE_INIT:
            got.append(wanted[-1])
    your = getattr(mod, "YourModel", None)
    wanted.append("YourModel subclasses DefaultModel")
    if isinstance(your, type) and isinstance(default, type) and issubclass(your, default):
        got.append(wanted[-1])
    wanted.append("no training while importing")
    if not getattr(mod, "__grader_fit_calls__", 0):
        got.append(wanted[-1])
    missing = [w for w in wanted if w not in got]
    return len(got) / len(wanted), ("all present" if not missing else "missing: " + "; ".join(missing))


def check_data_manager(ctx):
    """The student's loader on the grader's folder (one file in it is not an image)."""
    mod = ctx.module
    labels = _label_dict(ctx.data_dir)
    readable = sum(_decodes(p) for folder in labels.values() for p in sorted(Path(folder).iterdir()))
    sp = mod.SimplePreprocessor(32, 32)
    dm = mod.AnimalsDatasetManager([sp])
    dm.load(labels, verbose=-1) if "verbose" in inspect.signature(dm.load).parameters else dm.load(labels)
    dm.process_data_label()
    dm.train_valid_test_split()
    parts = {k: (_float32(getattr(dm, f"X_{k}")), np.asarray(getattr(dm, f"y_{k}"))) for k in ("train", "valid",
                                                                                               "test")}
    n = sum(len(x) for x, _ in parts.values())
    results = []
    results.append((n == readable, f"{n} images kept of {readable} readable (the corrupt file skipped)"))
    shapes = {x.shape[1:] for x, _ in parts.values()}
    results.append((shapes == {(32, 32, 3)}, f"image shape {sorted(shapes)} (want (32, 32, 3))"))
    y_all = np.concatenate([y.reshape(len(y), -1).argmax(1) if y.ndim == 2 else y for _, y in parts.values()])
    ok_labels = y_all.dtype.kind in "iu" and set(np.unique(y_all).tolist()) == set(range(len(labels)))
    results.append((ok_labels, f"labels {sorted(set(np.unique(y_all).tolist()))} (want 0..{len(labels) - 1})"))
    lo = min(float(x.min()) for x, _ in parts.values())
    hi = max(float(x.max()) for x, _ in parts.values())
    in_range = (lo >= -1 - 1e-6 and hi <= 1 + 1e-6) and hi - lo > 0.5
    results.append((in_range, f"values in [{lo:.3g}, {hi:.3g}] (want scaled into [-1, 1] or [0, 1])"))
    frac = len(parts["train"][0]) / max(n, 1)
    results.append((0.7 <= frac <= 0.9, f"train split {frac:.2f} of the images (want about 0.8)"))
    if all(ok for ok, _ in results[:2]):
        ctx.data = dm
        ctx.value_range = (-1.0 if lo < -0.05 else 0.0, 1.0)
    return verdict(results)


def check_default_model(ctx):
    """The template's cell [8]: ``DefaultModel(name='network1', num_classes=..., optimizer='sgd', ...)``."""
    from coursekit.nets.architectures import default_cnn

    k = _num_classes(ctx)
    net = ctx.module.DefaultModel(name="network1", num_classes=k, optimizer="sgd", batch_size=128, num_epochs=20,
                                  learning_rate=0.5)
    net.build_cnn()
    graph = _graph(net.model)
    want = default_cnn(32, 32, 3, k).count_params()
    shape = tuple(graph.output.shape)
    got = graph.count_params()
    ok_shape, ok_params = shape == (None, k), got == want
    return (ok_shape + ok_params) / 2, (f"output shape {shape} (want (None, {k})); {got:,} parameters "
                                        f"(want the template's {want:,})")


def _has_add(model, shape=(32, 32, 3)):
    """Whether an addition of two feature maps is in the network: an ``Add`` layer at any depth (nested models and
    layers included), or, for code inside a subclass's ``call``, an add of two same-shape maps in its trace."""
    import keras
    import tensorflow as tf

    from coursekit.keras_compat import all_layers

    def layers_of(obj, seen):
        for layer in all_layers(obj):
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer

    if any(isinstance(layer, keras.layers.Add) for layer in layers_of(model, set())):
        return True
    graph = _graph(model, shape)
    fn = tf.function(lambda x: graph(x, training=False))
    concrete = fn.get_concrete_function(tf.TensorSpec((1, *shape), tf.float32))
    for op in concrete.graph.get_operations():
        if op.type in ("AddV2", "Add") and len(op.inputs) == 2:
            a, b = (t.shape for t in op.inputs)
            if a.rank == 4 and a == b and a[1] and a[1] > 1 and a[2] and a[2] > 1:
                return True
    return False


def check_your_model(ctx):
    """Q3.2-3.3: ``YourModel`` with skip connections (an Add) when ``use_skip=True`` and none when False."""
    k = _num_classes(ctx)
    args = dict(feature_maps=32, num_classes=k, num_blocks=3, drop_rate=0.0, batch_norm=True, optimizer="adam",
                learning_rate=0.001)
    skip = ctx.module.YourModel(name="skip", use_skip=True, **args)
    skip.build_cnn()
    plain = ctx.module.YourModel(name="no_skip", use_skip=False, **args)
    plain.build_cnn()
    params = _graph(skip.model).count_params()
    lo, hi = ctx.rubric.get("min_params", 0), ctx.rubric.get("max_params", math.inf)
    results = [(_has_add(skip.model), "use_skip=True: a skip connection (Add) found"),
               (not _has_add(plain.model), "use_skip=False: no skip connection"),
               (lo <= params <= hi, f"{params:,} parameters (bounds {lo:,} to {hi:,})")]
    return verdict(results)


def _history_losses(net, returned):
    for h in (returned, getattr(net, "history", None), getattr(getattr(net, "model", None), "history", None)):
        hist = getattr(h, "history", h)
        if isinstance(hist, dict) and "loss" in hist:
            return [float(v) for v in hist["loss"]]
    return None


def check_fit(ctx):
    """``DefaultModel.fit`` for one epoch on a small set, ``compute_accuracy`` against argmax accuracy,
    ``plot_progress`` without a screen."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dm = _kit_data(ctx)
    k = _num_classes(ctx)
    # DefaultModel's fit (YourModel inherits it or overrides it for Q3.5), at a rate that does not diverge
    net = ctx.module.DefaultModel(name="fit_check", num_classes=k, optimizer="adam", batch_size=16, num_epochs=1,
                                  learning_rate=0.001)
    net.build_cnn()
    returned = net.fit(dm, batch_size=16, num_epochs=1)
    results = []
    losses = _history_losses(net, returned)
    results.append((losses is not None and len(losses) >= 1 and all(map(math.isfinite, losses)),
                    f"training losses {losses} (want finite, one per epoch)"))
    X, y = _float32(dm.X_test), np.asarray(dm.y_test)
    probs = _float32(_graph(net.model).predict(X, verbose=0))
    want = float(np.mean(probs.argmax(1) == y))
    got = float(_float32(net.compute_accuracy(dm.X_test, dm.y_test)).ravel()[0])
    agrees = abs(got - want) <= 1e-3 or abs(got - 100 * want) <= 0.1
    results.append((agrees, f"compute_accuracy {got:.4g} (argmax accuracy {want:.4f}, as a fraction or percentage)"))
    net.plot_progress()
    plt.close("all")
    results.append((True, "plot_progress ran"))
    return verdict(results)


# ---------------------------------------------------------------------------------------------- attacks
def discover_attacks(module):
    """``{'fgsm'|'pgd'|'mim': function}``: the module's functions whose names contain those words."""
    found = {}
    for name, obj in sorted(vars(module).items()):
        if not inspect.isfunction(obj) or name.startswith("_"):
            continue
        low = name.lower()
        for kind in ("fgsm", "pgd", "mim"):
            if kind in low and kind not in found:
                found[kind] = obj
    return found


def call_attack(fn, kind, model, x, y, value_range, eps=EPS, steps=STEPS, step_size=STEP_SIZE):
    """Call a student's attack whatever it names its parameters: model, images, labels first; eps, steps, step
    size, decay and clip bounds by their usual names. Integer labels first, one-hot if that fails."""
    params = list(inspect.signature(fn).parameters.values())
    names = {p.name for p in params}
    values = {"eps": eps, "steps": steps, "step_size": step_size, "decay": 1.0, "lo": value_range[0],
              "hi": value_range[1]}
    kwargs = {}
    for key, aliases in ALIASES.items():
        if kind == "fgsm" and key in ("steps", "step_size", "decay"):
            continue
        for alias in aliases:
            if alias in names:
                kwargs[alias] = values[key]
                break
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.name not in kwargs][:3]
    if len(positional) < 3:
        raise TypeError(f"{fn.__name__}{inspect.signature(fn)}: want (model, images, labels, ...)")
    last_error = None
    for labels in (y, np.eye(int(y.max()) + 1 if len(y) else 1, dtype=np.float32)[y]):
        try:
            return _float32(fn(model, x.copy(), labels, **kwargs))
        except Exception as exc:  # noqa: BLE001 (the next label form is tried)
            last_error = exc
    raise last_error


def _kit_model(ctx):
    """The kit's fixed network (a template-style softmax CNN), trained a little on the grader's data."""
    if ctx.kit_model is None:
        import keras

        from coursekit.nets.architectures import default_cnn
        from coursekit.training.config import TrainConfig
        from coursekit.training.fit import fit_classifier

        dm = _kit_data(ctx)
        keras.utils.set_random_seed(ctx.seed)
        net = default_cnn(32, 32, 3, _num_classes(ctx), name="kit_model")
        config = TrainConfig(num_classes=_num_classes(ctx), batch_size=16, epochs=10, learning_rate=1e-3,
                             seed=ctx.seed, verbose=False)
        fit_classifier(net, (_float32(dm.X_train), dm.y_train), None, config)
        ctx.kit_model = net
    return ctx.kit_model


def _attack_properties(ctx, kind):
    fn = ctx.found_attacks.get(kind)
    if fn is None:
        raise LookupError(f"no function with '{kind}' in its name in models.py "
                          f"(found: {sorted(f.__name__ for f in ctx.found_attacks.values()) or 'none'})")
    model = _kit_model(ctx)
    x, y = _eval_set(ctx, 32)
    before = x.copy()
    lo, hi = ctx.value_range
    x_adv = call_attack(fn, kind, model, x, y, ctx.value_range)
    results = [(x_adv.shape == x.shape, f"shape {x_adv.shape} (want {x.shape})")]
    finite = bool(np.isfinite(x_adv).all())
    results.append((finite, "no NaN or inf" if finite else "NaN or inf in the output"))
    dist = float(np.abs(x_adv - before).max()) if x_adv.shape == x.shape and finite else math.inf
    results.append((dist <= EPS + 1e-5, f"max |x_adv - x| = {dist:.4g} (want <= eps = {EPS})"))
    out_lo, out_hi = (float(x_adv.min()), float(x_adv.max())) if finite else (math.nan, math.nan)
    results.append((out_lo >= lo - 1e-5 and out_hi <= hi + 1e-5,
                    f"values in [{out_lo:.4g}, {out_hi:.4g}] (want inside the data's range [{lo:g}, {hi:g}])"))
    results.append((np.array_equal(x, before), "the input array is left unmodified"))
    results.append((dist > 1e-6 and dist != math.inf, "the attack changed the input"))
    fraction, message = verdict(results)
    return fraction, f"{fn.__name__}: " + message


def check_attack_fgsm(ctx):
    """The student's FGSM on the kit's model (eps 0.0313)."""
    return _attack_properties(ctx, "fgsm")


def check_attack_pgd(ctx):
    """The student's PGD on the kit's model (eps 0.0313, k 20, eta 0.002)."""
    return _attack_properties(ctx, "pgd")


def check_attack_mim(ctx):
    """The student's MIM on the kit's model."""
    return _attack_properties(ctx, "mim")


def _accuracy(model, x, y):
    from coursekit.nets.student_models import as_functional
    return float(np.mean(_float32(as_functional(model, x.shape[1:]).predict(x, verbose=0)).argmax(1) == y))


def check_pgd_strength(ctx):
    """On the kit's model: the student's PGD at least about as strong as the kit's PGD and as the student's FGSM."""
    from coursekit.attacks import pgd

    tol = ctx.rubric.get("tolerance", 0.1)
    if "pgd" not in ctx.found_attacks:
        raise LookupError("no function with 'pgd' in its name in models.py")
    model = _kit_model(ctx)
    x, y = _eval_set(ctx)
    lo, hi = ctx.value_range
    mine = _accuracy(model, np.clip(call_attack(ctx.found_attacks["pgd"], "pgd", model, x, y, ctx.value_range),
                                    lo, hi), y)
    kit = _accuracy(model, pgd(model, x, y, EPS, STEPS, STEP_SIZE, value_range=ctx.value_range), y)
    clean = _accuracy(model, x, y)
    results = [(mine <= kit + tol, f"on {len(x)} images the kit's model gets {clean:.3f}; under your PGD "
                                   f"{mine:.3f}, the kit's PGD {kit:.3f} (want yours <= the kit's + {tol})")]
    if "fgsm" in ctx.found_attacks:
        fg = _accuracy(model, np.clip(call_attack(ctx.found_attacks["fgsm"], "fgsm", model, x, y, ctx.value_range),
                                      lo, hi), y)
        results.append((mine <= fg + tol, f"your FGSM {fg:.3f} (want your PGD <= your FGSM + {tol})"))
    return verdict(results)


# ------------------------------------------------------------------------------------- saved models, notebook
class NotApplicable(Exception):
    """Nothing to check (an optional file not handed in); the check counts only where the rubric requires it."""


def _saved(ctx):
    return sorted((ctx.submission / "saved_models").glob("*.h5")) + sorted((ctx.submission / "models").glob("*.h5"))


def _load_safely(path):
    """Load in safe mode after the stored config passed the project's checks (no Lambda, nothing unknown)."""
    from coursekit.nets.saving import load_h5
    return load_h5(path, safe_mode=True)


def check_saved_models(ctx):
    """Every ``.h5`` loads in safe mode (a ``Lambda`` layer is refused, never run) and predicts class scores."""
    files = _saved(ctx)
    if not files:
        raise NotApplicable("no saved_models/*.h5 handed in")
    dm = _kit_data(ctx)
    k = _num_classes(ctx)
    results = []
    x = _float32(dm.X_test[:8])
    for path in files:
        try:
            model = _load_safely(path)
            out = _float32(model.predict(x, verbose=0))
            ok = out.shape == (len(x), k) and bool(np.isfinite(out).all())
            results.append((ok, f"{path.name}: loads, predicts shape {out.shape}" + _student_load_agrees(ctx, path, x,
                                                                                                        out)))
        except Exception as exc:  # noqa: BLE001 (reported)
            results.append((False, f"{path.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    return verdict(results)


def _student_load_agrees(ctx, path, x, want):
    """Where the student's ``DefaultModel`` has its own ``load``, the network it loads predicts as the file does
    (only called on files that loaded in safe mode, so no ``Lambda`` runs here)."""
    default = getattr(ctx.module, "DefaultModel", None)
    if not callable(getattr(default, "load", None)):
        return ""
    net = default(num_classes=_num_classes(ctx))
    loaded = net.load(str(path))
    model = loaded if hasattr(loaded, "predict") else net.model
    got = _float32(_graph(model, x.shape[1:]).predict(x, verbose=0))
    if got.shape != want.shape or not np.allclose(got, want, atol=1e-5):
        raise ValueError(f"your DefaultModel.load gives a network that predicts differently from the file "
                         f"(max difference {np.abs(got - want).max() if got.shape == want.shape else 'shape'})")
    return "; your DefaultModel.load predicts the same"


def check_robust_model(ctx):
    """The adversarially trained ``.h5`` (name with 'robust' or 'adv') beats a standard one under the kit's PGD."""
    from coursekit.attacks import pgd

    files = _saved(ctx)
    robust = [p for p in files if "robust" in p.name.lower() or "adv" in p.name.lower()]
    plain = [p for p in files if p not in robust]
    if not robust or not plain:
        raise NotApplicable("want an adversarially trained .h5 (name with 'robust' or 'adv') and a standard one")
    x, y = _eval_set(ctx)
    scores = {}
    for path in (robust[0], plain[0]):
        model = _load_safely(path)
        scores[path.name] = _accuracy(model, pgd(model, x, y, EPS, STEPS, STEP_SIZE, value_range=ctx.value_range), y)
    r, p = scores[robust[0].name], scores[plain[0].name]
    return float(r > p), (f"robust accuracy under the kit's PGD on the grader's images: {robust[0].name} {r:.3f}, "
                          f"{plain[0].name} {p:.3f} (want the first higher)")


def check_notebook(ctx):
    """The notebook was saved with every code cell run (the course requires it)."""
    notebooks = sorted(ctx.submission.glob("*.ipynb"))
    if not notebooks:
        raise NotApplicable("no notebook handed in")
    cells = [c for c in json.loads(notebooks[0].read_text()).get("cells", [])
             if c.get("cell_type") == "code" and "".join(c.get("source", [])).strip()]
    run = sum(c.get("execution_count") is not None for c in cells)
    return (run / len(cells) if cells else 0.0), f"{notebooks[0].name}: {run} of {len(cells)} code cells were run"


CHECKS = [("import", check_import), ("data_manager", check_data_manager), ("default_model", check_default_model),
          ("your_model", check_your_model), ("fit", check_fit), ("attack_fgsm", check_attack_fgsm),
          ("attack_pgd", check_attack_pgd), ("attack_mim", check_attack_mim), ("pgd_strength", check_pgd_strength),
          ("saved_models", check_saved_models), ("robust_model", check_robust_model), ("notebook", check_notebook)]
