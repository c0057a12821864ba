import os
import stat

import numpy as np
import pytest

from coursekit.atomic_files import atomic_path, write_text_atomic


def test_the_file_appears_whole_with_plain_permissions_and_no_temporary_left(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "sub" / "metrics.json", '{"a": 1}')
    finally:
        os.umask(old)
    assert path.read_text() == '{"a": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt("disk full")])
def test_a_failed_or_interrupted_write_keeps_the_previous_file_and_removes_the_temporary(tmp_path, error):
    path = tmp_path / "model.h5"
    path.write_text("previous")
    with pytest.raises(type(error), match="disk full"):
        with atomic_path(path) as tmp:
            tmp.write_text("half of the new fi")
            raise error
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.h5"]


def test_a_writer_that_deletes_its_temporary_before_failing_still_raises_its_own_error(tmp_path):
    with pytest.raises(ValueError, match="bad model"):
        with atomic_path(tmp_path / "x.h5") as tmp:
            tmp.unlink()
            raise ValueError("bad model")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_keeps_the_suffix_writers_choose_the_format_from(tmp_path):
    with atomic_path(tmp_path / "curves.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path and tmp.name.startswith(".")
        tmp.write_bytes(b"png")
    assert (tmp_path / "curves.png").read_bytes() == b"png"


def test_figures_and_idx_files_go_through_it(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coursekit.datasets.idx import read_idx, write_idx
    from coursekit.report.plots import finish_figure

    fig = plt.figure()
    (tmp_path / "f.png").write_bytes(b"old")

    def crash(path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"\x89PN")  # the start of a new PNG, then the disk fills
        raise OSError("no space left")

    monkeypatch.setattr(fig, "savefig", crash)
    with pytest.raises(OSError):
        finish_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes() == b"old"
    monkeypatch.undo()
    finish_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)

    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(array, tmp_path / "a-idx2-ubyte.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx2-ubyte.gz"), array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-idx2-ubyte.gz", "f.png"]
