"""The instructors' grading kit: run a class's submissions through named, scored checks, each submission in its
own sandboxed subprocess (``sandbox``), and write Gradescope ``results.json``, ``report.md`` and ``grades.csv``
(``reports``). ``python -m assignment grade`` is the command; ``fit3181`` holds the FIT3181 Part 3 checks and
``rubric`` their weights."""
