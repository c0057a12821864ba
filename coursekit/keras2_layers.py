"""Keras 2's layer constructor calls, taken by Keras 3's layers while ``keras2_habits()`` is on.

2022 notebooks build their networks with TensorFlow 2.9-2.11's ``tf.keras.layers``, whose constructors differ
from Keras 3's in three ways, each of which breaks a student's ``build_cnn`` with a ``TypeError`` or, worse,
silently binds an argument to another parameter:

- **a default dropped**: ``AveragePooling2D(strides=(2, 2), padding='same')`` needs ``pool_size`` in Keras 3;
  Keras 2's default is supplied (and said once);
- **a positional order changed**: ``RandomContrast(0.2, 42)`` is ``seed=42`` in Keras 2 but ``value_range=42`` in
  Keras 3; positional arguments are bound by Keras 2's order;
- **an argument removed**: handled as ``REMOVED`` says: renamed, dropped where it made no difference to the result
  (said once, with why), or accepted only at Keras 2's default and otherwise refused with a message naming the
  fix.

The Keras 2 signatures are not written from memory: ``.ci/keras2_signatures.py`` reads them from the source of the
keras 2.9.0, 2.10.0 and 2.11.0 wheels into ``keras2_layers.json``, and which layers differ is decided against the
running Keras' own signatures when the habits are turned on, so the same table serves Keras 3.10 to 3.15.
``python -m coursekit.keras2_layers`` prints every difference on the running Keras and what is done about it.
"""
from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from pathlib import Path

REQUIRED = "<required>"
SIGNATURES = Path(__file__).with_name("keras2_layers.json")
# the keywords Keras 3's own Layer takes (through **kwargs), besides those in a layer's signature
LAYER_KEYWORDS = frozenset({"activity_regularizer", "trainable", "dtype", "autocast", "name", "input_dim",
                            "input_shape", "batch_input_shape", "batch_size"})


@dataclass(frozen=True)
class Removed:
    """What happens to a Keras 2 argument the running Keras 3 layer does not take.

    ``action``: ``"rename"`` (to ``to``), ``"drop"`` (it makes no difference in Keras 3: ``why`` says so once),
    ``"default-only"`` (accepted at Keras 2's default, where it did nothing; any other value is refused, ``why``
    naming the fix), ``"keras3"`` (Keras 3 takes it itself through ``**kwargs``, with its own notice).
    """

    action: str
    why: str = ""
    to: str | None = None


_CONV = ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D",
         "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
_TRANSPOSE = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
_RNN = ("RNN", "SimpleRNN", "GRU", "LSTM", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
_RANDOM = ("RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
           "RandomZoom")
_KERAS2_ONLY = "was an internal argument of TensorFlow's Keras 2 with no Keras 3 counterpart: remove it"


def _each(layers, argument, removed):
    return {(layer, argument): removed for layer in layers}


REMOVED = {
    ("BatchNormalization", "fused"): Removed("drop", "Keras 3 chooses the fused kernel itself; the result is the "
                                                     "same"),
    ("BatchNormalization", "virtual_batch_size"): Removed(
        "default-only", "ghost batch normalization is not in Keras 3: remove it (statistics over the whole batch)"),
    ("BatchNormalization", "adjustment"): Removed("default-only", "Keras 3 has no adjustment function: remove it"),
    **{("BatchNormalization", name): Removed(
        "default-only", "this Keras has no batch renormalization (Keras 3.15 has): upgrade Keras, or remove it")
       for name in ("renorm", "renorm_clipping", "renorm_momentum")},
    ("Layer", "dynamic"): Removed("drop", "Keras 3 traces every layer; a layer that only runs eagerly needs "
                                          "model.compile(..., run_eagerly=True)"),
    ("LeakyReLU", "alpha"): Removed("rename", to="negative_slope"),
    ("Embedding", "input_length"): Removed("keras3"),
    ("InputLayer", "type_spec"): Removed("default-only", "Keras 3 takes shape=, dtype=, sparse= instead of a "
                                                         "TypeSpec"),
    **_each(("Attention", "AdditiveAttention"), "causal", Removed(
        "default-only", "Keras 3 takes the causal mask in the call: layer(inputs, use_causal_mask=True)")),
    **_each(_CONV, "conv_op", Removed("default-only", _KERAS2_ONLY)),
    **_each(_TRANSPOSE, "groups", Removed("default-only", "Keras 3 has no grouped transposed convolution")),
    **_each(_DEPTHWISE, "groups", Removed("default-only", "a depthwise or separable convolution takes "
                                                          "depth_multiplier, not groups")),
    **_each(_TRANSPOSE, "output_padding", Removed(
        "default-only", "this Keras has no output_padding (Keras 3.15 has): upgrade Keras, or crop or pad the output")),
    **{key: Removed("drop", "Keras 2 ignored it too (depthwise_/pointwise_ arguments set these kernels)")
       for layer in _DEPTHWISE for key in
       ((layer, "kernel_initializer"), (layer, "kernel_regularizer"), (layer, "kernel_constraint"))},
    **_each(("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"), "noise_shape",
            Removed("drop", "Keras 2's spatial dropout ignored it too (it drops whole feature maps)")),
    **_each(_RNN, "time_major", Removed(
        "default-only", "Keras 3 takes (batch, time, ...) inputs only: transpose them with keras.ops.transpose")),
    **_each(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), "unroll", Removed(
        "default-only", "Keras 3's ConvLSTM does not unroll")),
    **_each(_RANDOM, "rate", Removed(
        "default-only", "Keras 3 augments every image: apply the layer to a random part of the batch yourself")),
}


