import warnings

import numpy as np
import pytest
from PIL import Image

from coursekit.datasets.animals import AnimalsDatasetManager, create_label_folder_dict
from coursekit.datasets.preprocessing import SimplePreprocessor


@pytest.fixture()
def messy_folder(tmp_path):
    """Two classes of real image files plus a corrupt JPEG, a text file, a grey PNG and an RGBA PNG."""
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (40 + i, 50, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.jpg")
    (tmp_path / "cats" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    (tmp_path / "cats" / "readme.txt").write_text("hello")
    Image.fromarray(rng.integers(0, 255, (30, 30), dtype=np.uint8), "L").save(tmp_path / "dogs" / "grey.png")
    Image.fromarray(rng.integers(0, 255, (30, 30, 4), dtype=np.uint8), "RGBA").save(tmp_path / "dogs" / "rgba.png")
    return tmp_path


def test_load_skips_bad_files_with_one_warning_and_converts_the_rest(messy_folder, capsys):
    dm = AnimalsDatasetManager([SimplePreprocessor(32, 32)])
    with pytest.warns(UserWarning) as caught:
        dm.load(create_label_folder_dict(messy_folder), verbose=2)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "corrupt.jpg" in message and "readme.txt" in message and "skipped 2" in message
    assert dm.data.shape == (10, 32, 32, 3) and dm.data.dtype == np.uint8
    assert sorted(dm.labels.tolist()) == ["cats"] * 4 + ["dogs"] * 6
    out = capsys.readouterr().out
    assert "cats 6" in out and "Processed 2/6" in out  # the template's progress lines


def test_loads_repeat_exactly(messy_folder):
    runs = []
    for _ in range(2):
        dm = AnimalsDatasetManager([SimplePreprocessor(16, 16)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dm.load(create_label_folder_dict(messy_folder))
        runs.append(dm.data)
    np.testing.assert_array_equal(*runs)


def test_max_num_images_caps_each_class_and_says_so(messy_folder, capsys):
    dm = AnimalsDatasetManager([SimplePreprocessor(16, 16)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load(create_label_folder_dict(messy_folder), max_num_images=3)
    assert len(dm.labels) == 6
    files = {c: len(list((messy_folder / c).iterdir())) for c in ("cats", "dogs")}
    assert (f"read at most max_num_images=3 files per class: cats 3 of {files['cats']}, dogs 3 of {files['dogs']} "
            "(raise max_num_images, or --max-images") in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load(create_label_folder_dict(messy_folder), max_num_images=100)
    assert "read at most" not in capsys.readouterr().out  # nothing cut, nothing said


def test_process_data_label_scales_to_value_range_and_encodes_sorted_names(messy_folder):
    dm = AnimalsDatasetManager([SimplePreprocessor(16, 16)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load({"zebra": messy_folder / "dogs", "ant": messy_folder / "cats"})
    raw = dm.data.copy()
    dm.process_data_label()
    assert dm.classes.tolist() == ["ant", "zebra"]
    assert dm.data.dtype == np.float64  # the template's dtype: tutorial code adds float64 noise to it
    np.testing.assert_allclose(dm.data, raw / 255.0 * 2.0 - 1.0, atol=1e-12)  # 0 -> -1, 255 -> 1
    assert set(dm.labels.tolist()) == {0, 1} and (dm.labels == 0).sum() == 4


def test_the_data_dtype_can_be_float32_and_must_be_a_float(messy_folder):
    dm = AnimalsDatasetManager([SimplePreprocessor(16, 16)], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load({"a": messy_folder / "dogs", "b": messy_folder / "cats"})
    dm.process_data_label()
    assert dm.data.dtype == np.float32 and dm.data.min() >= -1 and dm.data.max() <= 1
    with pytest.raises(ValueError, match="floating type"):
        AnimalsDatasetManager(dtype=np.uint8)


def _manager_with(n_per_class, num_classes=10):
    dm = AnimalsDatasetManager()
    dm.data = np.zeros((n_per_class * num_classes, 2, 2, 3), np.float32)
    dm.data[:, 0, 0, 0] = np.arange(len(dm.data))
    dm.labels = np.repeat(np.arange(num_classes), n_per_class)
    dm.classes = np.array([f"c{i}" for i in range(num_classes)])
    return dm


def test_split_sizes_stratified_and_repeatable():
    a, b = _manager_with(500), _manager_with(500)
    a.train_valid_test_split()
    b.train_valid_test_split()
    assert (len(a.y_train), len(a.y_valid), len(a.y_test)) == (4000, 500, 500)
    assert np.bincount(a.y_test).tolist() == [50] * 10
    np.testing.assert_array_equal(a.X_test, b.X_test)
    ids = np.concatenate([a.X_train, a.X_valid, a.X_test])[:, 0, 0, 0]
    assert len(np.unique(ids)) == 5000  # disjoint and complete
    c = _manager_with(500)
    c.train_valid_test_split(rand_seed=34)
    assert not np.array_equal(a.X_test, c.X_test)


def test_next_batch_walks_the_training_set():
    dm = _manager_with(10)
    dm.train_valid_test_split()
    seen = np.concatenate([dm.next_batch(8)[0][:, 0, 0, 0] for _ in range(10)])
    assert len(np.unique(seen)) == 80
    with pytest.raises(ValueError, match="batch_size"):
        dm.next_batch(0)


@pytest.mark.parametrize("kwargs,match", [
    (dict(train_size=0.95, test_size=0.1), "train_size"),
    (dict(train_size=0, test_size=0.1), "train_size"),
])
def test_bad_split_sizes(kwargs, match):
    dm = _manager_with(10)
    with pytest.raises(ValueError, match=match):
        dm.train_valid_test_split(**kwargs)


def test_clear_errors_for_missing_folder_empty_class_and_empty_dict(tmp_path):
    dm = AnimalsDatasetManager()
    with pytest.raises(FileNotFoundError, match="nowhere"):
        dm.load({"cats": tmp_path / "nowhere"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no readable images.*empty"):
        dm.load({"cats": tmp_path / "empty"})
    with pytest.raises(ValueError, match="empty"):
        dm.load({})
    with pytest.raises(FileNotFoundError, match="missing_root"):
        create_label_folder_dict(tmp_path / "missing_root")
    with pytest.raises(RuntimeError, match="load"):
        AnimalsDatasetManager().process_data_label()
    with pytest.raises(RuntimeError, match="process_data_label"):
        AnimalsDatasetManager().train_valid_test_split()


def test_mixed_sizes_without_preprocessor_are_refused(messy_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="SimplePreprocessor"):
            AnimalsDatasetManager().load(create_label_folder_dict(messy_folder))


def test_parallel_load_equals_the_one_file_at_a_time_load(tmp_path, capsys):
    """Varied sizes, corrupt files between good ones and a cap that ends a class early: the threads
    must give the same images, labels, skipped list and progress lines as reading one by one."""
    rng = np.random.default_rng(1)
    for cls in ("cats", "dogs", "panda"):
        (tmp_path / cls).mkdir()
        for i in range(25):
            h, w = rng.integers(20, 300, 2)
            Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i:02d}.jpg")
        (tmp_path / cls / "07b.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "dogs" / "24b.jpg").write_bytes(b"not read: after the cap")
    folders = create_label_folder_dict(tmp_path)
    loads = []
    for workers in (1, 4):
        dm = AnimalsDatasetManager([SimplePreprocessor(24, 24)])
        with pytest.warns(UserWarning):
            dm.load(folders, max_num_images=22, verbose=5, workers=workers)
        loads.append((dm.data, dm.labels, dm.skipped, capsys.readouterr().out))
    (seq_data, seq_labels, seq_skipped, seq_out), (par_data, par_labels, par_skipped, par_out) = loads
    np.testing.assert_array_equal(par_data, seq_data)
    np.testing.assert_array_equal(par_labels, seq_labels)
    assert par_skipped == seq_skipped and len(seq_skipped) == 3
    assert not any("24b" in path for path, _ in seq_skipped)
    assert par_out == seq_out and "Processed 20/22" in seq_out
