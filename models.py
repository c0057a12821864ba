"""FIT3181 Assignment 1, Part 3: the template's ``models.py``, working on TensorFlow 2 / Keras 3.

Use it exactly as the template notebook does::

    sp = SimplePreprocessor(width=32, height=32)
    data_manager = AnimalsDatasetManager([sp])
    data_manager.load(label_folder_dict, verbose=100)
    data_manager.process_data_label()
    data_manager.train_valid_test_split()

    network1 = DefaultModel(name='network1', num_classes=len(data_manager.classes),
                            optimizer='sgd', batch_size=128, num_epochs=20, learning_rate=0.5)
    network1.build_cnn()
    network1.summary()
    network1.fit(data_manager, batch_size=64, num_epochs=20)
    network1.compute_accuracy(data_manager.X_test, data_manager.y_test)

The machinery (data loading, architectures, training-step variants, attacks, plots,
saving) lives in the ``coursekit`` package; this module keeps the familiar classes and
re-exports the rest.
"""
from __future__ import annotations

import dataclasses

import numpy as np

import coursekit  # noqa: F401  (quiet TensorFlow start-up before keras is imported)
import keras
from coursekit.nets.architectures import (FeatureMaps, check_activation, default_cnn, logits_model,  # noqa: F401
                                     residual_block, residual_cnn)
from coursekit.attacks import fgsm, mim, pgd  # noqa: F401
from coursekit.datasets.animals import AnimalsDatasetManager, create_label_folder_dict  # noqa: F401
from coursekit.datasets.digits import render_digits_folder  # noqa: F401
from coursekit.datasets.labels import class_ids
from coursekit.datasets.preprocessing import SimplePreprocessor  # noqa: F401
from coursekit.defaults import init_with_defaults
from coursekit.keras2_habits import keras2_habits  # noqa: F401
from coursekit.nets.classifier import KerasClassifier, agreement, mirror_averaged, softmax_rows
from coursekit.nets.network import keras_model_of, network_view  # noqa: F401
from coursekit.nets.saving import load_h5, save_h5
from coursekit.nets.student_models import as_functional, output_kind  # noqa: F401
from coursekit.report import plots
from coursekit.report.plots import plot_adversarial, plot_comparison  # noqa: F401
from coursekit.training.augmentation import build_augmenter  # noqa: F401
from coursekit.training.config import TrainConfig  # noqa: F401
from coursekit.training.fit import fit_classifier
from coursekit.training.mixup import mix_batch, sample_mixup  # noqa: F401
from coursekit.training.optimizers import check_optimizer_name, get_optimizer  # noqa: F401
from coursekit.training.runtime import check_jit_compile
from coursekit.training.trainer import AdversarialTraining, ClassifierTrainer  # noqa: F401


