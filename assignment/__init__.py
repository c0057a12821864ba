"""The assignments as runnable tasks: ``python -m assignment TASK`` (``--help`` lists them by assignment).

Each task module is a short narrative over the ``coursekit`` library and ``models.py``;
it defines ``HELP``, ``add_arguments(parser)`` and ``run(args)``.
"""
import importlib

# assignment -> {task name: module}
ASSIGNMENTS = {
    "Monash FIT3181 Assignment 1 (2022)": {
        "numerics": "assignment.numerics",
        "fashion-mnist": "assignment.fashion_mnist",
        "animals": "assignment.animals",
    },
    "Technion ECE 046211 HW2": {
        "init-study": "assignment.init_study",
        "magic": "assignment.magic",
        "imagenette": "assignment.imagenette",
    },
    "DS 5220 Problem Set 4": {
        "mnist": "assignment.mnist",
    },
    "RecVis 2020/21 Assignment 2": {
        "double-moon": "assignment.double_moon",
        "conv-blocks": "assignment.conv_blocks",
        "cifar10": "assignment.cifar10",
    },
    "Students and instructors": {
        "check": "assignment.check",
        "grade": "assignment.grade",
        "autograder": "assignment.autograder",
    },
}
TASKS = {name: module for tasks in ASSIGNMENTS.values() for name, module in tasks.items()}


def load_task(name):
    """Import the module that implements task ``name``."""
    return importlib.import_module(TASKS[name])
