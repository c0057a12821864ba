"""Data: the loaders (Animals folders, the embedded digits, MNIST and Fashion-MNIST idx files, CIFAR-10, Imagenette,
MAGIC), image reading and resizing (``images``, ``preprocessing``, ``parallel``), ``Splits`` and label formats."""
