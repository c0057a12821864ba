"""The grading kit. Instructors: ``python -m assignment grade`` runs a class's submissions through named, scored
checks, each submission's code isolated (``isolation``, ``sandbox``) and every score computed by the grader
(``checks``: a ``collect`` half on the student's code, a ``judge`` half on its validated ``replies``), and writes
Gradescope ``results.json``, ``report.md`` and ``grades.csv`` (``reports``). Students: ``check(models)`` runs the
same checks on their own module (``selfcheck``). ``fit3181`` and ``others`` hold the checks, ``rubric`` the weights."""
from coursekit.grading.selfcheck import check  # noqa: F401
