"""The FIT3181 A1 Part 3 checks, each in two halves (``checks.Check``).

``collect_<check>(ctx)`` runs in the submission's isolated process on the student's imported ``models.py`` and
hands back plain values: arrays, saved weights, numbers, names. ``judge_<check>(replies, kit)`` runs in the
grader's process on the validated reply (``replies.Reply``) and on the ``Kit``: the grader's images, its own
split and labels, its trained model and its own FGSM/PGD/MIM, none of which the student's code can change. Every
score is computed there. ``robust_model``, ``notebook`` and the safety half of ``saved_models`` read the handed-in
files in the grader only (model files in safe mode, after ``model_files.check_model_file``).

Student code is handled as ``coursekit.nets.student_models`` handles it: a Keras-2 ``Sequential`` without an
input, softmax or logits outputs, a subclassed model.
"""
from __future__ import annotations

from coursekit.grading.checks import Check, NotApplicable  # noqa: F401 (re-exported)
from coursekit.grading.fit3181.attack_checks import (_collect_attack, _judge_attack, call_attack,  # noqa: F401
                                                     discover_attacks, judge_pgd_strength)
from coursekit.grading.fit3181.common import EPS, EVAL_IMAGES, STEP_SIZE, STEPS, _decodes, kit_data_manager  # noqa: F401
from coursekit.grading.fit3181.context import Context, code_sources  # noqa: F401
from coursekit.grading.fit3181.file_checks import (_load_safely, collect_saved_models, judge_notebook,  # noqa: F401
                                                   judge_robust_model, judge_saved_models, screen_saved_models)
from coursekit.grading.fit3181.kit import Kit  # noqa: F401
from coursekit.grading.fit3181.model_checks import (_has_add, collect_data_manager, collect_default_model,  # noqa: F401
                                                    collect_fit, collect_import, collect_your_model,
                                                    judge_data_manager, judge_default_model, judge_fit, judge_import,
                                                    judge_your_model)

CHECKS = [(name, Check(name, collect, judge)) for name, collect, judge in [
    ("import", collect_import, judge_import),
    ("data_manager", collect_data_manager, judge_data_manager),
    ("default_model", collect_default_model, judge_default_model),
    ("your_model", collect_your_model, judge_your_model),
    ("fit", collect_fit, judge_fit),
    ("attack_fgsm", _collect_attack("fgsm"), _judge_attack("fgsm")),
    ("attack_pgd", _collect_attack("pgd"), _judge_attack("pgd")),
    ("attack_mim", _collect_attack("mim"), _judge_attack("mim")),
    ("pgd_strength", None, judge_pgd_strength),
    ("saved_models", collect_saved_models, judge_saved_models),
    ("robust_model", None, judge_robust_model),
    ("notebook", None, judge_notebook),
]]
