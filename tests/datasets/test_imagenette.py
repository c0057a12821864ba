import tarfile

import numpy as np
import pytest
from PIL import Image

from coursekit.datasets import imagenette


def write_imagenette(root, wnids=("n01440764", "n03888257"), n=3, seed=0):
    """train/<wnid>/*.JPEG and val/<wnid>/*.JPEG of assorted sizes; each class its own colour."""
    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for k, wnid in enumerate(wnids):
            (root / split / wnid).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                h, w = rng.integers(20, 50, 2)
                img = np.clip(rng.normal(60 + 120 * k, 25, (h, w, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(root / split / wnid / f"{wnid}_{i}.JPEG", format="JPEG")
    return root


def test_folder_loader_resizes_and_names_classes(tmp_path):
    root = write_imagenette(tmp_path / "imagenette2-160")
    (x, y), (xv, yv), wnids, names, where = imagenette.load_imagenette(root, size=16)
    assert x.shape == (6, 16, 16, 3) and xv.shape == (6, 16, 16, 3) and x.dtype == np.uint8
    assert wnids == ["n01440764", "n03888257"] and names == ["tench", "parachute"]
    assert list(y) == [0, 0, 0, 1, 1, 1] and "folder" in where


def test_archive_is_extracted_once(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    root = write_imagenette(tmp_path / "src" / "imagenette2-160")
    archive = tmp_path / "imagenette2-160.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="imagenette2-160")
    (x, _), _, _, _, where = imagenette.load_imagenette(archive, size=8)
    assert x.shape == (6, 8, 8, 3) and "archive" in where
    assert (tmp_path / "cache" / "imagenette2-160" / "train").is_dir()


def test_bad_archive_missing_train_and_unreadable_image(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "imagenette2-160.tgz"
    bad.write_bytes(b"not a tar archive at all")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        imagenette.load_imagenette(bad)
    root = write_imagenette(tmp_path / "tree")
    import shutil
    shutil.rmtree(root / "train")
    with pytest.raises(FileNotFoundError, match="no train/ folder"):
        imagenette.load_imagenette(root)
    root = write_imagenette(tmp_path / "tree2")
    (root / "val" / "n03888257" / "n03888257_1.JPEG").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(ValueError, match="n03888257_1.JPEG"):
        imagenette.load_imagenette(root, size=8)


def test_validation_split_is_stratified():
    y = np.repeat(np.arange(4), 50)
    (xt, yt), (xv, yv) = imagenette.stratified_split(np.arange(200)[:, None], y, 0.1, seed=0)
    assert len(yv) == 20 and list(np.bincount(yv)) == [5] * 4 and len(set(xt[:, 0]) & set(xv[:, 0])) == 0