class DefaultModel(KerasClassifier):
    """The template's baseline CNN and the train / evaluate / plot / save methods every model shares.

    The positional parameters are the template's, in its order. Keyword-only extras:
    ``patience`` (early stopping on ``monitor``; ``None`` = off, the template's
    behaviour), ``mixup_alpha`` and ``sam_rho`` (0 = off), ``adversarial`` (an
    ``AdversarialTraining`` for PGD adversarial training), ``seed`` and ``strategy`` (a
    ``tf.distribute`` strategy to train under, e.g. ``coursekit.training.distribute.get_strategy('mirrored')``),
    ``backup_dir`` (resume after a disconnect), ``jit_compile`` (XLA: ``'auto'``, Keras' default, turns it
    on when a GPU is present; ``True``/``False``; ``None`` takes ``coursekit.training.runtime``'s run-wide setting),
    ``schedule`` (``'cosine'`` decays the learning rate to 0 over the run), ``weight_decay`` (decoupled, as
    AdamW) and ``label_smoothing``. The training settings are checked (and used by ``fit``) as a
    ``coursekit.training.config.TrainConfig``: see ``train_config()``.
    """

    def __init__(self, name='network1', width=32, height=32, depth=3, num_blocks=2, feature_maps=32,
                 num_classes=4, drop_rate=0.2, batch_norm=None, is_augmentation=False, activation_func='relu',
                 use_skip=True, optimizer='adam', batch_size=10, num_epochs=20, learning_rate=0.0001,
                 verbose=True, *, patience=None, monitor='val_accuracy', mixup_alpha=0.0, sam_rho=0.0,
                 adversarial=None, seed=1234, strategy=None, backup_dir=None, jit_compile=None, schedule='constant',
                 weight_decay=0.0, label_smoothing=0.0):
        for key, value in (("width", width), ("height", height), ("depth", depth), ("num_blocks", num_blocks),
                           ("batch_size", batch_size), ("num_epochs", num_epochs)):
            if int(value) != value or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        if 2 ** num_blocks > min(width, height):
            raise ValueError(f"num_blocks={num_blocks} halves a {width}x{height} image {num_blocks} times "
                             f"(2**{num_blocks} = {2 ** num_blocks} > {min(width, height)}): use at most "
                             f"{int(np.log2(min(width, height)))} blocks or larger images")
        if int(num_classes) != num_classes or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        if not 0 <= drop_rate < 1:
            raise ValueError(f"drop_rate must be in [0, 1) (0 turns dropout off), got {drop_rate!r}")
        check_activation(activation_func)
        check_optimizer_name(optimizer)  # before it is stored: an unknown object is named, not half-used
        self.name = name
        self.width, self.height, self.depth = width, height, depth
        self.num_blocks = num_blocks
        self.feature_maps = feature_maps  # read back as the template's per-block list (see the property)
        self.num_classes = num_classes
        self.drop_rate = drop_rate
        self.batch_norm = batch_norm
        self.is_augmentation = is_augmentation
        self.activation_func = activation_func
        self.use_skip = use_skip
        self.optimizer_name = optimizer.lower() if isinstance(optimizer, str) else type(optimizer).__name__.lower()
        self._optimizer = None if isinstance(optimizer, str) else optimizer  # an instance given or assigned
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.learning_rate = learning_rate
        self.verbose = verbose
        self.patience = patience
        self.monitor = monitor
        self.mixup_alpha = mixup_alpha
        self.sam_rho = sam_rho
        self.adversarial = adversarial
        self.seed = seed
        self.strategy = strategy
        self.backup_dir = backup_dir
        self.jit_compile = None if jit_compile is None else check_jit_compile(jit_compile)
        self.schedule, self.weight_decay, self.label_smoothing = schedule, weight_decay, label_smoothing
        self.value_range = AnimalsDatasetManager.value_range
        self.output_kind = None  # 'probabilities' or 'logits' when a custom network's last layer cannot tell
        self.model = keras.Sequential(name=name)  # as the template: build_cnn() may fill it with add()
        self.history = None
        self.train_config()  # the training settings are checked now, not at the first fit

    # ---------------------------------------------------------- feature maps
    @property
    def feature_maps(self):
        """The template's per-block widths, ``[f, 2f, 4f, ...]`` for ``num_blocks`` blocks.

        ``self.feature_maps[0]`` and ``self.feature_maps[i]`` are the widths of the first and the
        i-th block, as the template's notebook says; it is also the int ``f`` itself, so
        ``self.feature_maps * 2`` and ``Conv2D(self.feature_maps, 3)`` work as well. Assign an int
        (the first block's width) or a list of widths, one per block.
        """
        return FeatureMaps.per_block(self._feature_maps, self.num_blocks)

    @feature_maps.setter
    def feature_maps(self, value):
        try:
            FeatureMaps.per_block(value, 1)
            ok = all(int(w) == w for w in (value if isinstance(value, (list, tuple, np.ndarray)) else [value]))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"feature_maps must be a positive integer (the first block's width) or a list of "
                             f"positive integers, one per block; got {value!r}")
        self._feature_maps = value

    # ------------------------------------------------------------- optimizer
    @property
    def optimizer(self):
        """A Keras optimizer of the chosen kind with ``learning_rate``, as the template's ``self.optimizer``.

        Each read gives a fresh one (a Keras 3 optimizer binds to the variables of the first model it
        trains), so ``self.model.compile(optimizer=self.optimizer, ...)`` trains at the rate asked for.
        The name stays in ``self.optimizer_name``. An optimizer assigned here is used as it is.
        """
        if self._optimizer is not None:
            return self._optimizer
        return get_optimizer(self.optimizer_name, self.learning_rate)

    @optimizer.setter
    def optimizer(self, value):
        if isinstance(value, str):
            check_optimizer_name(value)
            self.optimizer_name, self._optimizer = value.lower(), None
        else:
            self._optimizer = value

    def _training_optimizer(self):
        """The optimizer ``fit`` trains with: a fresh copy of an assigned instance, or the named kind."""
        if self._optimizer is None:
            return self.optimizer_name
        return type(self._optimizer).from_config(self._optimizer.get_config())

    # ------------------------------------------------------------ architecture
    def build_cnn(self):
        """Build the template's default network into ``self.model`` (106,538 parameters at 32x32x3, 10 classes)."""
        import keras
        keras.utils.set_random_seed(self.seed)
        self.model = default_cnn(self.width, self.height, self.depth, self.num_classes, self.activation_func,
                                 name=self.name)
        return self.model

    def summary(self):
        """Print the network's layers and parameter counts."""
        self._require_model().summary()

    @property
    def logits_model(self):
        """The network up to its class scores (before the softmax), sharing its weights."""
        self._require_model()
        return network_view(self, (self.height, self.width, self.depth)).logits

    # ---------------------------------------------------------------- training
    def fit(self, data_manager, batch_size=None, num_epochs=None, *, callbacks=()):
        """Train on ``data_manager``'s training split, validating on its validation split.

        Augmentation, mixup, SAM, adversarial training and early stopping apply as
        configured; ``callbacks`` are extra Keras callbacks. The Keras ``History`` is kept
        in ``self.history``.
        """
        if not self._has_network():
            self.build_cnn()
        view = self._view(data_manager.X_train)
        net = view.graph
        self._check_data(data_manager, net)
        self.value_range = tuple(getattr(data_manager, "value_range", None) or self.value_range)
        config = self.train_config(batch_size, num_epochs).replace(output_kind=view.kind)
        if self.verbose:
            print(f"Train on {len(data_manager.y_train)} samples, validate on {len(data_manager.y_valid)} samples")
        self.history = fit_classifier(net, (data_manager.X_train, data_manager.y_train),
                                      (data_manager.X_valid, data_manager.y_valid), config, callbacks=callbacks,
                                      strategy=self.strategy, backup_dir=self.backup_dir)
        return self.history

    def train_config(self, batch_size=None, num_epochs=None):
        """The ``TrainConfig`` ``fit`` trains with, from this model's attributes (``batch_size``/``num_epochs``
        override its own, as ``fit``'s arguments do). Raises ``ValueError`` naming any bad setting."""
        adversarial = self.adversarial
        if adversarial is not None:  # PGD must clip to the range the data really has
            adversarial = dataclasses.replace(adversarial, value_range=self.value_range)
        return TrainConfig(
            num_classes=self.num_classes, batch_size=batch_size or self.batch_size,
            epochs=num_epochs or self.num_epochs, optimizer=self._training_optimizer(),
            learning_rate=self.learning_rate, schedule=self.schedule, weight_decay=self.weight_decay,
            label_smoothing=self.label_smoothing, augment=self.is_augmentation, value_range=self.value_range,
            mixup_alpha=self.mixup_alpha, sam_rho=self.sam_rho, adversarial=adversarial, patience=self.patience,
            monitor=self.monitor, seed=self.seed, verbose=self.verbose, output_kind=self.output_kind,
            jit_compile=self.jit_compile)

    def _view(self, X):
        """``self.model`` as the library uses it (graph, output kind, logits; see ``coursekit.nets.network``), worked
        out once per network from a few of the inputs ``X``; ``self.output_kind`` states the kind."""
        self._require_model()
        return network_view(self, np.shape(X)[1:], np.asarray(X[:32], np.float32))

    # -------------------------------------------------------------- evaluation
    def predict_proba(self, X, batch_size=None, *, flip_tta=False):
        """Class probabilities, one row per input (a softmax is applied to a logits network's outputs).

        ``flip_tta=True`` averages them with the probabilities of the images mirrored left to right (test-time
        augmentation: a network trained with flips sees two views of each image; it costs a second pass)."""
        X = np.asarray(X, dtype=np.float32)
        return mirror_averaged(self._probabilities(batch_size), X) if flip_tta else self._probabilities(batch_size)(X)

    def _probabilities(self, batch_size):
        """A function of ``X`` giving this network's class probabilities (a softmax over logits outputs)."""
        def probabilities(X):
            out = self._require_model().predict(X, batch_size=batch_size or max(self.batch_size, 256), verbose=0)
            return softmax_rows(out) if self._view(X).kind == "logits" else out
        return probabilities

    def predict(self, X, batch_size=None, *, flip_tta=False):
        """Predicted class ids (int64), one per input (``flip_tta``: see ``predict_proba``)."""
        return np.argmax(self.predict_proba(X, batch_size, flip_tta=flip_tta), axis=1).astype(np.int64)

    def compute_accuracy(self, X_test, y_test, batch_size=None, *, flip_tta=False):
        """Accuracy (a float in [0, 1]) of the predictions on ``X_test`` against ``y_test``.

        ``y_test`` holds class ids or one-hot rows (what a model compiled with
        ``categorical_crossentropy`` is evaluated on); ``flip_tta``: see ``predict_proba``."""
        return agreement(self.predict(X_test, batch_size, flip_tta=flip_tta), y_test)

    # ------------------------------------------------------------------- plots
    def plot_progress(self, save_path=None):
        """Learning curves (loss and accuracy, train and validation) of the last ``fit``."""
        if self.history is None:
            raise RuntimeError("nothing to plot yet: call fit(data_manager) first")
        return plots.plot_progress(self.history, title=self.name, save_path=save_path)

    def plot_prediction(self, X_test, y_test, classes, num=16, save_path=None):
        """Random test images titled with their true and predicted classes."""
        return plots.plot_prediction(X_test, class_ids(y_test, "y_test"), self.predict(X_test), classes,
                                     value_range=self.value_range, num=num, seed=self.seed, save_path=save_path)

    # ------------------------------------------------------------------ saving
    def save(self, path=None):
        """Save the network as ``.h5`` (``saved_models/<name>.h5`` by default), atomically; returns the path."""
        return save_h5(self._require_model(), path or self.name)

    def load(self, path=None, safe_mode=True):
        """Load an ``.h5`` network saved by ``save``; it can be evaluated, attacked or trained further.

        A file holding a Python ``Lambda`` layer is refused unless ``safe_mode=False`` (trusted files only)."""
        self.model = load_h5(path or self.name, safe_mode=safe_mode)
        return self.model

    def _check_data(self, data_manager, net):
        """Fail early, with the fix, when the data does not fit the network."""
        shape = tuple(np.shape(data_manager.X_train)[1:])
        expected = tuple(net.input_shape[1:])
        if shape != expected:
            raise ValueError(f"{self.name}: images are {shape} but the network expects {expected}; build it with "
                             f"width={shape[1] if len(shape) > 1 else '?'}, height={shape[0]}, "
                             f"depth={shape[2] if len(shape) > 2 else 1} (or resize with SimplePreprocessor)")
        y_train = np.asarray(data_manager.y_train)
        if y_train.ndim == 2 and y_train.shape[1] != self.num_classes:
            raise ValueError(f"{self.name}: y_train has one-hot rows of {y_train.shape[1]} columns but "
                             f"num_classes={self.num_classes}; pass num_classes=len(data_manager.classes)")
        top = int(np.max(class_ids(y_train, "y_train"))) if len(y_train) else -1
        outputs = int(net.output.shape[-1])
        if outputs != self.num_classes:
            raise ValueError(f"{self.name}: the network has {outputs} outputs but num_classes={self.num_classes}; "
                             "end it with Dense(self.num_classes, ...)")
        if top >= self.num_classes:
            raise ValueError(f"{self.name}: labels go up to {top} but num_classes={self.num_classes}; "
                             "pass num_classes=len(data_manager.classes)")

    def _has_network(self):
        """False while ``self.model`` is missing or still the template's empty ``Sequential``."""
        return self.model is not None and not (isinstance(self.model, keras.Sequential) and not self.model.layers)

    def _require_model(self):
        if not self._has_network():
            raise RuntimeError(f"{type(self).__name__} '{self.name}' has no network yet: call build_cnn() "
                               "(or load(path)) first")
        return self.model


