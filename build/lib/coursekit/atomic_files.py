"""Writing a file so that nobody ever sees half of it: the one temp-file-and-rename for the project.

Models (``.h5``), IDX data, plots, ``metrics.json`` and training-backup settings are all written
through :func:`atomic_path`: the writer fills a temporary file beside the target, which is renamed
over it only when the writer returns. A crash, a full disk or an exception mid-write leaves the
previous file (or none) in place, never a truncated one that a later run would trust.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it.

    The temporary name keeps ``path``'s suffix (writers such as Keras and matplotlib choose the
    format from it) and starts with a dot, and the file gets the permissions ``open()`` would give
    (``mkstemp`` makes it 0600). Missing parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, prefix=f".{path.stem}.", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, _plain_file_mode())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the writer's own error is the one to report
            os.remove(tmp)
        raise


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _plain_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
