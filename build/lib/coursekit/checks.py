"""Input checks that fail early with a message naming the array, what is wrong and how to fix it."""
from __future__ import annotations

import numpy as np


def require_finite(array, name):
    """Raise ``ValueError`` when ``array`` holds NaN or infinite values, naming ``name`` and the counts.

    A single NaN pixel turns every weight into NaN after one step, and an inf breaks the
    clipping of an attack, so both are refused before any work starts.
    """
    values = np.asarray(array)
    if values.dtype.kind not in "fc":
        return
    finite = np.isfinite(values)
    if finite.all():
        return
    bad = np.argwhere(~finite)
    nans = int(np.isnan(values).sum())
    infs = int(bad.shape[0] - nans)
    raise ValueError(f"{name} holds {nans} NaN and {infs} infinite values out of {values.size} "
                     f"(first at index {tuple(int(i) for i in bad[0])}): clean or drop those examples "
                     f"(e.g. np.nan_to_num, or keep rows where np.isfinite(...).all()) before using them")


__all__ = ["require_finite"]
