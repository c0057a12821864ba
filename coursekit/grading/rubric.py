"""Check weights an instructor can edit: a TOML file of ``[checks.<name>]`` tables with ``max_score`` (and, for
some checks, their bounds; ``visibility`` for Gradescope, also at the top level as every test's default). ``rubric_<assignment>.toml`` beside this module holds each assignment's defaults."""
from __future__ import annotations

import tomllib
from pathlib import Path

ASSIGNMENTS = ("fit3181", "technion-hw2", "ds5220", "recvis-a2")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, for a test or the results
DEFAULTS = {name: Path(__file__).with_name(f"rubric_{name}.toml") for name in ASSIGNMENTS}


def load_rubric(path=None, assignment="fit3181"):
    """The rubric as ``{check name: settings}``: the shipped defaults, updated by ``path``'s tables."""
    if assignment not in DEFAULTS:
        raise ValueError(f"unknown assignment {assignment!r}: use one of {', '.join(ASSIGNMENTS)}")
    with open(DEFAULTS[assignment], "rb") as f:
        checks = tomllib.load(f)["checks"]
    if path is not None:
        path = Path(path)
        try:
            with open(path, "rb") as f:
                mine = tomllib.load(f).get("checks", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"rubric {path}: {exc}; it must be TOML with [checks.<name>] tables such as "
                             f"[checks.attack_pgd] max_score = 5 (defaults: {DEFAULTS[assignment]})") from exc
        unknown = sorted(set(mine) - set(checks))
        if unknown:
            raise ValueError(f"rubric {path}: unknown checks {unknown}; known: {sorted(checks)}")
        for name, settings in mine.items():
            checks[name] = {**checks[name], **settings}
    for name, settings in checks.items():
        if not settings.get("max_score", 0) >= 0:
            raise ValueError(f"rubric: checks.{name}.max_score must be >= 0, got {settings.get('max_score')}")
        if settings.get("visibility", "visible") not in VISIBILITIES:
            raise ValueError(f"rubric: checks.{name}.visibility = {settings['visibility']!r}; Gradescope knows "
                             f"{', '.join(VISIBILITIES)}")
    rubric_visibility(path)  # a bad top-level value fails here too
    return checks


def rubric_visibility(path):
    """The rubric's top-level ``visibility`` (Gradescope's default for every test: ``visible``, ``hidden``,
    ``after_due_date`` or ``after_published``), or ``None`` where it sets none."""
    if path is None:
        return None
    with open(path, "rb") as f:
        value = tomllib.load(f).get("visibility")
    if value is not None and value not in VISIBILITIES:
        raise ValueError(f"rubric {path}: visibility = {value!r}; Gradescope knows {', '.join(VISIBILITIES)}")
    return value
