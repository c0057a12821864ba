"""Projected gradient descent with a random start."""
from coursekit.attacks.core import pgd_core
from coursekit.attacks.runner import run_attack


def pgd(model, x, y, eps=0.0313, steps=20, step_size=0.002, value_range=(-1.0, 1.0), batch_size=256, seed=0,
        strategy=None, random_start=True):
    """L-inf PGD (Madry et al., 2018): a uniform random start in the eps-ball, then ``steps``
    signed-gradient steps of ``step_size``, each projected back onto the ball and ``value_range``.

    ``seed`` makes the random start repeatable; ``random_start=False`` starts at ``x`` (the
    basic iterative method of Kurakin et al.), which matters when ``steps * step_size`` is
    under ``2 * eps``: from a random start some pixels then cannot cross the ball (with the
    assignment's eps=0.0313, eta=0.002, k=20 a pixel started at -eps needs 31 steps to reach +eps).
    ``strategy`` (a ``tf.distribute`` strategy) splits each batch across its replicas.
    Returns inputs of ``x``'s shape and dtype.
    """
    return run_attack(pgd_core, model, x, y, eps=eps, value_range=value_range, batch_size=batch_size, seed=seed,
                      strategy=strategy, random_start=random_start, steps=steps, step_size=step_size)
