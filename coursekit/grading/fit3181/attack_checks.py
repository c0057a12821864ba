"""The FIT3181 checks on the student's attacks: ``attack_fgsm``, ``attack_pgd``, ``attack_mim`` (the eps-ball, the
data's range, an untouched input and, on the kit's model, strength against the kit's own attack of that kind) and
``pgd_strength``. Attacks are found by name anywhere in the student's module, whatever their parameters are called."""
from __future__ import annotations

import inspect
import math

import numpy as np

from coursekit.grading.checks import verdict
from coursekit.grading.fit3181.common import EPS, STEP_SIZE, STEPS, _float32

ALIASES = {"eps": ("epsilon", "eps"), "steps": ("num_steps", "steps", "k", "num_iter", "iterations", "n_steps",
                                                  "nb_iter", "num_iterations"),
           "step_size": ("step_size", "eta", "alpha", "eps_iter", "step"),
           "decay": ("decay", "decay_factor", "mu", "momentum"),
           "lo": ("clip_value_min", "clip_min", "min_val", "x_min", "lower"),
           "hi": ("clip_value_max", "clip_max", "max_val", "x_max", "upper")}
# how close a student's attack must come to the kit's own (measured on the planted submissions and the 2022
# students' code in tests/grading: correct variants agree on 0.93-1.0 of FGSM's signs and are within 0.03 of the
# kit's robust accuracy; random signs agree on about half and leave the accuracy near the clean one)
FGSM_SIGN_AGREEMENT = 0.8
STRENGTH_MARGIN = 0.15


def discover_attacks(module):
    """``{'fgsm'|'pgd'|'mim': function}``: the module's functions whose names contain those words."""
    found = {}
    for name, obj in sorted(vars(module).items()):
        if not inspect.isfunction(obj) or name.startswith("_"):
            continue
        low = name.lower()
        for kind in ("fgsm", "pgd", "mim"):
            if kind in low and kind not in found:
                found[kind] = obj
    return found


def call_attack(fn, kind, model, x, y, value_range, eps=EPS, steps=STEPS, step_size=STEP_SIZE):
    """Call a student's attack whatever it names its parameters: model, images, labels first; eps, steps, step
    size, decay and clip bounds by their usual names. Integer labels first, one-hot if that fails."""
    params = list(inspect.signature(fn).parameters.values())
    names = {p.name for p in params}
    values = {"eps": eps, "steps": steps, "step_size": step_size, "decay": 1.0, "lo": value_range[0],
              "hi": value_range[1]}
    kwargs = {}
    for key, aliases in ALIASES.items():
        if kind == "fgsm" and key in ("steps", "step_size", "decay"):
            continue
        for alias in aliases:
            if alias in names:
                kwargs[alias] = values[key]
                break
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.name not in kwargs][:3]
    if len(positional) < 3:
        raise TypeError(f"{fn.__name__}{inspect.signature(fn)}: want (model, images, labels, ...)")
    last_error = None
    for labels in (y, np.eye(int(y.max()) + 1 if len(y) else 1, dtype=np.float32)[y]):
        try:
            return _float32(fn(model, x.copy(), labels, **kwargs))
        except Exception as exc:  # noqa: BLE001 (the next label form is tried)
            last_error = exc
    raise last_error


def _collect_attack(kind):
    def collect(ctx):
        fn = ctx.found_attacks.get(kind)
        if fn is None:
            raise LookupError(f"no function with '{kind}' in its name in models.py "
                              f"(found: {sorted(f.__name__ for f in ctx.found_attacks.values()) or 'none'})")
        x, y = ctx.eval_set()
        before = x.copy()
        x_adv = call_attack(fn, kind, ctx.kit_model, x, y, ctx.value_range)
        return {"function": fn.__name__, "x_adv": x_adv, "input_unchanged": bool(np.array_equal(x, before))}
    return collect


def _attack_reply(replies, kind, kit):
    reply = replies(f"attack_{kind}")
    return reply, reply.array("x_adv", kit.eval_x.shape)


