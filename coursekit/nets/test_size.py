"""The image size a trained network is tested at, chosen on validation data.

Random crops enlarged to the training size show objects larger than whole images do, so a network trained on
them sees test objects smaller than it learned them. Enlarging the test image makes up for it (Touvron et al.,
2019, "Fixing the train-test resolution discrepancy"); how much pays is a property of the run, read off its
validation images. The enlargement is a weightless ``Resizing`` layer at the network's input, so the saved file
still takes the original image size and loads with plain Keras.
"""
from __future__ import annotations

from coursekit.nets.classifier import accuracy
from coursekit.nets.pixel_models import float32_copy


def best_test_size(build, net, x_valid, y_valid, sizes):
    """``(size, {size: validation accuracy})``: the size in ``sizes`` whose network scores best on
    ``(x_valid, y_valid)`` (the smallest one on a tie).

    ``build(test_size=s)`` must make ``net``'s layers with the input enlarged to ``s`` x ``s`` first (as
    ``small_nets.imagenette_resnet`` does); each candidate is a float32 copy holding ``net``'s weights."""
    sizes = tuple(sizes)
    if not sizes:
        raise ValueError("no test sizes to choose from")
    scores = {s: accuracy(float32_copy(build, net, test_size=s), x_valid, y_valid) for s in sizes}
    return max(sizes, key=lambda s: (scores[s], -s)), scores
