import numpy as np
import pytest

from coursekit.datasets import mnist
from coursekit.datasets.idx import write_idx
from coursekit.datasets.idx_sets import FILES


def write_fake_mnist(folder, n_train=256, n_test=64, seed=0):
    """Four idx .gz files in MNIST's names: digit k is a bright vertical bar at column 2k + 4."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(y):
            x[i, 4:24, 2 * label + 4: 2 * label + 6] = 255
        write_idx(x, folder / FILES[f"x_{split}"])
        write_idx(y, folder / FILES[f"y_{split}"])
    return folder


def test_reads_the_four_files_of_a_folder(tmp_path):
    (xtr, ytr), (xte, yte) = mnist.load_mnist(write_fake_mnist(tmp_path / "m"))
    assert xtr.shape == (256, 28, 28) and xte.shape == (64, 28, 28) and ytr.dtype == np.uint8 and len(yte) == 64


def test_missing_file_is_named_with_where_to_put_it(tmp_path, monkeypatch):
    folder = write_fake_mnist(tmp_path / "m")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-images-idx3-ubyte.gz.*four MNIST files"):
        mnist.load_mnist(folder)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.chdir(tmp_path)  # no datasets/mnist here
    with pytest.raises(FileNotFoundError, match=r"MNIST not found.*train-images-idx3-ubyte.gz.*datasets/mnist"):
        mnist.load_mnist(allow_download=False)


def test_bad_magic_and_truncated_files_name_the_file(tmp_path):
    folder = write_fake_mnist(tmp_path / "m")
    labels = folder / "train-labels-idx1-ubyte.gz"
    write_idx(np.zeros((3, 3), np.uint8), labels)  # a 2-d array: the right magic, the wrong shape
    with pytest.raises(ValueError, match="do not belong together"):
        mnist.load_mnist(folder)
    import gzip
    with gzip.open(labels, "wb") as fh:
        fh.write(b"<html>404</html>")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz is not an IDX file"):
        mnist.load_mnist(folder)
    images = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(images, "rb") as fh:
        raw = fh.read()
    with gzip.open(images, "wb") as fh:
        fh.write(raw[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is truncated"):
        mnist.load_mnist(folder)


def test_reads_keras_own_cached_npz(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kh" / "datasets").mkdir(parents=True)
    x = np.zeros((5, 28, 28), np.uint8)
    np.savez(tmp_path / "kh" / "datasets" / "mnist.npz", x_train=x, y_train=np.arange(5, dtype=np.uint8),
             x_test=x[:2], y_test=np.arange(2, dtype=np.uint8))
    (xtr, ytr), (xte, _) = mnist.load_mnist(allow_download=False)
    assert xtr.shape == (5, 28, 28) and list(ytr) == [0, 1, 2, 3, 4] and len(xte) == 2


def test_pixel_stats_and_inputs():
    x = np.array([[[0, 255], [255, 255]]], np.uint8)
    mean, std = mnist.pixel_stats(x)
    assert mean == pytest.approx(0.75) and std == pytest.approx(np.std([0, 1, 1, 1], ddof=1))
    scaled = mnist.to_inputs(x, mean, std)
    assert scaled.shape == (1, 2, 2, 1) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.ravel(), (np.array([0, 1, 1, 1]) - mean) / std, rtol=1e-6)
    np.testing.assert_array_equal(mnist.to_inputs(x).ravel(), [0, 1, 1, 1])
