"""Evaluate a saved ``.h5`` model against FGSM, PGD and MIM in a process of its own.

``python -m assignment.robust_eval MODEL.h5 SPLIT.npz`` (the npz holds ``X``, ``y`` and
``value_range``). Loading in a fresh process proves the file alone carries the model.
"""
import argparse
import json
import sys

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m assignment.robust_eval", description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("split")
    p.add_argument("--eps", type=float, default=0.0313)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--step-size", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the accuracies here")
    args = p.parse_args(argv)
    import coursekit  # noqa: F401
    from coursekit.attacks.robustness import robustness_report
    from coursekit.nets.saving import load_h5

    model = load_h5(args.model)
    with np.load(args.split) as data:
        X, y, value_range = data["X"], data["y"], tuple(float(v) for v in data["value_range"])
    print(f"loaded {args.model}; {len(y)} test images")
    result = robustness_report(model, X, y, eps=args.eps, steps=args.steps, step_size=args.step_size,
                               value_range=value_range, seed=args.seed)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
