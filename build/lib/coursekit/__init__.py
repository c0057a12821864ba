"""coursekit: the shared machinery behind ``models.py`` and the ``assignment`` tasks.

One module per concern: image reading, data sets, architectures, training-step
variants (augmentation, mixup, SAM, adversarial training), attacks, plots and
saving. ``models.py`` at the project root re-exports what students use.
"""
import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) buries the output students
# need to read; keep warnings and errors only, unless the user chose otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from coursekit.cpu_kernels import prefer_onednn  # noqa: E402

prefer_onednn()  # before TensorFlow loads: its faster CPU kernels, which it leaves off on AVX2 CPUs

__version__ = "0.1.0"
