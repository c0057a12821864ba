"""The FIT3181 checks on the template's classes: ``import`` (classes, methods, the template's signature),
``data_manager``, ``default_model``, ``your_model`` (skip connections) and ``fit``. Each check's ``collect_`` half
(the student's process) sits beside its ``judge_`` half (the grader)."""
from __future__ import annotations

import inspect
import json
import math

import numpy as np

from coursekit.grading.checks import verdict
from coursekit.grading.fit3181.common import _float32, _graph, _label_dict

TEMPLATE_INIT = ("name", "width", "height", "depth", "num_blocks", "feature_maps", "num_classes", "drop_rate",
                 "batch_norm", "is_augmentation", "activation_func", "use_skip", "optimizer", "batch_size",
                 "num_epochs", "learning_rate")
METHODS = {"SimplePreprocessor": ("preprocess",),
           "AnimalsDatasetManager": ("load", "process_data_label", "train_valid_test_split"),
           "DefaultModel": ("build_cnn", "summary", "fit", "compute_accuracy", "plot_progress"),
           "YourModel": ("build_cnn",)}
EPS, STEPS, STEP_SIZE = 0.0313, 20, 0.002  # the assignment's Q3.8 settings


def _weights_file(ctx, model, name):
    path = ctx.scratch / f"{name}.weights.h5"
    model.save_weights(str(path))
    return path


def _parameters_in(path):
    """The number of weights stored in a ``.weights.h5`` file, read with h5py alone (nothing is deserialised)."""
    import h5py

    total = 0
    with h5py.File(path, "r") as f:
        def add(_, obj):
            nonlocal total
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub":
                total += int(obj.size)
        f.visititems(add)
    return total


# ------------------------------------------------------------------------------------------------ import
def collect_import(ctx):
    mod = ctx.module
    classes = {cls: [m for m in methods if callable(getattr(getattr(mod, cls), m, None))]
               for cls, methods in METHODS.items() if getattr(mod, cls, None) is not None}
    default, your = getattr(mod, "DefaultModel", None), getattr(mod, "YourModel", None)
    params = ([p.name for p in inspect.signature(default.__init__).parameters.values()][1:len(TEMPLATE_INIT) + 1]
              if default is not None else [])
    return {"classes": classes, "init_params": params, "fit_calls": int(getattr(mod, "__grader_fit_calls__", 0)),
            "your_subclasses_default": bool(isinstance(your, type) and isinstance(default, type)
                                            and issubclass(your, default))}


def judge_import(replies, kit):
    """The template's classes and methods (extra keyword arguments allowed), and no training at import."""
    reply = replies("import")
    classes = reply.mapping("classes")
    wanted, got = [], []
    for cls, methods in METHODS.items():
        wanted.append(cls)
        present = classes.get(cls)
        if not isinstance(present, list):
            continue
        got.append(cls)
        for m in methods:
            wanted.append(f"{cls}.{m}")
            if m in present:
                got.append(f"{cls}.{m}")
    wanted.append("DefaultModel(name, width, ..., learning_rate) in the template's order")
    if tuple(reply.strings("init_params", 40)) == TEMPLATE_INIT:
        got.append(wanted[-1])
    wanted.append("YourModel subclasses DefaultModel")
    if reply.flag("your_subclasses_default"):
        got.append(wanted[-1])
    wanted.append("no training while importing")
    if reply.number("fit_calls") == 0:
        got.append(wanted[-1])
    missing = [w for w in wanted if w not in got]
    return len(got) / len(wanted), ("all present" if not missing else "missing: " + "; ".join(missing))


# ------------------------------------------------------------------------------------------ data manager
def collect_data_manager(ctx):
    mod = ctx.module
    labels = _label_dict(ctx.images)
    dm = mod.AnimalsDatasetManager([mod.SimplePreprocessor(32, 32)])
    dm.load(labels, verbose=-1) if "verbose" in inspect.signature(dm.load).parameters else dm.load(labels)
    dm.process_data_label()
    dm.train_valid_test_split()
    out = {}
    for k in ("train", "valid", "test"):
        out[f"X_{k}"] = _float32(getattr(dm, f"X_{k}"))
        y = np.asarray(getattr(dm, f"y_{k}"))
        out[f"y_{k}"] = y.reshape(len(y), -1).argmax(1) if y.ndim == 2 else y
    return out


