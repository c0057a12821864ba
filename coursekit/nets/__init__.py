"""Networks: the architectures, the small nets of the ported tasks, the adapter for students' networks
(``network``, ``student_models``), the classifier wrappers (``classifier``, ``dnn``, ``tabular``), saving and FLOP counts."""
