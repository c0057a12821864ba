import os
import stat

import keras
import numpy as np
import pytest

from coursekit.nets.architectures import default_cnn
from coursekit.nets.saving import load_h5, save_h5


@pytest.fixture(scope="module")
def small_net():
    return default_cnn(8, 8, 3, num_classes=3)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_saved_files_get_the_permissions_a_plain_save_gives(tmp_path, small_net, suffix):
    old = os.umask(0o022)
    try:
        path = save_h5(small_net, tmp_path / f"net{suffix}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    np.testing.assert_allclose(load_h5(path).predict(np.zeros((1, 8, 8, 3)), verbose=0),
                               small_net.predict(np.zeros((1, 8, 8, 3)), verbose=0), rtol=1e-6)


def test_truncated_h5_is_named_with_the_fix(tmp_path, small_net):
    good = save_h5(small_net, tmp_path / "good.h5")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match=r"cannot read the model file .*cut\.h5.*cut short"):
        load_h5(cut)


@pytest.mark.parametrize("name, content", [("notes.h5", b"these are my notes"), ("empty.h5", b""),
                                           ("page.keras", b"<html>404</html>")])
def test_files_that_are_not_models_are_named(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        load_h5(tmp_path / name)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_lambda_layer_refused_unless_trusted(tmp_path, suffix):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    path = save_h5(model, tmp_path / f"lambda{suffix}")
    with pytest.raises(ValueError, match=r"Lambda layer.*safe_mode=False"):
        load_h5(path)
    assert load_h5(path, safe_mode=False).predict(np.ones((1, 4)), verbose=0)[0, 0] == 2.0


def test_a_save_that_fails_midway_leaves_the_previous_model(tmp_path, small_net, monkeypatch):
    path = save_h5(small_net, tmp_path / "net.h5")
    before = path.read_bytes()

    def crash(filepath, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"\x89HDF\r\n")  # a few bytes of a new file, then the process fails
        raise OSError("No space left on device")

    monkeypatch.setattr(small_net, "save", crash)
    with pytest.raises(OSError, match="No space left"):
        save_h5(small_net, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.h5"]
