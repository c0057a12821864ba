"""RecVis A2 Part 2: the building blocks of a CNN applied to one image, with TensorFlow ops (NHWC).

Filter banks are ``[kh, kw, in, out]`` (TensorFlow's HWIO layout); PyTorch's ``[out, in, kh, kw]``
shapes in the seed correspond one to one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from coursekit.report.plots import finish_figure


def load_image(path=None):
    """``(image [H x W x 3] float32 in [0, 1], source)``: the file at ``path`` (e.g. ``peppers.png``), or
    scikit-learn's bundled sample photo ``china.jpg`` when no path is given (said in ``source``)."""
    from PIL import Image, UnidentifiedImageError

    if path is None:
        from sklearn.datasets import load_sample_image

        return load_sample_image("china.jpg").astype(np.float32) / 255.0, \
            "scikit-learn's sample image china.jpg (peppers.png was not given; pass --image FILE)"
    path = Path(path)
    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no image at {path}: pass --image with the path of peppers.png "
                                "(or any RGB image)") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path} is not an image Pillow can read ({exc})") from exc
    return rgb, str(path)


def random_filters(n=10, size=5, channels=3, seed=0):
    """A random ``[size, size, channels, n]`` bank drawn as PyTorch initialises ``Conv2d``:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with ``fan_in = channels * size * size``."""
    bound = 1.0 / np.sqrt(channels * size * size)
    return np.random.default_rng(seed).uniform(-bound, bound, (size, size, channels, n)).astype(np.float32)


def laplacian_filter(channels=3):
    """The 3x3 Laplacian ``[[0,1,0],[1,-4,1],[0,1,0]]`` on every channel, summed: one output map."""
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    return np.repeat(lap[:, :, None, None], channels, axis=2)


def vertical_derivative_filters(channels=3):
    """The pair ``+-[1, 0, -1]^T`` (3x1) on every channel: two maps, rising and falling edges."""
    w = np.array([1, 0, -1], np.float32)[:, None, None, None] * np.ones((3, 1, channels, 1), np.float32)
    return np.concatenate([w, -w], axis=3)


def conv2d(x, filters, stride=1, padding=0):
    """Convolve a batch ``[N x H x W x C]`` with ``filters`` (no bias), zero-padding ``padding`` pixels per side."""
    p = int(padding)
    return tf.nn.conv2d(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(filters, tf.float32),
                        strides=int(stride), padding=[[0, 0], [p, p], [p, p], [0, 0]])


def max_pool(x, size, stride=1):
    """Max pooling over ``size x size`` windows without padding."""
    return tf.nn.max_pool2d(tf.convert_to_tensor(x, tf.float32), size, stride, "VALID")


def building_blocks(image, seed=0):
    """Every step of Part 2 on one ``[H x W x 3]`` image: ``{name: (input shape, output [1 x h x w x c])}``."""
    x = tf.convert_to_tensor(image[None], tf.float32)
    bank = random_filters(seed=seed)
    lap = conv2d(x, laplacian_filter(), padding=1)
    deriv = conv2d(x, vertical_derivative_filters())
    steps = {
        "conv_5x5x10": conv2d(x, bank),
        "conv_5x5x10_stride16": conv2d(x, random_filters(seed=seed + 1), stride=16),
        "conv_5x5x10_pad2": conv2d(x, random_filters(seed=seed + 2), padding=2),
        "laplacian": lap,
        "minus_abs_laplacian": -tf.abs(lap),
        "vertical_derivative": deriv,
        "vertical_derivative_relu": tf.nn.relu(deriv),
        "max_pool_15": max_pool(x, 15),
    }
    return {name: (tuple(x.shape), y.numpy()) for name, y in steps.items()}


def feature_grid(y, ncols=5, pad=2):
    """One grey image tiling the maps of ``y`` (``[1 x H x W x C]`` or ``[H x W x C]``), each scaled to [0, 1]."""
    y = np.asarray(y, np.float32)
    y = y[0] if y.ndim == 4 else y
    h, w, c = y.shape
    lo, hi = y.min(axis=(0, 1)), y.max(axis=(0, 1))
    maps = (y - lo) / np.where(hi > lo, hi - lo, 1.0)
    cols = min(ncols, c)
    rows = int(np.ceil(c / cols))
    grid = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad), np.float32)
    for k in range(c):
        r, q = divmod(k, cols)
        grid[r * (h + pad): r * (h + pad) + h, q * (w + pad): q * (w + pad) + w] = maps[:, :, k]
    return grid


def plot_features(y, title=None, save_path=None):
    """The seed's ``vis_features``: the feature maps of ``y`` in a grid, each scaled to [0, 1]."""
    import matplotlib.pyplot as plt

    grid = feature_grid(y)
    fig, ax = plt.subplots(figsize=(min(14, 2 + grid.shape[1] / 80), min(10, 1 + grid.shape[0] / 80)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return finish_figure(fig, save_path, dpi=100)


def plot_filters(kernel, ncols=4, title=None, save_path=None):
    """A first-layer bank ``[kh, kw, 3, n]`` as ``n`` small RGB images, each scaled to [0, 1] on its own
    (as ``make_grid(normalize=True, scale_each=True)``)."""
    import matplotlib.pyplot as plt

    k = np.asarray(kernel, np.float32)
    n = k.shape[3]
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, ncols, figsize=(1.6 * ncols, 1.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < n:
            f = k[:, :, :, i]
            ax.imshow((f - f.min()) / max(float(f.max() - f.min()), 1e-12), interpolation="nearest")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save_path)
