"""FIT3181 A1 Part 1: activations (Q1.1) and a forward/backward/SGD pass by hand (Q1.3).

The network is 3 (input) -> 4 (LeakyReLU, slope 0.01) -> 3 (softmax), its parameters drawn
with ``np.random.seed(student_id)`` exactly as the notebook does. Labels are given 1-based
as in the question (``y = 3`` is the third class).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from assignment.common import add_common_arguments, out_dir, write_metrics

HELP = "FIT3181 A1 Part 1: LeakyReLU/Softplus and their derivatives; forward, backward and SGD by hand"

STEPS = [
    ("Forward propagation", [
        ("h1_bar", "(a) h̄¹ = W¹ x + b¹"),
        ("h1", "(b) h¹ = LeakyReLU(h̄¹) = max(h̄¹, 0.01 h̄¹)"),
        ("logits", "    h² = W² h¹ + b²  (logits)"),
        ("probs", "(c) ŷ = p = softmax(h²),  p_k = exp(h²_k) / Σ_j exp(h²_j)"),
        ("loss", "(d) l = CE(1_y, p) = -log p_y"),
        ("loss_smoothed", "    l_α = -Σ_k [(1-α) 1_y + α/K]_k log p_k  (label smoothing)"),
    ]),
    ("Backward propagation", [
        ("dl_dh2", "(e) ∂l/∂h² = p - 1_y"),
        ("dl_dW2", "    ∂l/∂W² = (∂l/∂h²) (h¹)ᵀ"),
        ("dl_db2", "    ∂l/∂b² = ∂l/∂h²"),
        ("dl_dh1", "(f) ∂l/∂h¹ = (W²)ᵀ ∂l/∂h²"),
        ("dl_dh1_bar", "    ∂l/∂h̄¹ = ∂l/∂h¹ ⊙ LeakyReLU'(h̄¹),  LeakyReLU'(z) = 1 if z >= 0 else 0.01"),
        ("dl_dW1", "    ∂l/∂W¹ = (∂l/∂h̄¹) xᵀ"),
        ("dl_db1", "    ∂l/∂b¹ = ∂l/∂h̄¹"),
    ]),
    ("SGD update", [
        ("W2_new", "(g) W² ← W² - η ∂l/∂W²"),
        ("b2_new", "    b² ← b² - η ∂l/∂b²"),
        ("W1_new", "    W¹ ← W¹ - η ∂l/∂W¹"),
        ("b1_new", "    b¹ ← b¹ - η ∂l/∂b¹"),
    ]),
]


def add_arguments(p):
    p.add_argument("--student-id", "--seed", dest="student_id", type=int, default=1234,
                   help="your student id: seeds the parameters, as np.random.seed(id) (default 1234)")
    p.add_argument("--x", type=float, nargs=3, default=[1.0, -1.0, 1.5], help="input vector (default 1 -1 1.5)")
    p.add_argument("--label", type=int, default=3, help="1-based ground-truth class (default 3)")
    p.add_argument("--alpha", type=float, default=0.1, help="label-smoothing alpha (default 0.1)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate eta (default 0.01)")
    add_common_arguments(p, out="outputs/numerics", seed=None)


def run(args):
    from coursekit.exercises.numerics import forward_backward, plot_activation, student_parameters

    if not 1 <= args.label <= 3:
        raise SystemExit(f"--label must be 1, 2 or 3 (1-based, as in the question), got {args.label}")
    out = out_dir(args.out)
    print("Q1.1 activation functions")
    print("  LeakyReLU(x) = x if x >= 0 else 0.01 x;  range (-inf, inf);  derivative 1 (x >= 0) or 0.01 (x < 0)")
    print("  Softplus(x) = ln(1 + e^x);  range (0, inf);  derivative e^x / (1 + e^x) = sigmoid(x), range (0, 1)")
    for name in ("leaky_relu", "softplus"):
        plot_activation(name, save_path=out / f"{name}.png")
    print(f"  plots: {out}/leaky_relu.png, {out}/softplus.png\n")

    W1, b1, W2, b2 = student_parameters(args.student_id)
    x = np.array(args.x).reshape(3, 1)
    np.set_printoptions(precision=6, suppress=True)
    print(f"Q1.3 network 3 -> 4 (LeakyReLU) -> 3, np.random.seed({args.student_id}); "
          f"x = {args.x}, y = {args.label}, alpha = {args.alpha}, eta = {args.lr}")
    for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        print(f"{name} =\n{value}")
    values = forward_backward(x, args.label - 1, W1, b1, W2, b2, alpha=args.alpha, lr=args.lr)
    for section, items in STEPS:
        print(f"\n--- {section} ---")
        for key, formula in items:
            value = values[key]
            shown = f"{value:.6f}" if np.isscalar(value) else f"\n{np.asarray(value)}"
            print(f"{formula}\n  {key} = {shown}")
    write_metrics(out, {"student_id": args.student_id, "x": args.x, "label": args.label, "alpha": args.alpha,
                        "lr": args.lr, **{key: values[key] for _, items in STEPS for key, _ in items}})
    return 0
