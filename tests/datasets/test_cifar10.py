import pickle
import shutil
import tarfile

import numpy as np
import pytest
from PIL import Image

from coursekit.datasets import cifar10


def write_cifar_bin(folder, n_per_batch=20, seed=0):
    """The binary version in miniature: five training batches and a test batch."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in cifar10.BIN_TRAIN + [cifar10.BIN_TEST]:
        labels = rng.integers(0, 10, n_per_batch).astype(np.uint8)
        pixels = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        np.concatenate([labels[:, None], pixels], axis=1).tofile(folder / name)
    return folder


def write_cifar_folders(root, n=4, seed=0, classes=cifar10.CLASS_NAMES):
    """train/<class>/*.png and test/<class>/*.png; class k is a flat colour with noise."""
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        for k, name in enumerate(classes):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            colour = np.array([25 * k, 255 - 25 * k, (80 * k) % 256])
            for i in range(n):
                img = np.clip(rng.normal(colour, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(root / split / name / f"{i:04d}.png")
    return root


def test_binary_version_decodes_channel_planes(tmp_path):
    folder = write_cifar_bin(tmp_path / "cifar-10-batches-bin")
    (x_train, y_train), (x_test, y_test), classes, source = cifar10.load_cifar10(tmp_path)
    assert x_train.shape == (100, 32, 32, 3) and x_test.shape == (20, 32, 32, 3) and classes == cifar10.CLASS_NAMES
    raw = np.fromfile(folder / "data_batch_1.bin", np.uint8).reshape(-1, 3073)
    assert y_train[0] == raw[0, 0]
    np.testing.assert_array_equal(x_train[0, :, :, 0].ravel(), raw[0, 1:1025])   # red plane
    np.testing.assert_array_equal(x_train[0, :, :, 2].ravel(), raw[0, 2049:])    # blue plane
    assert "binary" in source


def test_bad_binary_file_is_named(tmp_path):
    folder = write_cifar_bin(tmp_path / "b")
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="test_batch.bin is not a CIFAR-10 binary batch"):
        cifar10.load_cifar10(folder)


def test_image_folders_keep_class_order_and_size(tmp_path):
    root = write_cifar_folders(tmp_path / "c")
    (x_train, y_train), (x_test, y_test), classes, source = cifar10.load_cifar10(root)
    assert classes == sorted(cifar10.CLASS_NAMES) and x_train.shape == (40, 32, 32, 3) and len(y_test) == 40
    assert list(np.bincount(y_train)) == [4] * 10 and "image folders" in source
    (x_small, _), _, _, _ = cifar10.load_cifar10(root, limit_per_class=2)
    assert len(x_small) == 20


def test_an_unreadable_image_is_named(tmp_path):
    root = write_cifar_folders(tmp_path / "c", n=2)
    (root / "test" / "cat" / "0001.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="0001.png"):
        cifar10.load_cifar10(root)


def test_python_pickle_batches_are_refused_never_unpickled(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    (folder / "data_batch_1").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="never unpickled"):
        cifar10.load_cifar10(tmp_path)


def _tar(archive, root, split):
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / split, arcname=split)
    shutil.rmtree(root / split)
    return archive


def test_training_tree_read_from_its_tar_gz_beside_the_test_folder(tmp_path, monkeypatch):
    """The shared copy's layout: cifar10_train_jpeg.tar.gz (train/<class>/*.jpg) and a test/ folder."""
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    root = write_cifar_folders(tmp_path / "c", n=3)
    expected = cifar10.load_cifar10(root)
    archive = _tar(root / "cifar10_train_jpeg.tar.gz", root, "train")
    for source in (root, archive):  # the folder, or the archive itself with test/ beside it
        (x_train, y_train), (x_test, y_test), classes, where = cifar10.load_cifar10(source)
        np.testing.assert_array_equal(x_train, expected[0][0])
        np.testing.assert_array_equal(y_train, expected[0][1])
        np.testing.assert_array_equal(x_test, expected[1][0])
        assert classes == expected[2] and "cifar10_train_jpeg.tar.gz" in where
    assert (tmp_path / "cache" / "cifar10_train_jpeg" / "train").is_dir()   # unpacked once, then reused
    (tmp_path / "cache" / "cifar10_train_jpeg" / "train" / "airplane" / "0000.png").unlink()
    assert len(cifar10.load_cifar10(root)[0][1]) == 29


def test_archive_without_the_other_tree_or_damaged_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    root = write_cifar_folders(tmp_path / "c", n=1)
    shutil.rmtree(root / "test")
    _tar(root / "train.tar.gz", root, "train")
    with pytest.raises(FileNotFoundError, match=r"found the train images \(train.tar.gz\) but no test/"):
        cifar10.load_cifar10(root)
    bad = tmp_path / "d"
    bad.mkdir()
    (bad / "cifar10_train_jpeg.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="cifar10_train_jpeg.tar.gz is not a readable tar archive"):
        cifar10.load_cifar10(bad)
    (bad / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="not a .tar.gz archive"):
        cifar10.load_cifar10(bad / "notes.txt")


def test_missing_data_says_what_to_put_where(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no folder"):
        cifar10.load_cifar10(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train/<class>"):
        cifar10.load_cifar10(tmp_path / "empty")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="datasets/cifar10"):
        cifar10.load_cifar10(allow_download=False)


def test_unit_range():
    np.testing.assert_allclose(cifar10.to_unit_range(np.array([0, 127.5, 255], np.float32)), [-1, 0, 1])