def judge_data_manager(replies, kit):
    """The student's loader on the grader's folder (one file in it is not an image)."""
    reply = replies("data_manager")
    parts = {k: (reply.array(f"X_{k}"), reply.array(f"y_{k}", (None,))) for k in ("train", "valid", "test")}
    n = sum(len(x) for x, _ in parts.values())
    results = [(n == kit.readable, f"{n} images kept of {kit.readable} readable (the corrupt file skipped)")]
    shapes = {x.shape[1:] for x, _ in parts.values()}
    results.append((shapes == {(32, 32, 3)}, f"image shape {sorted(shapes)} (want (32, 32, 3))"))
    y_all = np.concatenate([y for _, y in parts.values()])
    found = sorted(set(np.unique(y_all).tolist()))
    ok_labels = y_all.dtype.kind in "iu" and set(found) == set(range(kit.num_classes))
    results.append((ok_labels, f"labels {found[:12]} (want 0..{kit.num_classes - 1})"))
    xs = [x for x, _ in parts.values() if x.size]
    finite = bool(xs) and all(np.isfinite(x).all() for x in xs)
    lo = min(float(x.min()) for x in xs) if finite else math.nan
    hi = max(float(x.max()) for x in xs) if finite else math.nan
    in_range = finite and (lo >= -1 - 1e-6 and hi <= 1 + 1e-6) and hi - lo > 0.5
    results.append((in_range, f"values in [{lo:.3g}, {hi:.3g}] (want scaled into [-1, 1] or [0, 1])"))
    frac = len(parts["train"][0]) / max(n, 1)
    results.append((0.7 <= frac <= 0.9, f"train split {frac:.2f} of the images (want about 0.8)"))
    return verdict(results)


# ----------------------------------------------------------------------------------------- the networks
def collect_default_model(ctx):
    net = ctx.module.DefaultModel(name="network1", num_classes=ctx.num_classes, optimizer="sgd", batch_size=128,
                                  num_epochs=20, learning_rate=0.5)
    net.build_cnn()
    graph = _graph(net.model)
    x, _ = ctx.eval_set()
    return {"weights.h5": _weights_file(ctx, graph, "default"), "scores": _float32(graph.predict(x[:8], verbose=0))}


def judge_default_model(replies, kit):
    """The template's cell [8]: ``DefaultModel(name='network1', num_classes=..., optimizer='sgd', ...)``: its saved
    weights hold the template's parameter count and it scores every class."""
    from coursekit.nets.architectures import default_cnn

    reply = replies("default_model")
    k = kit.num_classes
    scores = reply.array("scores")
    want = default_cnn(32, 32, 3, k).count_params()
    got = _parameters_in(reply.file("weights.h5"))
    shape = (None, *scores.shape[1:])
    ok_shape, ok_params = scores.shape == (8, k), got == want
    return (ok_shape + ok_params) / 2, (f"output shape {shape} (want (None, {k})); {got:,} parameters "
                                        f"(want the template's {want:,})")


def _add_evidence(model, shape=(32, 32, 3)):
    """Where the network adds two feature maps of the same shape: the input shapes of each such addition in its
    traced graph (an ``Add`` layer or a ``+`` inside a subclass's ``call``), as lists."""
    import tensorflow as tf

    graph = _graph(model, shape)
    fn = tf.function(lambda x: graph(x, training=False))
    concrete = fn.get_concrete_function(tf.TensorSpec((1, *shape), tf.float32))
    found = []
    for op in concrete.graph.get_operations():
        if op.type in ("AddV2", "Add") and len(op.inputs) == 2:
            a, b = (t.shape for t in op.inputs)
            if a.rank == 4 and b.rank == 4:
                found.append([[int(d or 0) for d in a], [int(d or 0) for d in b]])
    return found


def _skip_in(config, evidence):
    """Whether a saved config names an ``Add`` (at any depth) or the traced additions join two same-shape maps."""
    from coursekit.nets.model_files import named_objects

    if isinstance(config, dict) and any(obj.class_name == "Add" for obj in named_objects(config)):
        return True

    def same_maps(pair):
        shapes_ok = (isinstance(pair, list) and len(pair) == 2
                     and all(isinstance(s, list) and len(s) == 4 and all(type(d) is int for d in s) for s in pair))
        return shapes_ok and pair[0] == pair[1] and pair[0][1] > 1 and pair[0][2] > 1

    return isinstance(evidence, list) and any(same_maps(pair) for pair in evidence[:10000])


