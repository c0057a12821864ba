"""Optimizers chosen by the names the template uses."""
import keras

_FACTORIES = {
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr),
    "momentum": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "adagrad": lambda lr: keras.optimizers.Adagrad(learning_rate=lr),
    "nadam": lambda lr: keras.optimizers.Nadam(learning_rate=lr),
}

OPTIMIZER_NAMES = tuple(_FACTORIES)


def get_optimizer(name, learning_rate):
    """A fresh Keras optimizer for ``name`` (one of ``OPTIMIZER_NAMES``) or an optimizer instance as is."""
    if isinstance(name, keras.optimizers.Optimizer):
        return name
    check_optimizer_name(name)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    return _FACTORIES[name.lower()](float(learning_rate))


def check_optimizer_name(name):
    """Raise a clear ``ValueError`` unless ``name`` is a known optimizer name or instance."""
    if isinstance(name, keras.optimizers.Optimizer):
        return
    if not isinstance(name, str) or name.lower() not in _FACTORIES:
        raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZER_NAMES)} "
                         "or pass a keras.optimizers.Optimizer instance")
