import numpy as np
import pytest

from coursekit.checks import require_finite


def test_finite_and_integer_arrays_pass():
    require_finite(np.zeros((3, 2)), "x")
    require_finite(np.arange(4), "labels")


def test_nan_and_inf_are_counted_and_the_first_is_located():
    x = np.zeros((4, 3), np.float32)
    x[1, 2] = np.nan
    x[3, 0] = np.nan
    x[2, 1] = -np.inf
    with pytest.raises(ValueError, match=r"x_train holds 2 NaN and 1 infinite values out of 12 \(first at index \(1, 2\)\)"):
        require_finite(x, "x_train")
