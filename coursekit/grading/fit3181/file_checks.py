"""The FIT3181 checks on handed-in files, judged in the grader alone: ``saved_models`` (every ``.h5`` safe to load;
the student's own ``load`` run only on those that passed), ``robust_model`` (the adversarially trained file beats a
standard one under the kit's PGD) and ``notebook`` (every code cell was run)."""
from __future__ import annotations

import json

import numpy as np

from coursekit.grading.checks import NotApplicable, verdict
from coursekit.grading.fit3181.common import EPS, STEP_SIZE, STEPS, _float32, _graph

def _saved(folder):
    """The handed-in ``.h5`` files (links are not followed: a link could name any file on the grader's disk)."""
    files = sorted((folder / "saved_models").glob("*.h5")) + sorted((folder / "models").glob("*.h5"))
    return [p for p in files if p.is_file() and not p.is_symlink()]


def _load_safely(path, kit=None):
    """Load in safe mode after the stored config passed the project's checks (no Lambda, nothing unknown). With
    ``kit``, a file is checked and loaded once: the screening's verdict stands (a refusal is raised again as it
    was) and the loaded network is kept for the next check that reads it."""
    from coursekit.nets.model_files import UnsafeModelFile
    from coursekit.nets.saving import load_h5

    screened = getattr(kit, "screened", None) or {}
    loaded = getattr(kit, "loaded", None)
    if loaded is not None and path in loaded:
        return loaded[path]
    if path in screened and screened[path] is not None:
        kind, why = screened[path]
        raise (UnsafeModelFile if kind == UnsafeModelFile.__name__ else ValueError)(why)
    model = load_h5(path, safe_mode=True, config_checked=path in screened)
    if loaded is not None:
        loaded[path] = model
    return model


def screen_saved_models(kit):
    """The handed-in ``.h5`` files that pass the safety check: the only ones the student's own ``load`` is run on.
    Returns ``{path: None or (the refusal's type name, its message)}``, kept as ``kit.screened`` (the judges read it: each file is checked
    once)."""
    from coursekit.nets.model_files import check_model_file

    screened = {}
    for path in _saved(kit.submission):
        try:
            check_model_file(path)
            screened[path] = None
        except Exception as exc:  # noqa: BLE001 (a refusal or an unreadable file: reported by the judge)
            screened[path] = (type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else "unreadable")
    kit.safe_files = [p for p, why in screened.items() if why is None]
    kit.screened, kit.loaded = screened, {}
    return screened


def collect_saved_models(ctx):
    default = getattr(ctx.module, "DefaultModel", None)
    if not callable(getattr(default, "load", None)) or not ctx.safe_files:
        return {"loaded": []}
    x, _ = ctx.eval_set()
    out = {"loaded": []}
    for i, relative in enumerate(ctx.safe_files):
        net = default(num_classes=ctx.num_classes)
        loaded = net.load(str(ctx.submission / relative))
        model = loaded if hasattr(loaded, "predict") else net.model
        out[f"scores_{i}"] = _float32(_graph(model, x.shape[1:]).predict(x[:8], verbose=0))
        out["loaded"].append(relative)
    return out


def judge_saved_models(replies, kit):
    """Every ``.h5`` loads in safe mode (a ``Lambda`` layer is refused, never run) and predicts class scores; where
    the student's ``DefaultModel`` has its own ``load``, the network it loads predicts as the file does."""
    files = _saved(kit.submission)
    if not files:
        raise NotApplicable("no saved_models/*.h5 handed in")
    try:
        reply = replies("saved_models")
        theirs = dict(zip(reply.strings("loaded"), range(len(kit.safe_files))))
    except ValueError:
        reply, theirs = None, {}
    x = kit.eval_x[:8]
    results = []
    for path in files:
        relative = str(path.relative_to(kit.submission))
        try:
            model = _load_safely(path, kit)
            out = _float32(model.predict(x, verbose=0))
            ok = out.shape == (len(x), kit.num_classes) and bool(np.isfinite(out).all())
            message = f"{path.name}: loads, predicts shape {out.shape}"
            if relative in theirs:
                got = reply.array(f"scores_{theirs[relative]}")
                same = got.shape == out.shape and bool(np.allclose(got, out, atol=1e-5))
                ok = ok and same
                message += ("; your DefaultModel.load predicts the same" if same else
                            "; your DefaultModel.load gives a network that predicts differently from the file")
            results.append((ok, message))
        except Exception as exc:  # noqa: BLE001 (reported, with paths relative to the submission)
            why = str(exc).replace(f"{kit.submission}/", "").splitlines()[0][:200]
            results.append((False, f"{path.name}: {type(exc).__name__}: {why}"))
    return verdict(results)


def judge_robust_model(replies, kit):
    """The adversarially trained ``.h5`` (name with 'robust' or 'adv') beats a standard one under the kit's PGD."""
    from coursekit.attacks import pgd

    files = _saved(kit.submission)
    robust = [p for p in files if "robust" in p.name.lower() or "adv" in p.name.lower()]
    plain = [p for p in files if p not in robust]
    if not robust or not plain:
        raise NotApplicable("want an adversarially trained .h5 (name with 'robust' or 'adv') and a standard one")
    x, y = kit.eval_x, kit.eval_y
    scores = {}
    for path in (robust[0], plain[0]):
        model = _load_safely(path, kit)
        scores[path.name] = kit.accuracy(pgd(model, x, y, EPS, STEPS, STEP_SIZE, value_range=kit.value_range), model)
    r, p = scores[robust[0].name], scores[plain[0].name]
    return float(r > p), (f"robust accuracy under the kit's PGD on the grader's images: {robust[0].name} {r:.3f}, "
                          f"{plain[0].name} {p:.3f} (want the first higher)")


def judge_notebook(replies, kit):
    """The notebook was saved with every code cell run (the course requires it)."""
    notebooks = [p for p in sorted(kit.submission.glob("*.ipynb")) if p.is_file() and not p.is_symlink()]
    if not notebooks:
        raise NotApplicable("no notebook handed in")
    cells = [c for c in json.loads(notebooks[0].read_text()).get("cells", [])
             if c.get("cell_type") == "code" and "".join(c.get("source", [])).strip()]
    run = sum(c.get("execution_count") is not None for c in cells)
    return (run / len(cells) if cells else 0.0), f"{notebooks[0].name}: {run} of {len(cells)} code cells were run"
