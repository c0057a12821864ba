"""Momentum iterative method."""
from coursekit.attacks.core import mim_core
from coursekit.attacks.runner import run_attack


def mim(model, x, y, eps=0.0313, steps=20, step_size=0.002, decay=1.0, value_range=(-1.0, 1.0), batch_size=256,
        strategy=None):
    """MIM (Dong et al., 2018): ``g <- decay * g + grad / ||grad||_1`` per example, then a signed
    step of ``step_size`` along ``g``, projected onto the eps-ball and ``value_range``; starts at ``x``.
    """
    return run_attack(mim_core, model, x, y, eps=eps, value_range=value_range, batch_size=batch_size, seed=0,
                      strategy=strategy, steps=steps, step_size=step_size, decay=decay)
