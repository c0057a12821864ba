"""The FIT3181 A1 Part 3 checks, each in two halves (``checks.Check``).

``collect_<check>(ctx)`` runs in the submission's isolated process on the student's imported ``models.py`` and
hands back plain values: arrays, saved weights, numbers, names. ``judge_<check>(replies, kit)`` runs in the
grader's process on the validated reply (``replies.Reply``) and on the ``Kit``: the grader's images, its own
split and labels, its trained model and its own FGSM/PGD/MIM, none of which the student's code can change. Every
score is computed there. ``robust_model``, ``notebook`` and the safety half of ``saved_models`` read the handed-in
files in the grader only (model files in safe mode, after ``model_files.check_model_file``).

Student code is handled as ``coursekit.nets.student_models`` handles it: a Keras-2 ``Sequential`` without an
input, softmax or logits outputs, a subclassed model.
"""
from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.grading.checks import Check, NotApplicable, verdict  # noqa: F401 (NotApplicable: re-exported)

TEMPLATE_INIT = ("name", "width", "height", "depth", "num_blocks", "feature_maps", "num_classes", "drop_rate",
                 "batch_norm", "is_augmentation", "activation_func", "use_skip", "optimizer", "batch_size",
                 "num_epochs", "learning_rate")
METHODS = {"SimplePreprocessor": ("preprocess",),
           "AnimalsDatasetManager": ("load", "process_data_label", "train_valid_test_split"),
           "DefaultModel": ("build_cnn", "summary", "fit", "compute_accuracy", "plot_progress"),
           "YourModel": ("build_cnn",)}
EPS, STEPS, STEP_SIZE = 0.0313, 20, 0.002  # the assignment's Q3.8 settings
EVAL_IMAGES = 96
ALIASES = {"eps": ("epsilon", "eps"), "steps": ("num_steps", "steps", "k", "num_iter", "iterations", "n_steps",
                                                  "nb_iter", "num_iterations"),
           "step_size": ("step_size", "eta", "alpha", "eps_iter", "step"),
           "decay": ("decay", "decay_factor", "mu", "momentum"),
           "lo": ("clip_value_min", "clip_min", "min_val", "x_min", "lower"),
           "hi": ("clip_value_max", "clip_max", "max_val", "x_max", "upper")}
# how close a student's attack must come to the kit's own (measured on the planted submissions and the 2022
# students' code in tests/grading: correct variants agree on 0.93-1.0 of FGSM's signs and are within 0.03 of the
# kit's robust accuracy; random signs agree on about half and leave the accuracy near the clean one)
FGSM_SIGN_AGREEMENT = 0.8
STRENGTH_MARGIN = 0.15


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


def _float32(a):
    return np.asarray(a, dtype=np.float32)


