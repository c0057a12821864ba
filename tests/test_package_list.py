"""The wheel's package list names every package of the source tree (``pyproject.toml`` lists them by hand: a new
sub-package left off would install a library that cannot import it, as ``coursekit.grading.fit3181`` once did)."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_with_an_init_is_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("coursekit", "assignment")
             for p in (ROOT / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    assert found == listed, {"missing from pyproject.toml": sorted(found - listed),
                             "listed but not in the tree": sorted(listed - found)}
