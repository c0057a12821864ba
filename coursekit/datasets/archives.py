"""Unpack a data set's ``.tar.gz`` once into the cache, atomically, and refuse one that is damaged or wrong."""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_archive(path):
    """Whether ``path`` names a tar archive by its suffix (``.tar.gz``, ``.tgz``, ``.tar``)."""
    return Path(path).name.lower().endswith(ARCHIVE_SUFFIXES)


def extract_once(archive, required, what, cache_dir=None):
    """Unpack ``archive`` into ``cache_dir/<archive name>`` unless done before; return the folder holding any of
    the ``required`` sub-folders (the archive's root or its one top folder).

    Extraction goes to a temporary folder renamed into place, so a run killed half-way leaves nothing that a
    later run would take for a complete copy. ``what`` names the data set in the errors."""
    from coursekit.datasets.digits import default_cache_dir

    archive = Path(archive)
    target = Path(cache_dir or default_cache_dir()) / archive.name.split(".")[0]
    if any((target / r).is_dir() for r in required):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix="." + target.name))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # no absolute paths, links out or devices
        roots = [p for p in [tmp, *tmp.iterdir()] if any((p / r).is_dir() for r in required)]
        if not roots:
            raise ValueError(f"{archive} holds no {' or '.join(r + '/' for r in required)} folder: is it {what}?")
        os.replace(roots[0], target)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{archive} is not a readable tar archive ({exc}); get {what} again") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
