import threading
import time

import pytest

from coursekit.datasets.parallel import ordered_map


def _slow_square(i):
    time.sleep(0.002 * ((7 * i) % 5))  # later items often finish first
    return i * i


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_results_come_in_input_order(workers):
    assert list(ordered_map(_slow_square, range(40), workers=workers)) == [i * i for i in range(40)]


def test_an_error_is_raised_where_its_item_is_reached():
    def fn(i):
        if i == 5:
            raise ValueError("item 5")
        return i

    got = []
    with pytest.raises(ValueError, match="item 5"):
        for value in ordered_map(fn, range(20), workers=4):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]


def test_stopping_early_leaves_the_rest_unread():
    calls = []
    lock = threading.Lock()

    def fn(i):
        with lock:
            calls.append(i)
        time.sleep(0.001)
        return i

    results = ordered_map(fn, range(1000), workers=2, window=4)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    results.close()
    assert len(calls) <= 3 + 4 + 2  # consumed + window + at most one in each thread


def test_bad_worker_count():
    with pytest.raises(ValueError, match="workers"):
        list(ordered_map(abs, [1], workers=0))
