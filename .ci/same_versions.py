"""Exit 1 if any package pinned in a stack file (``name==version``) is installed at another version.

``python .ci/same_versions.py .ci/stacks/colab-2025-07.txt``: run after installing the project on top of a
stack, it proves the install replaced none of the stack's packages (TensorFlow, Keras, NumPy, ...).
"""
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def pins(path):
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, wanted = line.split("==")
            yield name.strip(), wanted.strip()


def main(path):
    moved = []
    for name, wanted in pins(path):
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "missing"
        if found != wanted:
            moved.append(f"{name}: {wanted} -> {found}")
    if moved:
        print(f"{path}: installing the project changed the stack:\n  " + "\n  ".join(moved))
        return 1
    print(f"{path}: all {len(list(pins(path)))} preinstalled versions unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
