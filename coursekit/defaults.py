"""Give a subclass other defaults for its parent's ``__init__`` without writing the signature out again."""
from __future__ import annotations

import inspect


def init_with_defaults(base_init, defaults):
    """An ``__init__`` taking exactly ``base_init``'s parameters (same names, same positional order) with
    ``defaults`` replacing some of their defaults; ``help()`` and ``inspect.signature`` show the new ones.

    A name that ``base_init`` does not take is refused, so a renamed parameter cannot leave a stale default."""
    signature = inspect.signature(base_init)
    unknown = sorted(set(defaults) - set(signature.parameters))
    if unknown:
        raise TypeError(f"{base_init.__qualname__} takes no parameter(s) {', '.join(unknown)}")
    signature = signature.replace(parameters=[p.replace(default=defaults[p.name]) if p.name in defaults else p
                                              for p in signature.parameters.values()])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        base_init(*bound.args, **bound.kwargs)

    __init__.__signature__ = signature
    __init__.__doc__ = base_init.__doc__
    return __init__
