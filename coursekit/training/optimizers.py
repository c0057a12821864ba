"""Optimizers chosen by the names the template uses."""
import keras

_FACTORIES = {  # weight_decay: decoupled (AdamW-style) in every Keras 3 optimizer; None = off
    "adam": lambda lr, wd: keras.optimizers.Adam(learning_rate=lr, weight_decay=wd),
    "sgd": lambda lr, wd: keras.optimizers.SGD(learning_rate=lr, weight_decay=wd),
    "momentum": lambda lr, wd: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, weight_decay=wd),
    "rmsprop": lambda lr, wd: keras.optimizers.RMSprop(learning_rate=lr, weight_decay=wd),
    "adagrad": lambda lr, wd: keras.optimizers.Adagrad(learning_rate=lr, weight_decay=wd),
    "nadam": lambda lr, wd: keras.optimizers.Nadam(learning_rate=lr, weight_decay=wd),
}

OPTIMIZER_NAMES = tuple(_FACTORIES)


def get_optimizer(name, learning_rate, weight_decay=0.0, decay_steps=None, warmup_steps=0):
    """A fresh Keras optimizer for ``name`` (one of ``OPTIMIZER_NAMES``) or an optimizer instance as is.

    ``weight_decay`` > 0 adds decoupled weight decay; ``decay_steps`` makes the rate follow a cosine from
    ``learning_rate`` down to 0 over that many steps, after ``warmup_steps`` of a linear rise from 0 (which
    keeps the first updates of a freshly initialised network small)."""
    if isinstance(name, keras.optimizers.Optimizer):
        return name
    check_optimizer_name(name)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    rate = float(learning_rate)
    if decay_steps:
        warmup = int(warmup_steps)
        rate = (keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(int(decay_steps) - warmup, 1),
                                                       warmup_target=rate, warmup_steps=warmup) if warmup else
                keras.optimizers.schedules.CosineDecay(rate, decay_steps=int(decay_steps)))
    elif warmup_steps:
        raise ValueError("warmup_steps needs the cosine schedule (decay_steps)")
    return _FACTORIES[name.lower()](rate, float(weight_decay) or None)


def check_optimizer_name(name):
    """Raise a clear ``ValueError`` unless ``name`` is a known optimizer name or instance."""
    if isinstance(name, keras.optimizers.Optimizer):
        return
    if not isinstance(name, str) or name.lower() not in _FACTORIES:
        raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZER_NAMES)} "
                         "or pass a keras.optimizers.Optimizer instance")
