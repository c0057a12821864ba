"""Which CPU kernels TensorFlow trains with: oneDNN by default here, and whether that took effect.

TensorFlow 2.21 turns its oneDNN kernels on by itself only on CPUs with AVX-512 / AMX features. On
the AVX2 CPUs of most laptops (and of this project's CI machines) it otherwise trains convolutions
with Eigen kernels whose backward passes are several times slower per FLOP than the forward pass
(``bench/RESULTS.md``: the default CNN trains about 1.4x faster with oneDNN on). The switch,
``TF_ENABLE_ONEDNN_OPTS``, is read once, when TensorFlow loads, so it has to be set before the first
``import tensorflow`` / ``import keras``; ``import coursekit`` (and so ``import models``) does that.
"""
from __future__ import annotations

import os
import sys
import warnings

ENV = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn():
    """Ask TensorFlow for its oneDNN CPU kernels unless the user set ``TF_ENABLE_ONEDNN_OPTS``.

    Warns when TensorFlow was already loaded without them, since the request then comes too late.
    """
    if ENV in os.environ:  # the user's choice, either way
        return
    os.environ[ENV] = "1"
    if "tensorflow" in sys.modules and onednn_enabled() is False:
        warnings.warn(
            "TensorFlow was imported before coursekit, so it keeps its slower default CPU kernels (oneDNN is "
            "off on this CPU; convolution training runs about 1.4x slower). Import models or coursekit before "
            "tensorflow and keras, or start Python with TF_ENABLE_ONEDNN_OPTS=1 (=0 keeps TensorFlow's default "
            "and silences this).", UserWarning, stacklevel=3)


def onednn_enabled():
    """Whether this process's TensorFlow runs its oneDNN kernels (imports TensorFlow); ``None`` if it
    cannot tell."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # TensorFlow's own test for this
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo_field(name, cpuinfo):
    """The first ``name : value`` of ``cpuinfo``'s text, or ``None`` (no such line, or no such file)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags as Linux lists them (an empty set where ``cpuinfo`` cannot be read)."""
    return set((_cpuinfo_field("flags", cpuinfo) or "").split())


def cpu_bfloat16_flags(cpuinfo="/proc/cpuinfo"):
    """Which of the CPU's flags give oneDNN native bfloat16 matrix kernels (AVX-512 BF16, AMX), sorted;
    empty on CPUs where ``mixed_bfloat16`` would only emulate bfloat16 (and so run slower than float32)."""
    return sorted(set(BFLOAT16_FLAGS) & cpu_flags(cpuinfo))


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    model = _cpuinfo_field("model name", cpuinfo)
    if model:
        return model
    import platform

    return platform.processor() or "unknown CPU"
