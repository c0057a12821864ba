"""Training: ``TrainConfig`` (``config``), ``fit_classifier`` (``fit``), the custom train step (``trainer``),
its variants (``augmentation``, ``mixup``, ``sam``), losses, optimizers, input pipelines, resume, divergence,
distribution strategies, the grid search (``tuning``) and the run-wide XLA/TensorBoard settings (``runtime``)."""
