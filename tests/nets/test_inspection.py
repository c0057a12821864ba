import numpy as np

from coursekit.nets.classifier import first_misclassified


def test_first_misclassified_holds_only_mistakes_in_test_order():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 500)
    y_pred = y_true.copy()
    wrong = np.sort(rng.choice(500, 60, replace=False))
    y_pred[wrong] = (y_true[wrong] + 1) % 10
    got = first_misclassified(y_true, y_pred, 20)
    np.testing.assert_array_equal(got, wrong[:20])
    assert np.all(y_true[got] != y_pred[got])
    assert len(first_misclassified(y_true, y_true, 20)) == 0
    assert len(first_misclassified(y_true, y_pred, 100)) == 60
