"""What a submission's process hands back: plain data the grader validates before judging it.

The submission's process only computes. For each check it writes one reply folder: ``values.json`` (numbers,
strings, lists of them) and ``<key>.npy`` arrays, never a pickle; ``write_reply`` renames the folder into place
when it is whole. The grader reads a reply with ``Reply``: every value is checked for its type, every array for
its dtype, size and shape, and a malformed, missing or oversized reply raises ``ReplyError``, which scores that
check 0 with its message. Nothing in a reply is a verdict: the grader computes every score from these values.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

MAX_JSON_BYTES = 1 << 20
MAX_ARRAY_BYTES = 64 << 20
MAX_REPLY_BYTES = 256 << 20


class ReplyError(ValueError):
    """A reply the grader cannot use: malformed, of the wrong type or shape, or too large; or the error the
    submission's code raised in that check."""


class MissingReply(ReplyError):
    """No reply at all: the submission's process never got to that check (a crash, a timeout)."""


# ------------------------------------------------------------------------------------ the submission's side
def write_reply(folder, name, values):
    """Write ``values`` (arrays, numbers, strings, lists, dicts of them; a ``Path`` is a file copied in under its
    key) as the reply ``folder/name``."""
    folder = Path(folder)
    tmp = folder / f".{name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    plain = {}
    for key, value in values.items():
        if isinstance(value, Path):  # a file the check wrote (saved weights): copied in under its key
            shutil.copyfile(value, tmp / key)
        elif isinstance(value, np.generic):  # a numpy number: a plain value
            plain[key] = value.item()
        elif isinstance(value, np.ndarray) or (hasattr(value, "__array__") and not isinstance(value, (str, bytes))):
            np.save(tmp / f"{key}.npy", np.asarray(value), allow_pickle=False)
        else:
            plain[key] = value
    (tmp / "values.json").write_text(json.dumps(plain, default=_plain))
    final = folder / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def _plain(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return str(value)


# ------------------------------------------------------------------------------------------ the grader's side
class Reply:
    """One check's reply, read defensively (``ReplyError`` for anything off)."""

    def __init__(self, folder, name):
        self.name = name
        self.folder = Path(folder) / name
        if not self.folder.is_dir() or self.folder.is_symlink():
            raise MissingReply(f"no reply for {name} (the submission's process never finished it)")
        total = sum(p.lstat().st_size for p in self.folder.iterdir())
        if total > MAX_REPLY_BYTES:
            raise ReplyError(f"the reply for {name} is {total / 2 ** 20:.0f} MB (limit {MAX_REPLY_BYTES >> 20} MB)")
        values = self.folder / "values.json"
        if not values.is_file() or values.is_symlink() or values.stat().st_size > MAX_JSON_BYTES:
            raise ReplyError(f"the reply for {name} has no readable values.json")
        try:
            self.values = json.loads(values.read_text(), parse_constant=lambda c: float(c))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ReplyError(f"the reply for {name} is not valid JSON: {exc}") from None
        if not isinstance(self.values, dict):
            raise ReplyError(f"the reply for {name} is not a JSON object")

    @classmethod
    def of(cls, folder, name):
        """The reply ``name``; ``ReplyError`` carrying the submission's own error where its check raised one."""
        reply = cls(folder, name)
        if reply.error is not None:
            raise ReplyError(reply.error)
        return reply

    @property
    def error(self):
        """The exception the submission's code raised in this check, if any (as text)."""
        value = self.values.get("error")
        return value[:1500] if isinstance(value, str) else None

    def has(self, key):
        return key in self.values or (self.folder / f"{key}.npy").is_file()

    def number(self, key, finite=False):
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReplyError(f"{self.name}: {key} is {type(value).__name__}, not a number")
        if finite and not math.isfinite(value):
            raise ReplyError(f"{self.name}: {key} is {value}, not finite")
        return float(value)

    def flag(self, key):
        value = self.values.get(key)
        if not isinstance(value, bool):
            raise ReplyError(f"{self.name}: {key} is {type(value).__name__}, not true/false")
        return value

    def text(self, key, limit=2000):
        value = self.values.get(key)
        if not isinstance(value, str):
            raise ReplyError(f"{self.name}: {key} is {type(value).__name__}, not text")
        return value[:limit]

    def strings(self, key, limit=200):
        value = self.values.get(key)
        if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
            raise ReplyError(f"{self.name}: {key} is not a list of at most {limit} strings")
        return [v[:500] for v in value]

    def numbers(self, key, limit=10000):
        value = self.values.get(key)
        if (not isinstance(value, list) or len(value) > limit
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise ReplyError(f"{self.name}: {key} is not a list of at most {limit} numbers")
        return [float(v) for v in value]

    def mapping(self, key):
        value = self.values.get(key)
        if not isinstance(value, dict):
            raise ReplyError(f"{self.name}: {key} is not a JSON object")
        return value

    def array(self, key, shape=None, kinds="fiub"):
        """The array ``key`` as a plain float32/int ``np.ndarray`` (no subclass, no objects), its ``shape`` checked
        where given (``None`` entries match any length)."""
        path = self.folder / f"{key}.npy"
        if not path.is_file() or path.is_symlink():
            raise ReplyError(f"{self.name}: no array {key} in the reply")
        if path.stat().st_size > MAX_ARRAY_BYTES:
            raise ReplyError(f"{self.name}: the array {key} is over {MAX_ARRAY_BYTES >> 20} MB")
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ReplyError(f"{self.name}: the array {key} cannot be read ({exc})") from None
        if type(array) is not np.ndarray or array.dtype.kind not in kinds:
            raise ReplyError(f"{self.name}: the array {key} has dtype {array.dtype} (want numbers)")
        if shape is not None and (array.ndim != len(shape)
                                  or any(w is not None and w != g for w, g in zip(shape, array.shape))):
            raise ReplyError(f"{self.name}: {key} has shape {array.shape}, want {tuple(shape)}")
        return array.astype(np.float32) if array.dtype.kind in "fb" else array

    def file(self, name, max_bytes=MAX_ARRAY_BYTES):
        """A file the reply holds (e.g. saved weights), checked for size; never executed or unpickled."""
        path = self.folder / name
        if not path.is_file() or path.is_symlink() or path.stat().st_size > max_bytes:
            raise ReplyError(f"{self.name}: no usable file {name} in the reply")
        return path
