import gzip

import numpy as np
import pytest

from coursekit.datasets.idx import read_idx, write_idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte.gz", "a-idx3-ubyte"])
def test_round_trip(tmp_path, name):
    x = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(x, tmp_path / name)), x)
    labels = np.arange(7, dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(labels, tmp_path / ("l" + name))), labels)


def test_bad_files_name_the_file(tmp_path):
    html = tmp_path / "page-idx1-ubyte.gz"
    with gzip.open(html, "wb") as fh:
        fh.write(b"<html>rate limited</html>")
    with pytest.raises(ValueError, match="page-idx1-ubyte.gz.*not an IDX"):
        read_idx(html)
    short = write_idx(np.zeros((4, 3), np.uint8), tmp_path / "short-idx2-ubyte")
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(short)


def test_real_mnist_test_file_when_present():
    from pathlib import Path
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    images = shared / "mnist_test_shared-images-idx3-ubyte.gz"
    if not images.is_file():
        pytest.skip("shared MNIST copy not present")
    x = read_idx(images)
    y = read_idx(shared / "mnist_test_shared-labels-idx1-ubyte.gz")
    ref = np.load(shared / "mnist_test_shared.npz")
    assert x.shape == (8000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, ref["x"])
    np.testing.assert_array_equal(y, ref["y"])


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    from coursekit.datasets import idx

    path = write_idx(np.zeros((2, 3), np.uint8), tmp_path / "b-idx2-ubyte.gz")
    before = path.read_bytes()
    real_open = gzip.open

    class FullDisk:
        @staticmethod
        def open(name, mode):
            fh = real_open(name, mode)
            fh.write(b"\x00\x00\x08")
            fh.close()
            raise OSError("No space left on device")

    monkeypatch.setattr(idx, "gzip", FullDisk)
    with pytest.raises(OSError, match="No space left"):
        write_idx(np.ones((5, 3), np.uint8), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
