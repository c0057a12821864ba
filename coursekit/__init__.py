"""coursekit: the shared machinery behind ``models.py`` and the ``assignment`` tasks.

Packages, one concern each: ``datasets`` (loaders, images, splits), ``nets`` (architectures, the adapter for
students' networks, predictions, saving), ``training`` (``TrainConfig``, ``fit_classifier``, the train step and
its variants), ``attacks`` (FGSM/PGD/MIM, robustness), ``report`` (plots, tables), ``exercises`` (the
assignments' own hand-written functions) and ``grading`` (the instructors' kit); a few utilities sit at the
top (``keras_compat``: the only use of private Keras names). ``models.py`` re-exports what students use.
"""
import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) buries the output students
# need to read; keep warnings and errors only, unless the user chose otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from coursekit.cpu_kernels import prefer_onednn  # noqa: E402

prefer_onednn()  # before TensorFlow loads: its faster CPU kernels, which it leaves off on AVX2 CPUs

__version__ = "0.1.0"
