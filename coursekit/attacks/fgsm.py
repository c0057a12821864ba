"""Fast gradient sign method."""
from coursekit.attacks.core import fgsm_core
from coursekit.attacks.runner import run_attack


def fgsm(model, x, y, eps=0.0313, value_range=(-1.0, 1.0), batch_size=256, strategy=None):
    """Fast gradient sign method (Goodfellow et al., 2015): ``x + eps * sign(grad)``.

    Args:
        model: a Keras classifier (probabilities or logits out; its logits are used), or a
            DefaultModel/YourModel (its ``.model``).
        x: inputs in ``value_range`` (float32 or float64; the result has their dtype).
        y: integer class ids, or one-hot rows.
        eps: L-inf radius in input units (0.0313 ~ 8/255 of a [0, 1] range).
        value_range: the data's real ``(low, high)``; results are clipped into it.
        strategy: an optional ``tf.distribute`` strategy that splits each batch across replicas.
    Returns adversarial inputs with ``x``'s shape and dtype.
    """
    return run_attack(fgsm_core, model, x, y, eps=eps, value_range=value_range, batch_size=batch_size, seed=0,
                      strategy=strategy)