def _has_add(model, shape=(32, 32, 3)):
    """Both halves at once (tests): a skip connection in ``model``'s config or traced graph."""
    import keras

    from coursekit.keras_compat import all_layers

    if any(isinstance(layer, keras.layers.Add) for layer in all_layers(model)):
        return True
    return _skip_in({}, _add_evidence(model, shape))


def _config_of(graph):
    try:
        return json.loads(graph.to_json())
    except Exception:  # noqa: BLE001 (a custom layer without get_config: the traced graph still tells)
        return {}


def collect_your_model(ctx):
    args = dict(feature_maps=32, num_classes=ctx.num_classes, num_blocks=3, drop_rate=0.0, batch_norm=True,
                optimizer="adam", learning_rate=0.001)
    out = {}
    for tag, use_skip in (("skip", True), ("no_skip", False)):
        net = ctx.module.YourModel(name=tag, use_skip=use_skip, **args)
        net.build_cnn()
        graph = _graph(net.model)
        out[f"{tag}_config"] = _config_of(graph)
        out[f"{tag}_adds"] = _add_evidence(net.model)
        if use_skip:
            out["weights.h5"] = _weights_file(ctx, graph, "your_model")
    return out


def judge_your_model(replies, kit):
    """Q3.2-3.3: ``YourModel`` with skip connections (an Add) when ``use_skip=True`` and none when False."""
    reply = replies("your_model")
    skip = _skip_in(reply.mapping("skip_config"), reply.values.get("skip_adds") or [])
    plain = _skip_in(reply.mapping("no_skip_config"), reply.values.get("no_skip_adds") or [])
    params = _parameters_in(reply.file("weights.h5"))
    lo, hi = kit.rubric.get("min_params", 0), kit.rubric.get("max_params", math.inf)
    return verdict([(skip, "use_skip=True: a skip connection (Add) found"),
                    (not plain, "use_skip=False: no skip connection"),
                    (lo <= params <= hi, f"{params:,} parameters (bounds {lo:,} to {hi:,})")])


# ---------------------------------------------------------------------------------------------------- fit
def _history_losses(net, returned):
    for h in (returned, getattr(net, "history", None), getattr(getattr(net, "model", None), "history", None)):
        hist = getattr(h, "history", h)
        if isinstance(hist, dict) and "loss" in hist:
            return [float(v) for v in hist["loss"]]
    return None


def collect_fit(ctx):
    import matplotlib.pyplot as plt  # the grader's process draws off screen (MPLBACKEND=Agg); a notebook keeps its own

    before = set(plt.get_fignums())
    dm = ctx.data
    # DefaultModel's fit (YourModel inherits it or overrides it for Q3.5), at a rate that does not diverge
    net = ctx.module.DefaultModel(name="fit_check", num_classes=ctx.num_classes, optimizer="adam", batch_size=16,
                                  num_epochs=1, learning_rate=0.001)
    net.build_cnn()
    returned = net.fit(dm, batch_size=16, num_epochs=1)
    losses = _history_losses(net, returned)
    scores = _float32(_graph(net.model).predict(_float32(dm.X_test), verbose=0))
    accuracy = float(_float32(net.compute_accuracy(dm.X_test, dm.y_test)).ravel()[0])
    net.plot_progress()
    for number in set(plt.get_fignums()) - before:  # only the check's own figures: a notebook's stay
        plt.close(number)
    return {"losses": losses, "scores": scores, "compute_accuracy": accuracy, "plotted": True}


def judge_fit(replies, kit):
    """``DefaultModel.fit`` for one epoch on the kit's split, ``compute_accuracy`` against the argmax accuracy
    computed here from the network's scores and the kit's labels, ``plot_progress`` without a screen."""
    reply = replies("fit")
    losses = reply.numbers("losses") if isinstance(reply.values.get("losses"), list) else None
    y = np.asarray(kit.dm.y_test)
    scores = reply.array("scores", (len(y), kit.num_classes))
    want = float(np.mean(scores.argmax(1) == y))
    got = reply.number("compute_accuracy")
    agrees = abs(got - want) <= 1e-3 or abs(got - 100 * want) <= 0.1
    return verdict([(losses is not None and len(losses) >= 1 and all(map(math.isfinite, losses)),
                     f"training losses {losses} (want finite, one per epoch)"),
                    (agrees, f"compute_accuracy {got:.4g} (argmax accuracy {want:.4f}, as a fraction or percentage)"),
                    (reply.flag("plotted"), "plot_progress ran")])
