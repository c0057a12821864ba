import numpy as np
import pytest

from coursekit.datasets.preprocessing import SimplePreprocessor


def test_resizes_to_width_by_height_keeping_uint8():
    out = SimplePreprocessor(width=32, height=24).preprocess(np.zeros((100, 60, 3), np.uint8))
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("w,h", [(0, 32), (32, -1), (3.5, 32)])
def test_bad_size_is_refused(w, h):
    with pytest.raises(ValueError, match="positive integer"):
        SimplePreprocessor(w, h)


def test_bad_image_is_refused():
    with pytest.raises(ValueError, match="shape"):
        SimplePreprocessor(8, 8).preprocess(np.zeros((0, 5, 3), np.uint8))
