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
    # scale_loss is the identity except under mixed float16, where it multiplies by the loss scale and the
    # optimizer unscales in apply(); it must be taken on the tape, or the gradients are None (all zero).
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = loss_fn(y, y_pred)
        scaled = optimizer.scale_loss(loss)
    grads = _dense(tape.gradient(scaled, tvars), tvars)
    stat_vars = model.non_trainable_variables if stat_vars is None else stat_vars
    stats = [tf.identity(v) for v in stat_vars]
    # eps is scale-invariant (g / ||g||), so scaled gradients give the same perturbation. A gradient that
    # overflowed the loss scale gives no perturbation (not NaN weights): the second pass overflows too,
    # and the loss-scale optimizer skips the step and lowers the scale, as for a plain step.
    norm = tf.linalg.global_norm(grads)
    scale = tf.where(tf.math.is_finite(norm), rho / (norm + 1e-12), 0.0)
    eps = [tf.where(tf.math.is_finite(g), g * scale, 0.0) for g in grads]
    for v, e in zip(tvars, eps):
        v.assign_add(e)
    with tf.GradientTape() as tape:
        sharp_loss = loss_fn(y, model(x, training=True))
        sharp_scaled = optimizer.scale_loss(sharp_loss)
    sharp_grads = _dense(tape.gradient(sharp_scaled, tvars), tvars)
    for v, e in zip(tvars, eps):
        v.assign_sub(e)
    for v, s in zip(stat_vars, stats):
        v.assign(s)
    optimizer.apply(sharp_grads, tvars)
    return loss, y_pred


def _dense(grads, tvars):
    return [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, tvars)]
