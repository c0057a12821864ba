"""Sharpness-aware minimisation (Foret et al., 2021) as one training step."""
import tensorflow as tf


def sam_update(model, loss_fn, x, y, rho, optimizer, stat_vars=None):
    """One SAM step on ``model``'s trainable variables.

    Computes the gradient g at w, moves to ``w + eps`` with ``eps = rho * g / ||g||``,
    takes the gradient there, returns to w and lets ``optimizer`` apply that second
    gradient. As in the paper's reference code, BatchNorm moving statistics are
    updated by the first forward pass only (they are restored after the second).
    ``stat_vars`` are the statistics to protect (default: ``model.non_trainable_variables``).
    ``loss_fn(y, y_pred)`` must return a scalar. Returns ``(loss at w, predictions at w)``.
    """
    tvars = model.trainable_variables
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = loss_fn(y, y_pred)
    # scale_loss is the identity except under mixed float16, where the optimizer unscales in apply();
    # eps is scale-invariant (g / ||g||), so scaled gradients give the same perturbation.
    grads = _dense(tape.gradient(optimizer.scale_loss(loss), tvars), tvars)
    stat_vars = model.non_trainable_variables if stat_vars is None else stat_vars
    stats = [tf.identity(v) for v in stat_vars]
    scale = rho / (tf.linalg.global_norm(grads) + 1e-12)
    eps = [g * scale for g in grads]
    for v, e in zip(tvars, eps):
        v.assign_add(e)
    with tf.GradientTape() as tape:
        sharp_loss = loss_fn(y, model(x, training=True))
    sharp_grads = _dense(tape.gradient(optimizer.scale_loss(sharp_loss), tvars), tvars)
    for v, e in zip(tvars, eps):
        v.assign_sub(e)
    for v, s in zip(stat_vars, stats):
        v.assign(s)
    optimizer.apply(sharp_grads, tvars)
    return loss, y_pred


def _dense(grads, tvars):
    return [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, tvars)]