class YourModel(DefaultModel):
    """Residual CNN of Questions 3.2-3.10: ``num_blocks`` blocks of
    [conv, BN, act, conv, BN, (+ skip), act, avg-pool, dropout] and a linear classifier.

    Its defaults (``YourModel.DEFAULTS``) are the recipe that trained best on the real Animals
    images at 32x32 (README, "YourModel's defaults"): three blocks from 32 filters with batch
    norm, flips and whole-pixel shifts of up to 6 px (``'crops'``), mixup 0.2, Adam 1e-3 with
    decoupled weight decay 0.05 and a cosine decay over 60 epochs, label smoothing 0.1, batch 32,
    no early stopping (the cosine's last epochs are its best). Every other default is
    ``DefaultModel``'s; any argument overrides them.
    """

    DEFAULTS = dict(num_blocks=3, feature_maps=32, drop_rate=0.2, batch_norm=True, is_augmentation='crops',
                    optimizer='adam', batch_size=32, num_epochs=60, learning_rate=1e-3, patience=None,
                    schedule='cosine', weight_decay=0.05, label_smoothing=0.1, mixup_alpha=0.2)
    __init__ = init_with_defaults(DefaultModel.__init__, DEFAULTS)

    def build_cnn(self):
        """Build the residual network described by this model's parameters into ``self.model``."""
        import keras
        keras.utils.set_random_seed(self.seed)
        self.model = residual_cnn(self.width, self.height, self.depth, self.num_blocks, self.feature_maps,
                                  self.num_classes, self.drop_rate, bool(self.batch_norm), self.activation_func,
                                  self.use_skip, name=self.name)
        return self.model
