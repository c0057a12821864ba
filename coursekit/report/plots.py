"""Figures the assignments ask for: learning curves, predictions, comparisons, adversarial examples.

Each function returns the matplotlib ``Figure`` (shown inline in notebooks) and saves it
as PNG when given ``save_path``. Images are mapped back from their value range first, so
they appear in their real colours.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from coursekit.atomic_files import atomic_path
from coursekit.datasets.images import to_display


def finish_figure(fig, save_path=None, dpi=110):
    """Tighten the layout and, with ``save_path``, write the figure (PNG for a ``.png`` name; folders
    made as needed; never half-written)."""
    fig.tight_layout()
    if save_path is not None:
        with atomic_path(save_path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    return fig


def _as_dict(history):
    """Accept a Keras ``History`` (its ``stopped_epoch`` too) or a plain dict."""
    if hasattr(history, "history"):
        return {**history.history, "stopped_epoch": getattr(history, "stopped_epoch", None),
                "diverged_epoch": getattr(history, "diverged_epoch", None)}
    return history


def plot_progress(history, title=None, save_path=None):
    """Train/validation loss and accuracy per epoch from a Keras ``History`` or history dict."""
    history = _as_dict(history)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    _curves(ax_loss, ax_acc, history, label_prefix="")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save_path)


def _curves(ax_loss, ax_acc, history, label_prefix=""):
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        for split in ("", "val_"):
            values = history.get(split + key)
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker=".", label=f"{label_prefix}{'validation' if split else 'train'}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    stopped = history.get("stopped_epoch")
    if stopped:
        for ax in (ax_loss, ax_acc):
            ax.axvline(stopped, color="grey", linestyle=":", linewidth=1)
    diverged = history.get("diverged_epoch")
    if diverged:  # its loss is NaN, so nothing else would show where and why the curves end
        for ax in (ax_loss, ax_acc):
            ax.axvline(diverged, color="tab:red", linestyle="--", linewidth=1)
        ax_loss.set_xlabel(f"epoch\nloss not finite in epoch {diverged}: training stopped, weights from before it",
                           color="tab:red")


def plot_comparison(histories: dict, title=None, save_path=None):
    """Learning curves of several runs side by side: one column per run, loss above accuracy."""
    n = len(histories)
    fig, axes = plt.subplots(2, n, figsize=(4.5 * n, 7), squeeze=False, sharey="row")
    for col, (name, hist) in enumerate(histories.items()):
        _curves(axes[0, col], axes[1, col], _as_dict(hist))
        axes[0, col].set_title(name)
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save_path)


def plot_prediction(images, y_true, y_pred, classes, value_range=(-1.0, 1.0), num=16, seed=0, save_path=None):
    """A grid of ``num`` random images titled ``true / predicted`` (red where wrong)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(images), size=min(num, len(images)), replace=False)
    cols = int(np.ceil(np.sqrt(len(idx))))
    rows = int(np.ceil(len(idx) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), idx):
        _show(ax, images[i], value_range)
        ok = y_true[i] == y_pred[i]
        ax.set_title(f"{classes[y_true[i]]} / {classes[y_pred[i]]}", fontsize=8, color="black" if ok else "red")
    fig.suptitle("true / predicted")
    return finish_figure(fig, save_path)


def plot_adversarial(x, x_adv, y_true, pred_clean, pred_adv, classes, value_range=(-1.0, 1.0), title=None,
                     save_path=None):
    """Clean images (top of each pair) above their adversarial versions, with true and predicted labels."""
    n = len(x)
    cols = min(n, 10)
    pairs = int(np.ceil(n / cols))
    fig, axes = plt.subplots(2 * pairs, cols, figsize=(1.9 * cols, 4.2 * pairs), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k in range(n):
        r, c = 2 * (k // cols), k % cols
        _show(axes[r, c], x[k], value_range)
        axes[r, c].set_title(f"true {classes[y_true[k]]}\nclean: {classes[pred_clean[k]]}", fontsize=7)
        _show(axes[r + 1, c], x_adv[k], value_range)
        wrong = pred_adv[k] != y_true[k]
        axes[r + 1, c].set_title(f"adv: {classes[pred_adv[k]]}", fontsize=7, color="red" if wrong else "black")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save_path)


def _show(ax, image, value_range):
    pixels = to_display(image, value_range)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None, vmin=0, vmax=255)
    ax.axis("off")


def plot_image_grid(images, titles, cols=5, value_range=(0.0, 1.0), title=None, title_colors=None, save_path=None,
                    fontsize=9):
    """Images in a grid of ``cols`` columns, each with its own title (e.g. ``Label: 7``).

    ``value_range`` maps the pixels back for display ((0, 255) for uint8 images); grey images may be ``H x W``
    or ``H x W x 1``. ``title_colors`` colours each title (e.g. red for wrong predictions).
    """
    n = len(images)
    rows = max(1, int(np.ceil(n / cols)))
    scale = 1.0 if fontsize >= 9 else 0.7  # small titles: a denser grid
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * scale * cols, 2.5 * scale * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, (ax, image) in enumerate(zip(axes.ravel(), images)):
        _show(ax, image, value_range)
        ax.set_title(titles[k], fontsize=fontsize, color=title_colors[k] if title_colors is not None else "black")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save_path)


def plot_numbered_samples(images, labels, class_names, n=36, seed=0, save_path=None):
    """``n`` random images in a square grid titled "k:Name" with 1-based class numbers (FIT3181 Q2.3); uint8 pixels."""
    idx = np.random.default_rng(seed).choice(len(images), size=min(n, len(images)), replace=False)
    side = int(np.ceil(np.sqrt(len(idx))))
    return plot_image_grid(np.asarray(images)[idx], [f"{labels[i] + 1}:{class_names[labels[i]]}" for i in idx],
                           cols=side, value_range=(0, 255), save_path=save_path, fontsize=7)


def plot_loss_curve(train_counter, train_losses, test_counter, test_losses, ylabel="cross-entropy", title="Loss curve",
                    save_path=None):
    """Training loss against examples seen (one point per log interval) and test loss per epoch."""
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(train_counter, train_losses, label="train loss", linewidth=1)
    ax.plot(test_counter, test_losses, label="test loss", marker="o")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("number of training examples seen")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right")
    return finish_figure(fig, save_path)


def plot_noise_robustness(results: dict, title="Accuracy under added Gaussian noise", save_path=None):
    """Accuracy against the noise scale ``a`` (images + a * N(0, 1)), one line per network.

    ``results`` maps a network's name to ``{a: accuracy}``; ``a = 0`` (the clean images) belongs in it too."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, by_scale in results.items():
        scales = sorted(by_scale, key=float)
        ax.plot([float(a) for a in scales], [100 * by_scale[a] for a in scales], marker="o", label=name)
    ax.set_xlabel("noise scale a (pixels in [0, 1])")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return finish_figure(fig, save_path)
