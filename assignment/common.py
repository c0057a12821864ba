"""Helpers the task modules share: output folders and result tables."""
import json
from pathlib import Path

from coursekit.tables import format_table


def out_dir(path) -> Path:
    """Create (if needed) and return the folder a task writes its plots and tables to."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def report(title, rows, out, name, columns=None):
    """Print ``rows`` as a table under ``title`` and keep them as JSON in ``out/name.json``."""
    print(f"\n== {title} ==")
    print(format_table(rows, columns))
    (Path(out) / f"{name}.json").write_text(json.dumps(rows, indent=2))
