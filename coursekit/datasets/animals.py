"""The template's ``AnimalsDatasetManager``: a folder-per-class image set, loaded, scaled and split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from coursekit.datasets.images import ImageReadError, read_image_rgb, warn_skipped
from coursekit.datasets.parallel import ordered_map


def create_label_folder_dict(adir) -> dict:
    """``{class name: absolute folder}`` for every sub-folder of ``adir`` (the notebook's cell [4])."""
    adir = Path(adir)
    if not adir.is_dir():
        raise FileNotFoundError(
            f"data folder not found: {adir.resolve()}. Put one sub-folder of images per class there "
            f"(e.g. {adir}/cats/*.jpg); see datasets/README.md.")
    return {p.name: str(p.resolve()) for p in sorted(adir.iterdir()) if p.is_dir() and not p.name.startswith(".")}


class AnimalsDatasetManager:
    """Load a folder-per-class image set, scale it to ``value_range`` and split it.

    ``preprocessors`` are applied in order to every RGB ``uint8`` image as it is read
    (e.g. ``[SimplePreprocessor(32, 32)]``). ``random_state`` seeds ``next_batch``.
    After ``load``, ``process_data_label`` and ``train_valid_test_split`` the
    attributes ``X_train, y_train, X_valid, y_valid, X_test, y_test`` (float64
    images in ``value_range``, as the template's, and int labels) and ``classes`` are set.

    Float64 as in the template, so that tutorial-style code adding float64 noise
    (``tf.random.uniform(..., dtype=tf.float64)``) to ``X_test`` runs; the training, prediction and
    attack paths convert to float32 once per call (``bench/RESULTS.md`` measures the cost).
    ``dtype=np.float32`` halves the memory where that matters more.
    """

    #: The range pixel values are scaled to; attacks and plots read it instead of guessing.
    value_range = (-1.0, 1.0)

    def __init__(self, preprocessors=None, random_state=6789, *, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type such as np.float64 or np.float32, got {self.dtype}")
        self.preprocessors = list(preprocessors) if preprocessors is not None else []
        self.random_state = random_state
        self._rng = np.random.default_rng(random_state)
        self._batch_order = None
        self._batch_pos = 0
        self.data = None
        self.labels = None
        self.classes = None
        self.skipped = []

    # ----------------------------------------------------------------- loading
    def load(self, label_folder_dict, max_num_images=500, verbose=-1, workers=None):
        """Read at most ``max_num_images`` images per class from ``{label: folder}``.

        Files are read in sorted order so loads repeat exactly. Files that are not
        readable images are skipped and listed in one warning (and in ``self.skipped``).
        With ``verbose > 0`` it prints ``<label> <number of files>`` per class and
        ``Processed i/N`` every ``verbose`` images.

        ``workers`` threads decode and preprocess files side by side (default: one per core
        plus one; ``workers=1`` reads one file at a time). The result is the same either way:
        images are kept in file order, so preprocessors must not depend on call order
        (``SimplePreprocessor`` does not).
        """
        if not label_folder_dict:
            raise ValueError("label_folder_dict is empty: give {class name: folder of images}, "
                             "e.g. create_label_folder_dict('./datasets/Animals').")
        if int(max_num_images) < 1:
            raise ValueError(f"max_num_images must be at least 1, got {max_num_images!r}")
        data, labels, skipped, cut = [], [], [], []
        for label in sorted(label_folder_dict):
            folder = Path(label_folder_dict[label])
            if not folder.is_dir():
                raise FileNotFoundError(f"folder for class '{label}' not found: {folder}. "
                                        "Check the path or remove the class from label_folder_dict.")
            files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
            total = min(len(files), int(max_num_images))
            if len(files) > total:
                cut.append(f"{label} {total} of {len(files)}")
            if verbose > 0:
                print(label, len(files))
            count = 0
            results = ordered_map(self._read_one, files, workers=workers)
            try:
                for path, image, why in results:
                    if image is None:
                        skipped.append((str(path), why))
                        continue
                    data.append(image)
                    labels.append(label)
                    count += 1
                    if verbose > 0 and count % verbose == 0:
                        print(f"Processed {count}/{total}")
                    if count >= total:
                        break
            finally:
                results.close()  # stops the reads ahead of a full class
            if count == 0:
                raise ValueError(f"class '{label}' has no readable images in {folder} "
                                 f"({len(files)} files, none decodable); add images or drop the class.")
        self.skipped = skipped
        warn_skipped(skipped)
        if cut:  # the template's default (500) cuts larger sets without a word; say so
            print(f"read at most max_num_images={int(max_num_images)} files per class: {', '.join(cut)} "
                  "(raise max_num_images, or --max-images on the animals task, to read them all)")
        shapes = {im.shape for im in data}
        if len(shapes) > 1:
            raise ValueError(f"images have different shapes {sorted(shapes)[:4]}...; add a preprocessor such as "
                             "SimplePreprocessor(32, 32) so every image has the same size.")
        self.data = np.stack(data)
        self.labels = np.asarray(labels)
        return self

    def _read_one(self, path):
        """``(path, preprocessed image, None)``, or ``(path, None, reason)`` for an unreadable file."""
        try:
            image = read_image_rgb(path)
        except ImageReadError as exc:
            return path, None, str(exc.__cause__ or exc)
        for p in self.preprocessors:
            image = p.preprocess(image)
        return path, image, None

    # ------------------------------------------------------ scaling and labels
    def process_data_label(self):
        """Scale pixels to ``value_range`` (``self.dtype``, float64 by default) and encode labels in sorted
        class-name order."""
        if self.data is None:
            raise RuntimeError("no data: call load(label_folder_dict) before process_data_label().")
        if self.data.dtype == np.uint8:
            lo, hi = self.value_range
            self.data = ((self.data.astype(self.dtype) / 255.0) * (hi - lo) + lo).astype(self.dtype, copy=False)
        self.classes = np.array(sorted(set(self.labels.tolist())))
        if self.labels.dtype.kind in "US":  # names -> ids; idempotent on a second call
            self.labels = np.searchsorted(self.classes, self.labels).astype(np.int64)
        return self

    # ------------------------------------------------------------------ splits
    def train_valid_test_split(self, train_size=0.8, test_size=0.1, rand_seed=33):
        """Stratified, repeatable split into train / validation / test (the rest is validation)."""
        if self.data is None or self.labels.dtype.kind in "US":
            raise RuntimeError("call load(...) and process_data_label() before train_valid_test_split().")
        if not (0 < train_size < 1 and 0 < test_size < 1 and train_size + test_size < 1):
            raise ValueError(f"need 0 < train_size, test_size and train_size + test_size < 1; "
                             f"got train_size={train_size}, test_size={test_size}")
        n = len(self.labels)
        n_train, n_test = int(round(train_size * n)), int(round(test_size * n))
        if min(n_train, n_test, n - n_train - n_test) < len(self.classes):
            raise ValueError(f"{n} images are too few to split {train_size}/{1 - train_size - test_size:.2f}/"
                             f"{test_size} with every one of {len(self.classes)} classes in each part")
        idx = np.arange(n)
        train_idx, rest_idx = train_test_split(idx, train_size=n_train, random_state=rand_seed,
                                               stratify=self.labels)
        valid_idx, test_idx = train_test_split(rest_idx, test_size=n_test, random_state=rand_seed,
                                               stratify=self.labels[rest_idx])
        self.X_train, self.y_train = self.data[train_idx], self.labels[train_idx]
        self.X_valid, self.y_valid = self.data[valid_idx], self.labels[valid_idx]
        self.X_test, self.y_test = self.data[test_idx], self.labels[test_idx]
        self._batch_order = None
        return self

    def next_batch(self, batch_size):
        """The next ``batch_size`` training examples; reshuffles after each pass through the data."""
        if not hasattr(self, "X_train"):
            raise RuntimeError("call train_valid_test_split() before next_batch().")
        n = len(self.y_train)
        if not 1 <= int(batch_size) <= n:
            raise ValueError(f"batch_size must be between 1 and {n} (the training set size), got {batch_size}")
        if self._batch_order is None or self._batch_pos + batch_size > n:
            self._batch_order = self._rng.permutation(n)
            self._batch_pos = 0
        sel = self._batch_order[self._batch_pos:self._batch_pos + batch_size]
        self._batch_pos += batch_size
        return self.X_train[sel], self.y_train[sel]
