"""What a training run runs on, said in one line, and the run-wide settings a task's command line sets once:
XLA compilation (``--jit``) and TensorBoard logging (``--tensorboard``).

On a Colab GPU Keras does two things it never does on a CPU: ``jit_compile="auto"`` turns XLA on, and
the project's ``--mixed-precision auto`` picks float16 (T4) or bfloat16 (A100/L4). The line printed at the
start of training says which of these is in force, e.g. ``GPU Tesla T4 (7.5): mixed_float16, XLA on``.
"""
from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

JIT_CHOICES = {"auto": "auto", "on": True, "off": False}
_SETTINGS = {"jit_compile": "auto", "tensorboard_dir": None}


def configure(jit_compile=None, tensorboard_dir=None):
    """Set the defaults every ``fit_classifier`` call without its own ``jit_compile`` uses, and the folder
    TensorBoard logs go to (one sub-folder per network); ``None`` leaves a setting as it is."""
    if jit_compile is not None:
        _SETTINGS["jit_compile"] = check_jit_compile(jit_compile)
    if tensorboard_dir is not None:
        _SETTINGS["tensorboard_dir"] = Path(tensorboard_dir)


def reset():
    """Back to Keras' ``auto`` and no TensorBoard logs."""
    _SETTINGS.update(jit_compile="auto", tensorboard_dir=None)


def check_jit_compile(value):
    """``'auto'``, ``True`` or ``False`` (also ``'on'``/``'off'``), or a ``ValueError`` that lists them."""
    if isinstance(value, str) and value in JIT_CHOICES:
        return JIT_CHOICES[value]
    if isinstance(value, bool):
        return value
    raise ValueError(f"jit_compile must be 'auto' (Keras: XLA on when a GPU is present), True or False; got {value!r}")


def jit_compile_setting(value=None):
    """``value`` checked, or the run-wide default when it is ``None``."""
    return _SETTINGS["jit_compile"] if value is None else check_jit_compile(value)


def tensorboard_callback(name):
    """A Keras ``TensorBoard`` callback logging into ``<tensorboard_dir>/<name>``, or ``None`` when not asked for."""
    root = _SETTINGS["tensorboard_dir"]
    if root is None:
        return None
    return keras.callbacks.TensorBoard(log_dir=str(root / name), write_graph=False, profile_batch=0)


def device_name():
    """``'GPU <name> (<compute capability>)'`` for the first GPU, else ``'CPU'``."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    cc = details.get("compute_capability")
    more = f" x{len(gpus)}" if len(gpus) > 1 else ""
    return f"GPU {details.get('device_name', gpus[0].name)}" + (f" ({cc[0]}.{cc[1]})" if cc else "") + more


def describe(trainer, requested="auto"):
    """One line: the device, the dtype policy and whether XLA compiles ``trainer``'s (compiled) training step.

    ``requested`` is the ``jit_compile`` asked for: Keras turns a requested XLA off when a layer (random
    augmentation) does not support it, and the line says so."""
    policy = keras.mixed_precision.dtype_policy().name
    xla = bool(trainer.jit_compile)
    why = " (a layer, e.g. random augmentation, does not support it)" if requested is True and not xla else ""
    return f"{device_name()}: {policy}, XLA {'on' if xla else 'off'}{why}"
