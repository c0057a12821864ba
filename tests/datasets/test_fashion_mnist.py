import numpy as np
import pytest

from coursekit.datasets import fashion_mnist as fm
from coursekit.datasets.idx import write_idx


def write_fake_fashion(folder, n_train=200, n_test=50, seed=0):
    """Four idx .gz files in the original names: class k is a bright band at row 2k."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        y = (np.arange(n) % 10).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(y):
            x[i, 2 * label + 4: 2 * label + 7] = 255
        write_idx(x, folder / f"{split}-images-idx3-ubyte.gz")
        write_idx(y, folder / f"{split}-labels-idx1-ubyte.gz")
    return folder


def test_loads_a_local_folder_of_the_four_original_files(tmp_path):
    (xtr, ytr), (xte, yte) = fm.load_fashion_mnist(write_fake_fashion(tmp_path / "f"))
    assert xtr.shape == (200, 28, 28) and xte.shape == (50, 28, 28) and ytr.dtype == np.uint8


def test_uses_a_prefilled_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(fm, "DEFAULT_DIR", tmp_path / "nothing")
    write_fake_fashion(tmp_path / "kh" / "datasets" / "fashion-mnist")
    (xtr, _), _ = fm.load_fashion_mnist(allow_download=False)
    assert xtr.shape == (200, 28, 28)


def test_missing_files_say_which_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(fm, "DEFAULT_DIR", tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz.*nothing"):
        fm.load_fashion_mnist(allow_download=False)
    partial = write_fake_fashion(tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        fm.load_fashion_mnist(partial)


def test_prepare_splits_flattens_scales_and_splits_90_10(tmp_path):
    train, test = fm.load_fashion_mnist(write_fake_fashion(tmp_path / "f"))
    data = fm.prepare_splits(train, test)
    assert data.X_train.shape == (180, 784) and data.X_valid.shape == (20, 784) and data.X_test.shape == (50, 784)
    assert data.X_train.dtype == np.float32 and data.X_train.min() >= 0 and data.X_train.max() == 1.0
    assert len(set(data.y_valid.tolist())) > 5  # the shuffle keeps validation from being one class
    again = fm.prepare_splits(train, test)
    np.testing.assert_array_equal(data.X_valid, again.X_valid)


def test_image_grid_titles_are_one_based_names(tmp_path):
    (x, y), _ = fm.load_fashion_mnist(write_fake_fashion(tmp_path / "f"))
    from coursekit.report.plots import plot_numbered_samples

    fig = plot_numbered_samples(x, y, fm.CLASS_NAMES, 36, save_path=tmp_path / "grid.png")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 36 and all(t.split(":")[1] == fm.CLASS_NAMES[int(t.split(":")[0]) - 1] for t in titles)
    assert "1:T-shirt/top" in [f"{k + 1}:{n}" for k, n in enumerate(fm.CLASS_NAMES)]
    assert (tmp_path / "grid.png").stat().st_size > 1000