def _judge_attack(kind):
    def judge(replies, kit):
        reply, x_adv = _attack_reply(replies, kind, kit)
        x, (lo, hi) = kit.eval_x, kit.value_range
        finite = bool(np.isfinite(x_adv).all())
        dist = float(np.abs(x_adv - x).max()) if finite else math.inf
        results = [(finite, "no NaN or inf" if finite else "NaN or inf in the output"),
                   (dist <= EPS + 1e-5, f"max |x_adv - x| = {dist:.4g} (want <= eps = {EPS})")]
        out_lo, out_hi = (float(x_adv.min()), float(x_adv.max())) if finite else (math.nan, math.nan)
        results.append((out_lo >= lo - 1e-5 and out_hi <= hi + 1e-5,
                        f"values in [{out_lo:.4g}, {out_hi:.4g}] (want inside the data's range [{lo:g}, {hi:g}])"))
        results.append((reply.flag("input_unchanged"), "the input array is left unmodified"))
        results.append((dist > 1e-6 and dist != math.inf, "the attack changed the input"))
        strong = _strength(kind, x_adv, kit) if finite else (False, "no strength measured (NaN or inf)")
        fraction, message = verdict([*results, strong])
        if not strong[0]:  # shape, range and eps-ball are properties noise has too: they count only for an attack
            fraction, message = 0.0, "not an attack, so nothing counts: " + message
        return fraction, f"{reply.text('function', 100)}: " + message
    return judge


def _strength(kind, x_adv, kit):
    """Whether the output is an attack: FGSM's perturbation has the signs of the kit's FGSM (the loss gradient's)
    on most pixels; PGD and MIM leave the kit's model no more accurate than the kit's own attack of that kind, within
    ``STRENGTH_MARGIN``."""
    x = kit.eval_x
    lo, hi = kit.value_range
    clipped = np.clip(x_adv, lo, hi)
    mine, theirs = kit.accuracy(clipped), kit.accuracy(kit.kit_adv[kind])
    if kind == "fgsm":
        kit_delta = np.sign(kit.kit_adv["fgsm"] - x)
        moved = kit_delta != 0
        agree = float(np.mean(np.sign(clipped - x)[moved] == kit_delta[moved])) if moved.any() else 0.0
        return (agree >= FGSM_SIGN_AGREEMENT,
                f"strength: {agree:.2f} of the pixels the kit's FGSM moves go the same way (want >= "
                f"{FGSM_SIGN_AGREEMENT}; random signs give about 0.5); the kit's model {mine:.3f} accurate under "
                f"yours, {theirs:.3f} under the kit's")
    return (mine <= theirs + STRENGTH_MARGIN,
            f"strength: the kit's model is {mine:.3f} accurate under yours, {theirs:.3f} under the kit's "
            f"{kind.upper()} (want yours <= the kit's + {STRENGTH_MARGIN}; clean {kit.accuracy(x):.3f})")


def judge_pgd_strength(replies, kit):
    """On the kit's model: the student's PGD at least about as strong as the kit's PGD and as the student's FGSM."""
    tol = kit.rubric.get("tolerance", 0.1)
    _, pgd_adv = _attack_reply(replies, "pgd", kit)
    lo, hi = kit.value_range
    if not np.isfinite(pgd_adv).all():
        return 0.0, "your PGD's output holds NaN or inf"
    mine = kit.accuracy(np.clip(pgd_adv, lo, hi))
    theirs, clean = kit.accuracy(kit.kit_adv["pgd"]), kit.accuracy(kit.eval_x)
    results = [(mine <= theirs + tol, f"on {len(kit.eval_x)} images the kit's model gets {clean:.3f}; under your PGD "
                                      f"{mine:.3f}, the kit's PGD {theirs:.3f} (want yours <= the kit's + {tol})")]
    if not results[0][0]:  # a PGD weaker than the kit's earns nothing for beating its own FGSM
        return 0.0, "WRONG: " + results[0][1]
    try:
        _, fgsm_adv = _attack_reply(replies, "fgsm", kit)
    except ValueError:
        fgsm_adv = None
    if fgsm_adv is not None and np.isfinite(fgsm_adv).all():
        fg = kit.accuracy(np.clip(fgsm_adv, lo, hi))
        results.append((mine <= fg + tol, f"your FGSM {fg:.3f} (want your PGD <= your FGSM + {tol})"))
    return verdict(results)
