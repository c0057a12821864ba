"""Grading's settings in one validated place (``GradeConfig``), as ``TrainConfig`` is for training: ``grade``'s
flags, ``grade_batch``'s one argument besides the submissions. A bad value is refused when the config is made,
with the value and the fix, before any submission runs."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ASSIGNMENTS = ("fit3181", "technion-hw2", "ds5220", "recvis-a2")
GRADEBOOKS = ("moodle", "canvas")


def _path(value):
    return None if value is None else Path(value)


@dataclass(frozen=True)
class GradeConfig:
    """How a class is graded.

    ``out``: the folder for reports; ``data_dir``: the grader's images (default: generated); ``rubric``: a TOML
    rubric; ``timeout``/``check_timeout``: seconds per submission and per check; ``memory_gb``: the address-space
    cap of each submission's process; ``jobs``: submissions graded at once, each in its own isolated process with
    those limits; ``require_isolation``: refuse a machine where only a process group can be had;
    ``gradebooks``/``roster``: Moodle/Canvas files; ``similarity`` (default: on for 3 or more FIT3181
    submissions) with ``boilerplate``: files or folders of course material (``.py``, ``.ipynb``) whose code does
    not count; ``template``: the ``models.py`` handed out, beneath a notebook handed in without one."""

    out: Path
    data_dir: Path | None = None
    rubric: Path | None = None
    timeout: float = 600.0
    check_timeout: float = 120.0
    memory_gb: float = 8.0
    seed: int = 0
    assignment: str = "fit3181"
    require_isolation: bool = False
    jobs: int = 1
    gradebooks: tuple = ()
    roster: Path | None = None
    similarity: bool | None = None
    boilerplate: tuple = field(default_factory=tuple)
    template: Path | None = None

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "out", Path(self.out))
        for name in ("data_dir", "rubric", "roster", "template"):
            set_(self, name, _path(getattr(self, name)))
        bp = self.boilerplate
        set_(self, "boilerplate", tuple(Path(p) for p in ((bp,) if isinstance(bp, (str, Path)) else bp or ())))
        set_(self, "gradebooks", tuple(self.gradebooks or ()))
        self.validate()

    def validate(self):
        problems = []
        if self.assignment not in ASSIGNMENTS:
            problems.append(f"assignment {self.assignment!r}: choose one of {', '.join(ASSIGNMENTS)}")
        for name in ("timeout", "check_timeout", "memory_gb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                problems.append(f"{name}={value!r}: give a positive number")
        if not problems and self.check_timeout > self.timeout:
            problems.append(f"check_timeout={self.check_timeout:g} is longer than timeout={self.timeout:g}: a check "
                            "runs inside its submission's time; lower --check-timeout or raise --timeout")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            problems.append(f"jobs={self.jobs!r}: give a whole number of submissions at once, 1 or more")
        elif self.jobs > 4 * (os.cpu_count() or 1):
            problems.append(f"jobs={self.jobs}: more than 4 per CPU core ({os.cpu_count()} here) only makes each "
                            "submission slower and nearer its time limit; use at most the number of cores")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            problems.append(f"seed={self.seed!r}: give a whole number")
        unknown = [g for g in self.gradebooks if g not in GRADEBOOKS]
        if unknown:
            problems.append(f"gradebooks {unknown}: choose from {', '.join(GRADEBOOKS)}")
        for name in ("data_dir", "rubric", "roster", "template"):
            path = getattr(self, name)
            if path is not None and not path.exists():
                problems.append(f"{name}: {path} does not exist")
        problems += [f"boilerplate: {p} does not exist (give the handed-out notebook, models.py, tutorials: files "
                     "or folders of .py and .ipynb)" for p in self.boilerplate if not p.exists()]
        if problems:
            raise ValueError("grading settings refused: " + "; ".join(problems))
