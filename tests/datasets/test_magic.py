import numpy as np
import pytest

from coursekit.datasets import magic


def write_magic(path, n=400, seed=0, header=False):
    """A magic04.data look-alike: 10 numbers and g/h per row; class h has larger fLength."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.35
    X = rng.normal(0, 1, (n, 10)) * np.array([30, 10, 1, 0.2, 0.1, 40, 40, 20, 25, 70]) + 5
    X[:, 0] += np.where(y, 60, 0)
    lines = ["fLength,fWidth,fSize,fConc,fConc1,fAsym,fM3Long,fM3Trans,fAlpha,fDist,class"] if header else []
    lines += [",".join(f"{v:.4f}" for v in row) + ("," + ("h" if c else "g")) for row, c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_all_eleven_columns_and_maps_labels(tmp_path):
    path = write_magic(tmp_path / "magic04.data")
    X, y = magic.read_magic(path)
    assert X.shape == (400, 10) and set(np.unique(y)) == {0, 1}
    rows = path.read_text().splitlines()
    assert y[0] == (1 if rows[0].endswith(",h") else 0)
    assert X[0, 9] == pytest.approx(float(rows[0].split(",")[9]))
    assert len(magic.COLUMNS) == 11 and magic.COLUMNS[-1] == "class" and magic.LABELS == {"g": 0, "h": 1}
    X2, _ = magic.read_magic(write_magic(tmp_path / "with_header.data", header=True))
    np.testing.assert_allclose(X2, X)


def test_a_bad_row_is_named_with_its_line(tmp_path):
    path = write_magic(tmp_path / "magic04.data", n=10)
    rows = path.read_text().splitlines()
    rows[4] = rows[4].rsplit(",", 1)[0] + ",x"
    path.write_text("\n".join(rows))
    with pytest.raises(ValueError, match=r"magic04.data, line 5"):
        magic.read_magic(path)
    with pytest.raises(FileNotFoundError, match="magic04.data"):
        magic.load_magic(tmp_path / "nothing.data")


def test_split_is_70_10_20_stratified_and_scaled_on_train_only(tmp_path):
    X, y = magic.read_magic(write_magic(tmp_path / "m.data", n=1000))
    d = magic.split_magic(X, y, seed=0, transform="standard")
    assert (len(d.y_train), len(d.y_valid), len(d.y_test)) == (700, 100, 200)
    for part in (d.y_train, d.y_valid, d.y_test):
        assert abs(part.mean() - y.mean()) < 0.02
    np.testing.assert_allclose(d.scaler.mean_, d.raw_train.mean(axis=0))
    assert not np.allclose(d.scaler.mean_, X.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-5)
    assert abs(float(d.X_test.mean())) > 1e-4  # the test rows were not used to fit it
    again = magic.split_magic(X, y, seed=0, transform="power")
    np.testing.assert_array_equal(again.y_test, d.y_test)