# Keras 2 layers Keras 3 no longer has: what to write instead (keras2_habits does not bring them back)
GONE = {
    "ThresholdedReLU": "keras.layers.ReLU(threshold=theta) (the same: x where x > theta, else 0)",
    "LocallyConnected1D": "no Keras 3 layer: a Conv1D shares its weights across positions; keep TensorFlow 2.15 "
                          "for the unshared version",
    "LocallyConnected2D": "no Keras 3 layer: a Conv2D shares its weights across positions; keep TensorFlow 2.15 "
                          "for the unshared version",
    "RandomHeight": "keras.layers.RandomZoom(height_factor=..., width_factor=0.0) (it keeps the image size)",
    "RandomWidth": "keras.layers.RandomZoom(height_factor=0.0, width_factor=...) (it keeps the image size)",
    "DenseFeatures": "keras.utils.FeatureSpace (feature columns are gone)",
    "AbstractRNNCell": "a keras.layers.Layer with state_size and output_size attributes",
}


def keras2_signatures():
    """``{layer: [(name, default, keyword_only), ...]}``: TF 2.11's ``tf.keras.layers``, plus what the older
    versions had that 2.11 dropped (2.9's ``Attention(causal=)``)."""
    versions = json.loads(SIGNATURES.read_text())["versions"]
    merged = {}
    for version in sorted(versions, key=lambda v: tuple(int(p) for p in v.split("."))):
        for layer, params in versions[version].items():
            known = {p[0]: p for p in merged.get(layer, [])}
            newer = [tuple(p) for p in params]
            merged[layer] = newer + [p for name, p in known.items() if name not in {q[0] for q in newer}]
    return merged


def _keras3_parameters(cls):
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional, {p.name: p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _value(default):
    return tuple(_value(d) for d in default) if isinstance(default, list) else default


@dataclass
class LayerDifferences:
    """How one Keras 2 layer's constructor differs from the running Keras 3 layer's."""

    name: str
    cls: type
    keras2_positional: tuple
    reorder: bool             # positional arguments must be bound by Keras 2's order
    defaults: dict            # Keras 2 defaults for parameters Keras 3 made required
    removed: dict             # Keras 2 argument -> (Keras 2 default, Removed or None when unhandled)

    @property
    def any(self):
        return self.reorder or bool(self.defaults) or bool(self.removed)


def differences(signatures=None):
    """``{layer name: LayerDifferences}`` for every Keras 2 layer the running Keras 3 still has."""
    import keras

    out = {}
    for name, params in (signatures or keras2_signatures()).items():
        cls = getattr(keras.layers, name, None)
        if not inspect.isclass(cls):
            continue
        positional3, named3 = _keras3_parameters(cls)
        positional2 = tuple(p[0] for p in params if not p[2])
        reorder = any(i >= len(positional3) or positional3[i] != arg for i, arg in enumerate(positional2))
        defaults = {arg: _value(default) for arg, default, _ in params
                    if default != REQUIRED and arg in named3 and named3[arg].default is inspect.Parameter.empty}
        # aliases (Convolution2D, AvgPool2D) share their class's entries
        removed = {arg: (_value(default), REMOVED.get((name, arg)) or REMOVED.get((cls.__name__, arg)))
                   for arg, default, _ in params if arg not in named3 and arg not in LAYER_KEYWORDS}
        out[name] = LayerDifferences(name, cls, positional2, reorder, defaults, removed)
    return out


def patches():
    """``(class, "__init__", replacement)`` for every layer class whose constructor needs Keras 2's calls
    translated (``keras2_habits`` applies and undoes them). Aliases (``AvgPool2D``) share their class's."""
    seen = {}
    for diff in differences().values():
        if diff.any and diff.cls not in seen:
            seen[diff.cls] = diff
    # each wrapper calls the constructor as it was before any patch (a base class may be patched too)
    return [(cls, "__init__", _translating_init(diff, cls.__init__)) for cls, diff in seen.items()]


_SAID = set()  # notices given since the habits were turned on (each is said once)


def reset_notices():
    _SAID.clear()


def _say_once(key, text):
    if key not in _SAID:
        _SAID.add(key)
        print(f"keras2_habits: {text}")


def translate(diff, args, kwargs):
    """Keras 2's ``(args, kwargs)`` for ``diff.name`` as the running Keras 3 constructor takes them."""
    if args and diff.reorder:
        if len(args) > len(diff.keras2_positional):
            raise TypeError(f"{diff.name}() took {len(diff.keras2_positional)} positional arguments in Keras 2, "
                            f"got {len(args)}")
        named = dict(zip(diff.keras2_positional, args))
        clash = sorted(set(named) & set(kwargs))
        if clash:
            raise TypeError(f"{diff.name}() got multiple values for {clash}")
        kwargs, args = {**named, **kwargs}, ()
    kwargs = dict(kwargs)
    given = set(kwargs) | set(diff.keras2_positional[:len(args)])
    for arg, default in diff.defaults.items():
        if arg not in given:
            kwargs[arg] = default
            _say_once((diff.name, arg), f"{diff.name} without {arg} takes Keras 2's default {arg}={default!r}")
    for arg, (default, removed) in diff.removed.items():
        if arg not in kwargs or removed is None or removed.action == "keras3":
            continue
        value = kwargs.pop(arg)
        if removed.action == "rename":
            kwargs[removed.to] = value
        elif removed.action == "drop":
            _say_once((diff.name, arg), f"{diff.name} ignores {arg}= ({removed.why})")
        elif value != default and not (value is None and default is None):
            raise TypeError(f"{diff.name}({arg}={value!r}) has no Keras 3 equivalent: {removed.why}")
    return args, kwargs


def _translating_init(diff, original):
    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        # Keras' own subclasses call their base with Keras 3's arguments; only a student's call is Keras 2's
        if type(self).__module__.startswith("keras"):
            if type(self) is not diff.cls:
                return original(self, *args, **kwargs)
        args, kwargs = translate(diff, args, kwargs)
        return original(self, *args, **kwargs)

    # Keras' Operation.__new__ reads the constructor's signature both with and without following __wrapped__:
    # both must see the original's
    __init__.__signature__ = inspect.signature(original)
    return __init__


def table():
    """One row per difference on the running Keras: ``(layer, argument, change, what keras2_habits does)``."""
    import keras

    rows = [(name, "(the layer)", "not in this Keras", f"not restored; instead: {instead}")
            for name, instead in sorted(GONE.items()) if not hasattr(keras.layers, name)]
    for name, diff in sorted(differences().items()):
        if diff.reorder:
            rows.append((name, "(positional)", "Keras 2 order " + ", ".join(diff.keras2_positional),
                         "positional arguments bound by Keras 2's order"))
        for arg, default in diff.defaults.items():
            rows.append((name, arg, f"required (Keras 2: {default!r})", "Keras 2's default supplied"))
        for arg, (default, removed) in diff.removed.items():
            what = ("not translated: Keras 3 raises its own error" if removed is None else
                    f"renamed to {removed.to}" if removed.action == "rename" else
                    f"dropped: {removed.why}" if removed.action == "drop" else
                    "taken by Keras 3 itself" if removed.action == "keras3" else
                    f"accepted at {default!r}, otherwise refused: {removed.why}")
            rows.append((name, arg, f"removed (Keras 2 default {default!r})", what))
    return rows


if __name__ == "__main__":
    import keras

    print(f"Keras 2 (TF 2.9-2.11) layer constructors against Keras {keras.__version__}:")
    for row in table():
        print(" | ".join(row))
