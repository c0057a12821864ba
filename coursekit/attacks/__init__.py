"""Adversarial attacks: one function per attack, sharing the loops in ``core`` and checks in ``utils``;
``robustness`` measures a model against them."""
from coursekit.attacks.fgsm import fgsm
from coursekit.attacks.mim import mim
from coursekit.attacks.pgd import pgd

ATTACKS = {"fgsm": fgsm, "pgd": pgd, "mim": mim}

__all__ = ["fgsm", "pgd", "mim", "ATTACKS"]