def kit_data_manager(data_dir):
    """The kit's own data manager on the grader's folder: the same split in the student's process and here."""
    import warnings

    from coursekit.datasets.animals import AnimalsDatasetManager
    from coursekit.datasets.preprocessing import SimplePreprocessor

    dm = AnimalsDatasetManager([SimplePreprocessor(32, 32)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load(_label_dict(data_dir), verbose=-1)
    dm.process_data_label()
    dm.train_valid_test_split()
    return dm


def _graph(model, shape=(32, 32, 3)):
    from coursekit.nets.student_models import as_functional
    return as_functional(model, shape)


# ------------------------------------------------------------------------------------- the grader's side
@dataclass
class Kit:
    """What only the grader holds: its images' readable count, its split and labels, its trained model and its
    own attacks' results on the evaluation images. Built once per batch (``Kit.build``)."""
    data_dir: Path
    seed: int = 0
    rubric: dict = field(default_factory=dict)
    value_range: tuple = (-1.0, 1.0)
    num_classes: int = 0
    readable: int = 0
    dm: object = None
    model: object = None
    eval_x: np.ndarray = None
    eval_y: np.ndarray = None
    kit_adv: dict = field(default_factory=dict)
    submission: Path = None  # the grader's copy of the submission being judged (files only, never imported)
    safe_files: list = field(default_factory=list)
    model_file: Path = None  # a saved kit's model, loaded by ``ready()`` (so the grader holds no TensorFlow while
    #                          the submission's process runs: on a 768 MB Gradescope container both would not fit)

    SAVED = ("kit.json", "kit_model.h5", "eval_x.npy", "eval_y.npy", "kit_adv.npz", "images")

    @classmethod
    def build(cls, data_dir, seed=0):
        import keras

        from coursekit.attacks import fgsm, mim, pgd
        from coursekit.nets.architectures import default_cnn
        from coursekit.training.config import TrainConfig
        from coursekit.training.fit import fit_classifier

        kit = cls(Path(data_dir), seed)
        labels = _label_dict(data_dir)
        kit.num_classes = len(labels)
        kit.readable = sum(_decodes(p) for folder in labels.values() for p in sorted(Path(folder).iterdir()))
        kit.dm = kit_data_manager(data_dir)
        dm = kit.dm
        kit.eval_x = np.concatenate([_float32(dm.X_test), _float32(dm.X_valid), _float32(dm.X_train)])[:EVAL_IMAGES]
        kit.eval_y = np.concatenate([np.asarray(v) for v in (dm.y_test, dm.y_valid, dm.y_train)])[:EVAL_IMAGES]
        kit.eval_y = kit.eval_y.astype(np.int64)
        keras.utils.set_random_seed(seed)
        net = default_cnn(32, 32, 3, kit.num_classes, name="kit_model")  # a template-style softmax CNN
        config = TrainConfig(num_classes=kit.num_classes, batch_size=16, epochs=10, learning_rate=1e-3, seed=seed,
                             verbose=False)
        fit_classifier(net, (_float32(dm.X_train), dm.y_train), None, config)
        kit.model = net
        x, y, vr = kit.eval_x, kit.eval_y, kit.value_range
        kit.kit_adv = {"fgsm": fgsm(net, x, y, EPS, value_range=vr),
                       "pgd": pgd(net, x, y, EPS, STEPS, STEP_SIZE, value_range=vr, seed=seed),
                       "mim": mim(net, x, y, EPS, STEPS, STEP_SIZE, value_range=vr)}
        return kit

    def save(self, folder):
        """Write the kit to ``folder`` (the Gradescope image keeps it): ``Kit.load`` gives back the same kit without
        training again. The folder holds the grader's secrets (its model, its attacks' results): keep it private."""
        import shutil

        from coursekit.nets.saving import save_h5

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.data_dir, folder / "images", dirs_exist_ok=True)
        save_h5(self.model, folder / "kit_model.h5")
        np.save(folder / "eval_x.npy", self.eval_x)
        np.save(folder / "eval_y.npy", self.eval_y)
        np.savez(folder / "kit_adv.npz", **self.kit_adv)
        (folder / "kit.json").write_text(json.dumps({"seed": self.seed, "value_range": list(self.value_range),
                                                     "num_classes": self.num_classes, "readable": self.readable}))
        return folder

    @classmethod
    def load(cls, folder):
        """The kit ``save`` wrote, without TensorFlow: its model and data manager come with ``ready()``."""
        folder = Path(folder)
        missing = [name for name in cls.SAVED if not (folder / name).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a saved grading kit: {', '.join(missing)} missing (it is "
                                    "written by Kit.save, e.g. by the autograder's setup.sh)")
        meta = json.loads((folder / "kit.json").read_text())
        with np.load(folder / "kit_adv.npz") as adv:
            kit_adv = {k: adv[k] for k in adv.files}
        return cls(folder / "images", meta["seed"], value_range=tuple(meta["value_range"]),
                   num_classes=meta["num_classes"], readable=meta["readable"], eval_x=np.load(folder / "eval_x.npy"),
                   eval_y=np.load(folder / "eval_y.npy"), kit_adv=kit_adv, model_file=folder / "kit_model.h5")

    def ready(self):
        """Load what a saved kit left on disk (the model, the data manager) before the checks are judged."""
        if self.model is None and self.model_file is not None:
            from coursekit.nets.saving import load_h5
            self.model = load_h5(self.model_file)
        if self.dm is None:
            self.dm = kit_data_manager(self.data_dir)
        return self

    def accuracy(self, x, model=None):
        model = self.model if model is None else model
        return float(np.mean(_float32(_graph(model, x.shape[1:]).predict(x, verbose=0)).argmax(1) == self.eval_y))

    def write_inputs(self, folder):
        """The student's process's inputs: the images, the kit's model, the evaluation images and labels, the
        settings, and the handed-in model files that passed the safety check."""
        import shutil

        from coursekit.nets.saving import save_h5

        folder = Path(folder)
        shutil.copytree(self.data_dir, folder / "images")
        if self.model is None:
            shutil.copyfile(self.model_file, folder / "kit_model.h5")
        else:
            save_h5(self.model, folder / "kit_model.h5")
        np.save(folder / "eval_x.npy", self.eval_x)
        np.save(folder / "eval_y.npy", self.eval_y)
        (folder / "settings.json").write_text(json.dumps({
            "seed": self.seed, "value_range": list(self.value_range), "num_classes": self.num_classes,
            "safe_files": [str(p.relative_to(self.submission)) for p in self.safe_files]}))


# ------------------------------------------------------------------------------- the student's process side
@dataclass
class Context:
    """What the collectors share in the student's process: the module, the inputs the grader wrote, a scratch
    folder for saved weights."""
    module: object
    inputs: Path
    submission: Path
    scratch: Path
    seed: int = 0
    value_range: tuple = (-1.0, 1.0)
    num_classes: int = 3
    safe_files: list = field(default_factory=list)
    found_attacks: dict = field(default_factory=dict)
    _data: object = None
    _kit_model: object = None

    @classmethod
    def from_inputs(cls, module, inputs, submission, scratch):
        settings = json.loads((Path(inputs) / "settings.json").read_text())
        return cls(module, Path(inputs), Path(submission), Path(scratch), settings["seed"],
                   tuple(settings["value_range"]), settings["num_classes"], settings["safe_files"],
                   discover_attacks(module))

    @property
    def images(self):
        return self.inputs / "images"

    @property
    def data(self):
        if self._data is None:
            self._data = kit_data_manager(self.images)
        return self._data

    @property
    def kit_model(self):
        if self._kit_model is None:
            from coursekit.nets.saving import load_h5
            self._kit_model = load_h5(self.inputs / "kit_model.h5")
        return self._kit_model

    def eval_set(self):
        return np.load(self.inputs / "eval_x.npy"), np.load(self.inputs / "eval_y.npy")


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


def _collect_attack(kind):
    def collect(ctx):
        fn = ctx.found_attacks.get(kind)
        if fn is None:
            raise LookupError(f"no function with '{kind}' in its name in models.py "
                              f"(found: {sorted(f.__name__ for f in ctx.found_attacks.values()) or 'none'})")
        x, y = ctx.eval_set()
        before = x.copy()
        x_adv = call_attack(fn, kind, ctx.kit_model, x, y, ctx.value_range)
        return {"function": fn.__name__, "x_adv": x_adv, "input_unchanged": bool(np.array_equal(x, before))}
    return collect


def _attack_reply(replies, kind, kit):
    reply = replies(f"attack_{kind}")
    return reply, reply.array("x_adv", kit.eval_x.shape)


def _judge_attack(kind):
    def judge(replies, kit):
        reply, x_adv = _attack_reply(replies, kind, kit)
        x, (lo, hi) = kit.eval_x, kit.value_range
        finite = bool(np.isfinite(x_adv).all())
        dist = float(np.abs(x_adv - x).max()) if finite else math.inf
        results = [(finite, "no NaN or inf" if finite else "NaN or inf in the output"),
                   (dist <= EPS + 1e-5, f"max |x_adv - x| = {dist:.4g} (want <= eps = {EPS})")]
        out_lo, out_hi = (float(x_adv.min()), float(x_adv.max())) if finite else (math.nan, math.nan)
        results.append((out_lo >= lo - 1e-5 and out_hi <= hi + 1e-5,
                        f"values in [{out_lo:.4g}, {out_hi:.4g}] (want inside the data's range [{lo:g}, {hi:g}])"))
        results.append((reply.flag("input_unchanged"), "the input array is left unmodified"))
        results.append((dist > 1e-6 and dist != math.inf, "the attack changed the input"))
        strong = _strength(kind, x_adv, kit) if finite else (False, "no strength measured (NaN or inf)")
        fraction, message = verdict([*results, strong])
        if not strong[0]:  # shape, range and eps-ball are properties noise has too: they count only for an attack
            fraction, message = 0.0, "not an attack, so nothing counts: " + message
        return fraction, f"{reply.text('function', 100)}: " + message
    return judge


def _strength(kind, x_adv, kit):
    """Whether the output is an attack: FGSM's perturbation has the signs of the kit's FGSM (the loss gradient's)
    on most pixels; PGD and MIM leave the kit's model no more accurate than the kit's own attack of that kind, within
    ``STRENGTH_MARGIN``."""
    x = kit.eval_x
    lo, hi = kit.value_range
    clipped = np.clip(x_adv, lo, hi)
    mine, theirs = kit.accuracy(clipped), kit.accuracy(kit.kit_adv[kind])
    if kind == "fgsm":
        kit_delta = np.sign(kit.kit_adv["fgsm"] - x)
        moved = kit_delta != 0
        agree = float(np.mean(np.sign(clipped - x)[moved] == kit_delta[moved])) if moved.any() else 0.0
        return (agree >= FGSM_SIGN_AGREEMENT,
                f"strength: {agree:.2f} of the pixels the kit's FGSM moves go the same way (want >= "
                f"{FGSM_SIGN_AGREEMENT}; random signs give about 0.5); the kit's model {mine:.3f} accurate under "
                f"yours, {theirs:.3f} under the kit's")
    return (mine <= theirs + STRENGTH_MARGIN,
            f"strength: the kit's model is {mine:.3f} accurate under yours, {theirs:.3f} under the kit's "
            f"{kind.upper()} (want yours <= the kit's + {STRENGTH_MARGIN}; clean {kit.accuracy(x):.3f})")


def judge_pgd_strength(replies, kit):
    """On the kit's model: the student's PGD at least about as strong as the kit's PGD and as the student's FGSM."""
    tol = kit.rubric.get("tolerance", 0.1)
    _, pgd_adv = _attack_reply(replies, "pgd", kit)
    lo, hi = kit.value_range
    if not np.isfinite(pgd_adv).all():
        return 0.0, "your PGD's output holds NaN or inf"
    mine = kit.accuracy(np.clip(pgd_adv, lo, hi))
    theirs, clean = kit.accuracy(kit.kit_adv["pgd"]), kit.accuracy(kit.eval_x)
    results = [(mine <= theirs + tol, f"on {len(kit.eval_x)} images the kit's model gets {clean:.3f}; under your PGD "
                                      f"{mine:.3f}, the kit's PGD {theirs:.3f} (want yours <= the kit's + {tol})")]
    if not results[0][0]:  # a PGD weaker than the kit's earns nothing for beating its own FGSM
        return 0.0, "WRONG: " + results[0][1]
    try:
        _, fgsm_adv = _attack_reply(replies, "fgsm", kit)
    except ValueError:
        fgsm_adv = None
    if fgsm_adv is not None and np.isfinite(fgsm_adv).all():
        fg = kit.accuracy(np.clip(fgsm_adv, lo, hi))
        results.append((mine <= fg + tol, f"your FGSM {fg:.3f} (want your PGD <= your FGSM + {tol})"))
    return verdict(results)


# ------------------------------------------------------------------------------------- saved models, notebook
def _saved(folder):
    """The handed-in ``.h5`` files (links are not followed: a link could name any file on the grader's disk)."""
    files = sorted((folder / "saved_models").glob("*.h5")) + sorted((folder / "models").glob("*.h5"))
    return [p for p in files if p.is_file() and not p.is_symlink()]


def _load_safely(path):
    """Load in safe mode after the stored config passed the project's checks (no Lambda, nothing unknown)."""
    from coursekit.nets.saving import load_h5
    return load_h5(path, safe_mode=True)


def screen_saved_models(kit):
    """The handed-in ``.h5`` files that pass the safety check: the only ones the student's own ``load`` is run on.
    Returns ``{path: None or the refusal}``."""
    screened = {}
    for path in _saved(kit.submission):
        try:
            from coursekit.nets.model_files import check_model_file
            check_model_file(path)
            screened[path] = None
        except Exception as exc:  # noqa: BLE001 (a refusal or an unreadable file: reported by the judge)
            screened[path] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    kit.safe_files = [p for p, why in screened.items() if why is None]
    return screened


def collect_saved_models(ctx):
    default = getattr(ctx.module, "DefaultModel", None)
    if not callable(getattr(default, "load", None)) or not ctx.safe_files:
        return {"loaded": []}
    x, _ = ctx.eval_set()
    out = {"loaded": []}
    for i, relative in enumerate(ctx.safe_files):
        net = default(num_classes=ctx.num_classes)
        loaded = net.load(str(ctx.submission / relative))
        model = loaded if hasattr(loaded, "predict") else net.model
        out[f"scores_{i}"] = _float32(_graph(model, x.shape[1:]).predict(x[:8], verbose=0))
        out["loaded"].append(relative)
    return out


def judge_saved_models(replies, kit):
    """Every ``.h5`` loads in safe mode (a ``Lambda`` layer is refused, never run) and predicts class scores; where
    the student's ``DefaultModel`` has its own ``load``, the network it loads predicts as the file does."""
    files = _saved(kit.submission)
    if not files:
        raise NotApplicable("no saved_models/*.h5 handed in")
    try:
        reply = replies("saved_models")
        theirs = dict(zip(reply.strings("loaded"), range(len(kit.safe_files))))
    except ValueError:
        reply, theirs = None, {}
    x = kit.eval_x[:8]
    results = []
    for path in files:
        relative = str(path.relative_to(kit.submission))
        try:
            model = _load_safely(path)
            out = _float32(model.predict(x, verbose=0))
            ok = out.shape == (len(x), kit.num_classes) and bool(np.isfinite(out).all())
            message = f"{path.name}: loads, predicts shape {out.shape}"
            if relative in theirs:
                got = reply.array(f"scores_{theirs[relative]}")
                same = got.shape == out.shape and bool(np.allclose(got, out, atol=1e-5))
                ok = ok and same
                message += ("; your DefaultModel.load predicts the same" if same else
                            "; your DefaultModel.load gives a network that predicts differently from the file")
            results.append((ok, message))
        except Exception as exc:  # noqa: BLE001 (reported, with paths relative to the submission)
            why = str(exc).replace(f"{kit.submission}/", "").splitlines()[0][:200]
            results.append((False, f"{path.name}: {type(exc).__name__}: {why}"))
    return verdict(results)


def judge_robust_model(replies, kit):
    """The adversarially trained ``.h5`` (name with 'robust' or 'adv') beats a standard one under the kit's PGD."""
    from coursekit.attacks import pgd

    files = _saved(kit.submission)
    robust = [p for p in files if "robust" in p.name.lower() or "adv" in p.name.lower()]
    plain = [p for p in files if p not in robust]
    if not robust or not plain:
        raise NotApplicable("want an adversarially trained .h5 (name with 'robust' or 'adv') and a standard one")
    x, y = kit.eval_x, kit.eval_y
    scores = {}
    for path in (robust[0], plain[0]):
        model = _load_safely(path)
        scores[path.name] = kit.accuracy(pgd(model, x, y, EPS, STEPS, STEP_SIZE, value_range=kit.value_range), model)
    r, p = scores[robust[0].name], scores[plain[0].name]
    return float(r > p), (f"robust accuracy under the kit's PGD on the grader's images: {robust[0].name} {r:.3f}, "
                          f"{plain[0].name} {p:.3f} (want the first higher)")


def judge_notebook(replies, kit):
    """The notebook was saved with every code cell run (the course requires it)."""
    notebooks = [p for p in sorted(kit.submission.glob("*.ipynb")) if p.is_file() and not p.is_symlink()]
    if not notebooks:
        raise NotApplicable("no notebook handed in")
    cells = [c for c in json.loads(notebooks[0].read_text()).get("cells", [])
             if c.get("cell_type") == "code" and "".join(c.get("source", [])).strip()]
    run = sum(c.get("execution_count") is not None for c in cells)
    return (run / len(cells) if cells else 0.0), f"{notebooks[0].name}: {run} of {len(cells)} code cells were run"


CHECKS = [(name, Check(name, collect, judge)) for name, collect, judge in [
    ("import", collect_import, judge_import),
    ("data_manager", collect_data_manager, judge_data_manager),
    ("default_model", collect_default_model, judge_default_model),
    ("your_model", collect_your_model, judge_your_model),
    ("fit", collect_fit, judge_fit),
    ("attack_fgsm", _collect_attack("fgsm"), _judge_attack("fgsm")),
    ("attack_pgd", _collect_attack("pgd"), _judge_attack("pgd")),
    ("attack_mim", _collect_attack("mim"), _judge_attack("mim")),
    ("pgd_strength", None, judge_pgd_strength),
    ("saved_models", collect_saved_models, judge_saved_models),
    ("robust_model", None, judge_robust_model),
    ("notebook", None, judge_notebook),
]]
