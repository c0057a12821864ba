"""``fit_classifier``: train a functional classifier with the configured step variants and callbacks."""
from __future__ import annotations

import keras
import numpy as np

from coursekit.datasets.labels import one_hot_or_ids
from coursekit.progress import keras_verbosity
from coursekit.training.augmentation import build_augmenter
from coursekit.training.config import TrainConfig
from coursekit.training.divergence import StopOnDivergence
from coursekit.training.losses import OneHotBinaryAccuracy, OneHotBinaryCrossentropy
from coursekit.training.optimizers import get_optimizer
from coursekit.training.pipelines import classification_dataset, training_dataset
from coursekit.training.resume import TrainingBackup, check_backup, completed_epochs, data_digest, fingerprint
from coursekit.training.runtime import describe, jit_compile_setting, tensorboard_callback
from coursekit.training.trainer import ClassifierTrainer


def fit_classifier(net, train, valid=None, config=None, *, callbacks=(), strategy=None, backup_dir=None):
    """Train ``net`` in place on ``train = (x, y)``, validating on ``valid = (x, y)``; returns the Keras ``History``.

    ``config`` is a ``TrainConfig`` (its defaults with ``num_classes`` read from ``net``'s output when
    ``None``). Its ``patience`` enables early stopping on ``monitor`` with the best weights restored;
    ``history.stopped_epoch`` is the (1-based) epoch training stopped at, or ``None`` when it ran all epochs.
    A run whose training loss becomes NaN or infinite (a learning rate too large) stops after that epoch with
    the weights from before it and a printed explanation; ``history.diverged_epoch`` is then that epoch, else
    ``None``. Everything random is driven by ``config.seed``. Labels are class ids or one-hot rows.

    Under a ``tf.distribute`` ``strategy`` the network is copied into the strategy's scope,
    each global batch is split across replicas (the loss is scaled so gradients match one
    device's), and the trained weights are copied back into ``net``.

    With ``backup_dir`` the state after each epoch is kept in that folder (see ``coursekit.training.resume``):
    a run killed at any point and started again with the same arguments carries on from the last
    finished epoch and ends with the weights and history of an uninterrupted run; early stopping's
    patience count carries on too. The folder is removed when the run completes, and a backup made
    with another config, another network or other data is refused.

    With ``config.verbose`` a first line names the device, the dtype policy and whether XLA is on.
    """
    if config is None:
        config = TrainConfig(num_classes=max(int(net.outputs[0].shape[-1]), 2))
    c = config
    x_train, y_train = train
    x_valid, y_valid = valid if valid is not None else (None, None)
    jit_compile = jit_compile_setting(c.jit_compile)
    keras.utils.set_random_seed(c.seed)
    first_epoch = 0
    if backup_dir is not None:
        settings = {**c.fingerprint(), "valid": None if x_valid is None else data_digest(x_valid, y_valid)}
        check_backup(backup_dir, fingerprint(net, x_train, y_train, settings))
        first_epoch = completed_epochs(backup_dir)
    train_ds, steps = training_dataset(x_train, y_train, c.num_classes, c.batch_size, seed=c.seed,
                                       first_epoch=first_epoch, name="training data x_train",
                                       mixup_alpha=c.mixup_alpha)
    valid_ds = None
    if x_valid is not None:
        valid_ds = classification_dataset(x_valid, y_valid, c.num_classes, max(int(c.batch_size), 256),
                                          name="validation data x_valid")
    guard = StopOnDivergence(net.name)
    callbacks = [guard, *callbacks]  # first: the others see the restored weights of a diverged epoch
    stopper = None
    if c.patience is not None:
        if valid_ds is None and c.monitor.startswith("val_"):
            raise ValueError(f"early stopping on {c.monitor!r} needs validation data")
        stopper = keras.callbacks.EarlyStopping(monitor=c.monitor, patience=int(c.patience),
                                                restore_best_weights=True,
                                                mode="max" if c.monitor.endswith("accuracy") else "auto",
                                                verbose=1 if c.verbose else 0)
        callbacks.append(stopper)
    backup = None
    if backup_dir is not None:
        backup = TrainingBackup(str(backup_dir), stopper)  # after the stopper: it restores the stopper's state
        callbacks.append(backup)
    board = tensorboard_callback(net.name)
    if board is not None:
        callbacks.append(board)

    one_logit = net.outputs[0].shape[-1] == 1
    if one_logit and c.num_classes != 2:
        raise ValueError(f"a network with one output is a binary classifier: use num_classes=2, not {c.num_classes}")
    default_loss = (OneHotBinaryCrossentropy(label_smoothing=c.label_smoothing) if one_logit else
                    keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=c.label_smoothing))

    def build_trainer(model):
        trainer = ClassifierTrainer(model, c, augmenter=None if c.augmentation is None else
                                    build_augmenter(c.value_range, seed=c.seed, **c.augmentation.as_kwargs()))
        if c.progressive_resizing is not None:
            size, low_epochs = c.progressive_resizing
            trainer.low_res = (size, low_epochs * steps)
        optimizer = get_optimizer(c.optimizer, c.learning_rate, c.weight_decay,
                                  decay_steps=c.epochs * steps if c.schedule == "cosine" else None,
                                  warmup_steps=round(c.warmup_epochs * steps))
        trainer.compile(optimizer=optimizer, loss=c.loss or default_loss,
                        metrics=[OneHotBinaryAccuracy() if one_logit else
                                 keras.metrics.CategoricalAccuracy(name="accuracy")],
                        jit_compile=jit_compile)
        first = np.asarray(x_train[:1], np.float32)
        trainer.example_batch = (first, one_hot_or_ids(y_train[:1], c.num_classes))
        if backup is not None:  # BackupAndRestore restores into a built model
            trainer(first)
        return trainer

    fit_args = dict(validation_data=valid_ds, epochs=int(c.epochs), steps_per_epoch=steps, callbacks=callbacks,
                    shuffle=False,  # the dataset shuffles itself, by epoch
                    verbose=keras_verbosity(c.verbose))
    if strategy is None:
        trainer = build_trainer(net)
    else:
        with strategy.scope():
            replica = keras.models.clone_model(net)
            replica.set_weights(net.get_weights())
            trainer = build_trainer(replica)
    if c.verbose:
        print(describe(trainer, jit_compile))
    history = trainer.fit(train_ds, **fit_args)
    if strategy is not None:
        net.set_weights(replica.get_weights())
    if backup is not None:
        backup.merge_history(history)
    history.stopped_epoch = stopper.stopped_epoch + 1 if stopper is not None and stopper.stopped_epoch else None
    history.diverged_epoch = guard.diverged_epoch
    history.trainer = trainer
    return history
