"""The definitions a handed-in notebook holds, without its driver cells.

In the 2022 FIT3181 course the students wrote ``YourModel`` and the attacks in the notebook's cells, on top of the
template's ``models.py`` that the notebook imports. The grader takes from the code cells only what defines
something: imports, classes, functions, and names bound to a literal or to a class built from literals (``EPS =
0.03``, ``loss_object = keras.losses.CategoricalCrossentropy()``). Training, plotting, ``!pip``/``%magic`` lines and
every other statement are left out, so a notebook whose training cells take hours is graded in the usual time.

Reading a notebook runs nothing (``ast`` only): this module is used by the grader on untrusted files, and by the
worker, which executes the kept statements one at a time on top of ``models.py`` (``execute``).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SHELL_OR_MAGIC = re.compile(r"^(\s*)(!|%)")


@dataclass
class Statement:
    """One kept top-level statement: its source, the cell it came from (1-based, code cells counted), its kind."""
    source: str
    cell: int
    kind: str
    names: tuple = ()


@dataclass
class NotebookCode:
    """What ``definitions`` kept from a notebook, and what it left out (counts by kind, cells that did not parse)."""
    path: Path
    statements: list = field(default_factory=list)
    left_out: dict = field(default_factory=dict)
    unparsable_cells: list = field(default_factory=list)

    @property
    def defined(self):
        """The names the kept statements define, in order."""
        return [name for s in self.statements for name in s.names]

    def source(self):
        """The kept code as one Python text (cells separated by a comment naming each)."""
        parts = []
        for s in self.statements:
            parts.append(f"# {self.path.name}, code cell {s.cell}\n{s.source}\n")
        return "\n".join(parts)


def code_cells(path):
    """The notebook's code cells' sources, in order; a clear ``ValueError`` for a file that is not a notebook."""
    path = Path(path)
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path.name} is not a readable notebook (.ipynb JSON): {exc}") from exc
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path.name} holds no 'cells' list: it is not a Jupyter notebook (nbformat 4)")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            text = cell.get("source", "")
            sources.append("".join(text) if isinstance(text, list) else str(text))
    return sources


def _without_magics(text):
    """The cell with shell (``!``) and magic (``%``) lines made ``pass`` (the indentation kept); ``None`` for a
    cell magic (``%%time``, ``%%bash``: the whole cell is not Python)."""
    if text.lstrip().startswith("%%"):
        return None
    return "\n".join(_SHELL_OR_MAGIC.sub(r"\1pass  # \2", line) if _SHELL_OR_MAGIC.match(line) else line
                     for line in text.splitlines())


def _literal(node):
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _constructed_from_literals(node):
    """``SomeClass(...)`` (a capitalised, dotted name) whose arguments are all literals: a loss object, an
    optimizer, a layer. A call of anything lower-case (``np.load``, ``model.fit``), or one that reads a variable
    (``DefaultModel(num_classes=data_manager.num_classes)``), is never kept."""
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    if name is None or not name.split(".")[-1][:1].isupper():
        return False
    args = [*node.args, *(k.value for k in node.keywords)]
    return all(_literal(a) for a in args)


def _kept(node):
    """``(kind, names)`` for a statement worth keeping, else ``(kind, None)``."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import", tuple((a.asname or a.name).split(".")[0] for a in node.names)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "function", (node.name,)
    if isinstance(node, ast.ClassDef):
        return "class", (node.name,)
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if all(isinstance(t, ast.Name) for t in targets) and (_literal(node.value)
                                                              or _constructed_from_literals(node.value)):
            return "constant", tuple(t.id for t in targets)
        return "assignment", None
    if isinstance(node, ast.Pass):
        return "shell or magic line", None  # what _without_magics made of them
    return type(node).__name__.lower(), None


def _segment(python, node):
    """The statement's own lines, its decorators included (``ast.get_source_segment`` starts at ``def``)."""
    lines = python.splitlines()
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    rest = lines[node.end_lineno - 1][node.end_col_offset:].strip()
    if node.col_offset or (rest and not rest.startswith("#")):  # a line shared with another statement (';')
        return ast.unparse(node)
    return "\n".join(lines[start - 1:node.end_lineno])


def definitions(path):
    """The ``NotebookCode`` of the notebook at ``path``: its imports, classes, functions and constants."""
    path = Path(path)
    found = NotebookCode(path)
    for number, text in enumerate(code_cells(path), start=1):
        python = _without_magics(text)
        if python is None:
            found.left_out["cell magic"] = found.left_out.get("cell magic", 0) + 1
            continue
        try:
            tree = ast.parse(python)
        except (SyntaxError, ValueError):
            found.unparsable_cells.append(number)
            continue
        for node in tree.body:
            kind, names = _kept(node)
            if names is None:
                found.left_out[kind] = found.left_out.get(kind, 0) + 1
                continue
            found.statements.append(Statement(_segment(python, node), number, kind, names))
    return found


def pick_notebook(folder):
    """The handed-in notebook to take definitions from: of the ``.ipynb`` files in ``folder`` (not in a checkpoint
    folder, not a link), the one defining the most classes and functions; ``None`` when there is none."""
    best, best_count = None, -1
    for path in sorted(Path(folder).rglob("*.ipynb"), key=lambda p: (len(p.parts), str(p))):
        if ".ipynb_checkpoints" in path.parts or path.is_symlink() or not path.is_file():
            continue
        try:
            count = sum(s.kind in ("class", "function") for s in definitions(path).statements)
        except ValueError:
            count = 0
        if count > best_count:
            best, best_count = path, count
    return best


def execute(code, namespace, label):
    """Run the kept statements one at a time in ``namespace`` (the imported ``models`` module's), each compiled
    under ``label`` (e.g. ``A1.ipynb``) so that a function's ``__code__.co_filename`` says where it came from.
    A statement that fails (an import of ``google.colab``, a class whose base is missing) is reported, not fatal:
    the checks that need what it defined fail with their own messages. Returns ``[(cell, what, error)]``."""
    failed = []
    for s in code.statements:
        try:
            exec(compile(s.source, label, "exec"), namespace)  # noqa: S102 (the student's code, in their process)
        except Exception as exc:  # noqa: BLE001 (reported per statement)
            failed.append((s.cell, ", ".join(s.names), f"{type(exc).__name__}: {str(exc)[:200]}"))
    return failed
