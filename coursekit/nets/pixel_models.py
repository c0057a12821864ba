"""Trained networks as files others can use: float32, raw pixels in, logits out, no project code to load.

A network trained under ``mixed_bfloat16`` stores its layers' policy in its config, so a saved copy would
compute in bfloat16 wherever it is loaded (and differ from the figures printed in float32). A builder called
again under the float32 policy gives the same layers, and the same weights fit it: ``float32_copy`` does that.
``pixel_model`` additionally asks the builder for its ``Rescaling`` input layer, so the saved network takes
pixel values in [0, 255] as an image file holds them.
"""
from __future__ import annotations

import keras


def float32_copy(build, net, **build_args):
    """``build(**build_args)`` under the float32 policy, with ``net``'s weights (``net`` is left as it is).

    ``build`` must make ``net``'s layers in the same order (extra weightless layers are fine); a mismatch
    raises Keras' own error naming the layer."""
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        copy = build(**build_args)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    copy.set_weights(net.get_weights())
    return copy


def pixel_model(build, net, scale=1 / 255):
    """A float32 copy of ``net`` that takes raw pixels: ``build(input_scale=scale)`` with ``net``'s weights."""
    return float32_copy(build, net, input_scale=scale)
