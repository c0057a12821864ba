"""Progress output that suits where it goes: bars on a terminal or notebook, one line per epoch in logs."""
import sys

from tqdm.auto import tqdm


def interactive() -> bool:
    """True on a terminal or inside Jupyter, where carriage-return progress bars render well."""
    return sys.stdout.isatty() or "ipykernel" in sys.modules


def keras_verbosity(verbose) -> int:
    """Keras ``verbose``: 0 when quiet, a progress bar when interactive, else one clean line per epoch."""
    if not verbose:
        return 0
    return 1 if interactive() else 2


def progress(iterable, **kwargs):
    """``tqdm`` that stays out of logs: it is disabled when output is not interactive."""
    kwargs.setdefault("disable", not interactive())
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
