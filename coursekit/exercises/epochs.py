"""Hand-written epoch loops (DS 5220 PS4): ``train_one_epoch`` and ``test_one_epoch`` with ``GradientTape``.

The problem set asks students to write the training and evaluation loops themselves, so
these do not use ``model.fit``. Each whole epoch runs as one compiled ``tf.function`` (a
loop over the dataset inside the graph: no Python work per batch), cached per model and
optimizer. Models output class scores: logits, or log-probabilities as the seed's
``log_softmax`` does (cross-entropy from logits is the same loss for both); a softmax
output is stripped back to its logits.
"""
from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from coursekit.nets.architectures import logits_model
from coursekit.progress import progress

_COMPILED = weakref.WeakKeyDictionary()  # model -> {key: tf.function}


def _cached(model, key, make):
    per_model = _COMPILED.setdefault(model, {})
    if key not in per_model:
        per_model[key] = make()
    return per_model[key]


def _per_example_loss(labels, scores):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32),
                                                          logits=tf.cast(scores, tf.float32))


def _make_train_epoch(model, optimizer, jit_compile=False):
    net = logits_model(model)
    optimizer.build(net.trainable_variables)

    def step(x, y):
        with tf.GradientTape() as tape:
            scores = net(x, training=True)
            loss = tf.reduce_mean(_per_example_loss(y, scores))
            scaled = optimizer.scale_loss(loss)  # the identity unless a LossScaleOptimizer (mixed_float16)
        grads = tape.gradient(scaled, net.trainable_variables)
        optimizer.apply(grads, net.trainable_variables)
        pred = tf.argmax(scores, axis=1, output_type=tf.int64)
        return loss, tf.reduce_sum(tf.cast(pred == tf.cast(y, tf.int64), tf.int64))

    if jit_compile:  # XLA compiles the step; the loop over the dataset stays a plain graph (XLA has no datasets)
        step = tf.function(step, jit_compile=True)

    @tf.function
    def run(dataset):
        # scalar elements: an empty epoch then stacks to shape (0,) and reaches the clear error below
        losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=())
        sizes = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=())
        correct = tf.constant(0, tf.int64)
        i = 0
        for x, y in dataset:
            loss, right = step(x, y)
            correct += right
            losses = losses.write(i, loss)
            sizes = sizes.write(i, tf.shape(x)[0])
            i += 1
        return losses.stack(), sizes.stack(), correct

    return run


def _make_test_epoch(model):
    net = logits_model(model)

    @tf.function
    def run(dataset):
        total = tf.constant(0.0, tf.float64)
        correct = tf.constant(0, tf.int64)
        count = tf.constant(0, tf.int64)
        for x, y in dataset:
            scores = net(x, training=False)
            total += tf.cast(tf.reduce_sum(_per_example_loss(y, scores)), tf.float64)
            pred = tf.argmax(scores, axis=1, output_type=tf.int64)
            correct += tf.reduce_sum(tf.cast(pred == tf.cast(y, tf.int64), tf.int64))
            count += tf.cast(tf.shape(x)[0], tf.int64)
        return total, correct, count

    return run


def train_one_epoch(dataset, model, optimizer, log_interval, epoch, *, jit_compile=False):
    """One pass of SGD-style training over ``dataset`` (batches of images and integer labels).

    Returns ``(losses, counter, num_correct)`` as the seed's function does: the batch loss
    every ``log_interval`` batches, the number of training examples seen when each was
    recorded (counting ``epoch`` earlier epochs of the same size), and how many training
    examples the model got right during the pass (before each batch's update).
    ``jit_compile=True`` compiles each training step with XLA (what Keras' ``fit`` does on a GPU).
    Under ``mixed_float16`` pass a ``keras.optimizers.LossScaleOptimizer``: its loss scale is applied.
    """
    if int(log_interval) < 1:
        raise ValueError(f"log_interval must be >= 1, got {log_interval}")
    run = _cached(model, ("train", id(optimizer), bool(jit_compile)),
                  lambda: _make_train_epoch(model, optimizer, bool(jit_compile)))
    batch_losses, sizes, correct = run(dataset)
    seen = np.cumsum(sizes.numpy())
    if len(seen) == 0:
        raise ValueError("the training dataset is empty")
    logged = np.arange(int(log_interval) - 1, len(seen), int(log_interval))
    offset = int(epoch) * int(seen[-1])
    return ([float(v) for v in batch_losses.numpy()[logged]], [int(seen[i]) + offset for i in logged],
            int(correct))


def test_one_epoch(dataset, model):
    """Evaluate ``model`` on ``dataset``: ``(average cross-entropy per example, num_correct)``."""
    run = _cached(model, ("test",), lambda: _make_test_epoch(model))
    total, correct, count = run(dataset)
    if int(count) == 0:
        raise ValueError("the test dataset is empty")
    return float(total) / int(count), int(correct)


test_one_epoch.__test__ = False  # a library function, not a pytest test


def train_epochs(model, optimizer, train_ds, test_ds, epochs, log_interval=100, desc="Epochs", jit_compile=False):
    """The seed's training cell: ``epochs`` rounds of ``train_one_epoch`` then ``test_one_epoch``,
    with a progress bar over epochs. Returns the recorded curves and counts as a dict."""
    record = {"train_losses": [], "train_counter": [], "test_losses": [], "test_correct": [], "train_correct": []}
    bar = progress(range(int(epochs)), desc=desc, leave=True)
    for epoch in bar:
        losses, counter, train_correct = train_one_epoch(train_ds, model, optimizer, log_interval, epoch,
                                                         jit_compile=jit_compile)
        test_loss, test_correct = test_one_epoch(test_ds, model)
        record["train_losses"] += losses
        record["train_counter"] += counter
        record["test_losses"].append(test_loss)
        record["test_correct"].append(test_correct)
        record["train_correct"].append(train_correct)
        bar.set_postfix(test_loss=f"{test_loss:.4f}", test_correct=test_correct)
    return record
