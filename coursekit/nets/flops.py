"""Counting a model's forward-pass FLOPs per example from its layers (for peak-fraction figures)."""
import keras
import numpy as np


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the convolution and dense layers for one example (the bulk of the work).

    Activations, pooling, normalisation and additions are left out: they are memory-bound
    and a few percent of the arithmetic here.
    """
    total = 0
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            out_h, out_w, out_c = layer.output.shape[1:]
            in_c = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += 2 * out_h * out_w * out_c * kh * kw * in_c // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.input.shape[1:])) * layer.units
    return int(total)


def _leaf_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer
