"""The assignments as runnable tasks: ``python -m assignment TASK`` (``--help`` lists them).

Each task module is a short narrative over the ``coursekit`` library and ``models.py``;
it defines ``HELP``, ``add_arguments(parser)`` and ``run(args)``.
"""
import importlib

TASKS = {
    "animals": "assignment.animals",
    "numerics": "assignment.numerics",
    "fashion-mnist": "assignment.fashion_mnist",
    "mnist": "assignment.mnist",
    "double-moon": "assignment.double_moon",
    "conv-blocks": "assignment.conv_blocks",
    "cifar10": "assignment.cifar10",
    "init-study": "assignment.init_study",
    "magic": "assignment.magic",
    "imagenette": "assignment.imagenette",
}


def load_task(name):
    """Import the module that implements task ``name``."""
    return importlib.import_module(TASKS[name])
