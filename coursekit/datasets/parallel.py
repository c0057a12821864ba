"""``ordered_map``: run a function over items in worker threads, results in input order, lazily.

Image decoding (Pillow, OpenCV) releases the GIL, so threads decode several files at once;
a bounded window keeps memory flat and lets the caller stop early (e.g. after the first
``max_num_images`` readable files) without decoding the rest of a large folder.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor


def default_workers() -> int:
    """Threads for file decoding: one per core and one more to hide disk waits, at most 8."""
    return max(1, min(8, (os.cpu_count() or 1) + 1))


def ordered_map(fn, items, workers=None, window=None):
    """Yield ``fn(item)`` for each item, in the order of ``items``.

    At most ``window`` calls (default ``4 * workers``) are in flight ahead of the consumer.
    An exception raised by ``fn`` is re-raised when its result is reached, as a plain loop
    would. ``workers=1`` runs in the calling thread, with no pool. Closing the generator (or
    breaking out of the loop) cancels the calls not yet started.
    """
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1:
        for item in items:
            yield fn(item)
        return
    window = max(1, int(window) if window is not None else 4 * workers)
    pool = ThreadPoolExecutor(max_workers=workers)
    pending = deque()
    try:
        it = iter(items)
        for item in it:
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["default_workers", "ordered_map"]
