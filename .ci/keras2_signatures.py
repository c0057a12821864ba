"""Read the constructor signature of every public ``tf.keras.layers`` class of a Keras 2 wheel, from its source.

Keras 2 cannot be imported beside Keras 3 (and needs its own TensorFlow), so the wheel is read with ``ast``: the
API file ``keras/api/_v2/keras/layers/__init__.py`` maps public names to classes, and each class's ``__init__``
(or its nearest base class's, within the wheel) gives the parameters in order with their defaults.

    for v in 2.9.0 2.10.0 2.11.0; do pip download keras==$v --no-deps -d /tmp/k2 && unzip -qo /tmp/k2/keras-$v-*.whl -d /tmp/k2/$v; done
    python .ci/keras2_signatures.py /tmp/k2/2.9.0 /tmp/k2/2.10.0 /tmp/k2/2.11.0 > coursekit/keras2_layers.json

The JSON it writes (one entry per wheel, named by its version) is what ``coursekit.keras2_layers`` translates
Keras 2 constructor calls by, and what ``tests/test_keras2_layers.py`` compares with the installed Keras 3.
"""
import ast
import json
import sys
from pathlib import Path

REQUIRED = "<required>"


def _module_path(root, dotted):
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"


def _imports(tree):
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def _default(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def _parameters(func):
    args = func.args
    positional = args.posonlyargs + args.args
    defaults = [REQUIRED] * (len(positional) - len(args.defaults)) + [_default(d) for d in args.defaults]
    params = [{"name": a.arg, "default": d, "keyword_only": False} for a, d in zip(positional, defaults)][1:]
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        params.append({"name": a.arg, "default": REQUIRED if d is None else _default(d), "keyword_only": True})
    return params


def _super_call(init):
    """The keyword names and the number of positional arguments ``init`` hands to ``super().__init__``."""
    for node in ast.walk(init):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"
                and isinstance(node.func.value, ast.Call)):
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            return {k.arg for k in node.keywords if k.arg}, len(positional)
    return set(), 0


def class_signature(root, module, name, depth=0):
    """The parameters of ``module.name.__init__`` (following base classes inside the wheel)."""
    path = _module_path(root, module)
    if not path.is_file() or depth > 8:
        return None
    tree = ast.parse(path.read_text())
    imports = _imports(tree)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            init = next((item for item in node.body
                         if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
            own = _parameters(init) if init is not None else None
            if own is not None and init.args.kwarg is None:
                return own
            # no __init__, or one passing **kwargs on: the base class's parameters are accepted too (by keyword)
            inherited = None
            for base in node.bases:
                base_name = ast.unparse(base).split(".")[-1]
                if base_name == "Layer":
                    break  # Keras' own Layer keywords (name, dtype, trainable, ...) are compared apart
                target = imports.get(base_name, (module, base_name))
                inherited = class_signature(root, *target, depth + 1)
                if inherited is not None:
                    break
            if own is None:
                return inherited or []
            names = {p["name"] for p in own}
            inherited = inherited or []
            passed, n_positional = _super_call(init)
            return own + [{**p, "keyword_only": True} for i, p in enumerate(inherited)
                          if i >= n_positional and p["name"] not in names | passed]
    if name in imports:  # re-exported
        return class_signature(root, *imports[name], depth + 1)
    return None


def public_layers(root):
    api = root / "keras" / "api" / "_v2" / "keras" / "layers" / "__init__.py"
    out = {}
    for public, (module, name) in sorted(_imports(ast.parse(api.read_text())).items()):
        if not module.startswith("keras.") or module.startswith("keras.api"):
            continue
        signature = class_signature(root, module, name)
        if signature is not None and public[:1].isupper():
            out[public] = signature
    return out


def _version(root):
    dist = next(root.glob("keras-*.dist-info"))
    return dist.name[len("keras-"):-len(".dist-info")]


if __name__ == "__main__":
    roots = [Path(arg) for arg in sys.argv[1:]]
    # one layer per line: [name, default or "<required>", keyword-only] for each parameter, in order
    print('{"source": "keras/api/_v2/keras/layers/__init__.py of each keras wheel (tf.keras.layers)",')
    print(' "made_by": ".ci/keras2_signatures.py",')
    print(' "versions": {')
    for i, root in enumerate(roots):
        layers = public_layers(root)
        print(f'  "{_version(root)}": {{')
        print(",\n".join(f"   {json.dumps(name)}: "
                         + json.dumps([[p["name"], p["default"], p["keyword_only"]] for p in params])
                         for name, params in layers.items()))
        print("  }" + ("," if i < len(roots) - 1 else ""))
    print(" }}")
