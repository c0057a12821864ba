"""Choosing a ``tf.distribute`` strategy by name, and mixed precision where the hardware has it."""
from __future__ import annotations

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "tpu", "multiworker")


def get_strategy(name="default"):
    """``None`` for 'default' (one device), else a strategy.

    'mirrored': ``MirroredStrategy`` over all local GPUs (or CPU devices); 'tpu': ``TPUStrategy`` on a
    Colab / Cloud TPU; 'multiworker': ``MultiWorkerMirroredStrategy`` configured by ``TF_CONFIG``.
    """
    if name in (None, "default", "none"):
        return None
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}")


def mixed_precision_policy(enable="auto", cpu_bfloat16=False):
    """Set Keras' global dtype policy and return its name.

    ``enable='auto'`` turns mixed precision on when a GPU is present: bfloat16 where the GPU
    supports it (compute capability 8.0 and newer), else float16 (with loss scaling, which the
    optimizer then applies). ``True`` forces it (bfloat16 on CPU/TPU), ``False`` keeps float32. With
    ``cpu_bfloat16``, ``'auto'`` also turns bfloat16 on for a CPU whose flags give oneDNN native bfloat16
    kernels (AVX-512 BF16 or AMX, ``cpu_kernels.cpu_bfloat16_flags``): about twice float32's speed for the
    Imagenette network there; other CPUs only emulate bfloat16 and stay float32.
    The models keep their logits and softmax in float32, so losses are computed in float32.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if enable == "auto":
        from coursekit.cpu_kernels import cpu_bfloat16_flags

        enable = bool(gpus) or bool(cpu_bfloat16 and cpu_bfloat16_flags())
    if not enable:
        policy = "float32"
    elif gpus:
        major = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))[0]
        policy = "mixed_bfloat16" if major >= 8 else "mixed_float16"
    else:
        policy = "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy
