import keras
import numpy as np
import pytest

from coursekit.exercises.epochs import test_one_epoch, train_epochs, train_one_epoch
from coursekit.nets.small_nets import mnist_cnn, mnist_mlp
from coursekit.training.pipelines import labelled_dataset


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.normal(0, 0.3, (n, 28, 28, 1)).astype(np.float32)
    for i, label in enumerate(y):
        x[i, 4:24, 2 * label + 4: 2 * label + 6] += 2.0
    return x, y


def _weights(model):
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize("build", [mnist_mlp, mnist_cnn])
def test_one_epoch_changes_the_weights_and_counts_right(build):
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = build()
    before = _weights(model)
    expected_correct = int(np.sum(np.argmax(model.predict(x, verbose=0), 1) == y))
    # lr 0: the weights stay, so the count during training equals the count of the untrained model
    frozen = keras.optimizers.SGD(learning_rate=0.0)
    losses, counter, correct = train_one_epoch(labelled_dataset(x, y, 32), model, frozen, 2, 0)
    assert correct == expected_correct
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    losses, counter, correct = train_one_epoch(labelled_dataset(x, y, 32), model, keras.optimizers.SGD(0.05), 2, 0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_losses_and_counter_every_log_interval():
    keras.utils.set_random_seed(0)
    x, y = _data(n=200)
    model = mnist_mlp()
    frozen = keras.optimizers.SGD(learning_rate=0.0)
    ds = labelled_dataset(x, y, 32)  # 7 batches: 6 of 32 and one of 8
    losses, counter, _ = train_one_epoch(ds, model, frozen, 3, epoch=2)
    assert counter == [2 * 200 + 96, 2 * 200 + 192]  # after batches 3 and 6, two epochs of 200 before
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    batches = list(ds)
    for got, batch in zip(losses, (batches[2], batches[5])):
        assert got == pytest.approx(float(loss_fn(batch[1], model(batch[0]))), rel=1e-5)
    with pytest.raises(ValueError, match="log_interval"):
        train_one_epoch(ds, model, frozen, 0, 0)


def test_test_epoch_gives_average_loss_and_correct_count():
    keras.utils.set_random_seed(1)
    x, y = _data(n=150)
    model = mnist_cnn()
    loss, correct = test_one_epoch(labelled_dataset(x, y, 64), model)
    logits = model.predict(x, verbose=0)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    assert loss == pytest.approx(float(expected), rel=1e-5)
    assert correct == int(np.sum(np.argmax(logits, 1) == y))


def test_log_softmax_and_softmax_outputs_give_the_same_loss_as_logits():
    keras.utils.set_random_seed(2)
    x, y = _data(n=64)
    logits_net = mnist_mlp()
    for act in ("log_softmax", "softmax"):
        out = keras.layers.Activation(act)(logits_net.output)
        wrapped = keras.Model(logits_net.input, out)
        assert test_one_epoch(labelled_dataset(x, y, 32), wrapped)[0] == pytest.approx(
            test_one_epoch(labelled_dataset(x, y, 32), logits_net)[0], rel=1e-5)


def test_training_learns_and_records_every_epoch():
    keras.utils.set_random_seed(3)
    x, y = _data(n=400)
    model = mnist_mlp()
    rec = train_epochs(model, keras.optimizers.SGD(0.05), labelled_dataset(x, y, 32, shuffle_seed=0),
                       labelled_dataset(x, y, 200), epochs=3, log_interval=5)
    assert len(rec["test_losses"]) == 3 and rec["test_losses"][-1] < rec["test_losses"][0]
    assert rec["test_correct"][-1] > 0.9 * len(y)
    assert rec["train_counter"] == sorted(rec["train_counter"]) and rec["train_counter"][-1] == 2 * 400 + 320


def test_shuffled_order_is_repeatable_and_changes_each_epoch():
    x, y = _data(n=100)
    first = [b[1].numpy().tolist() for b in labelled_dataset(x, y, 100, shuffle_seed=5)]
    ds = labelled_dataset(x, y, 100, shuffle_seed=5)
    again = [[b[1].numpy().tolist() for b in ds] for _ in range(2)]
    assert again[0] == first and again[1] != again[0]


def test_every_epoch_adds_its_records_and_the_defaults_log_every_100_batches(monkeypatch, capsys):
    import coursekit.progress

    monkeypatch.setattr(coursekit.progress, "interactive", lambda: True)  # show the bar, as on a terminal
    keras.utils.set_random_seed(4)
    x, y = _data(n=200)
    rec = train_epochs(mnist_mlp(), keras.optimizers.SGD(0.01), labelled_dataset(x, y, 1),
                       labelled_dataset(x, y, 100), epochs=2)
    assert rec["train_counter"] == [100, 200, 300, 400]  # batches of one: logged every 100 batches
    assert len(rec["train_losses"]) == 4 and all(isinstance(v, float) for v in rec["train_losses"])
    assert len(rec["train_correct"]) == len(rec["test_correct"]) == 2
    assert all(isinstance(v, int) and 0 <= v <= 200 for v in rec["train_correct"] + rec["test_correct"])
    bar = capsys.readouterr().err.split("\r")[-1]
    # the bar stays on screen when done, named, with the last test figures
    assert bar.startswith("Epochs: 100%") and bar.endswith("\n")
    assert f"test_loss={rec['test_losses'][-1]:.4f}" in bar and f"test_correct={rec['test_correct'][-1]}" in bar


def test_logging_every_batch_and_an_empty_test_set():
    keras.utils.set_random_seed(5)
    x, y = _data(n=40)
    model = mnist_mlp()
    losses, counter, _ = train_one_epoch(labelled_dataset(x, y, 10), model, keras.optimizers.SGD(0.0), 1, 0)
    assert counter == [10, 20, 30, 40] and len(losses) == 4
    assert test_one_epoch(labelled_dataset(x[:1], y[:1], 10), model)[1] in (0, 1)  # one example is not empty
    with pytest.raises(ValueError, match="^the test dataset is empty$"):
        test_one_epoch(labelled_dataset(x[:0], y[:0], 10), model)
    one_batch = train_one_epoch(labelled_dataset(x[:10], y[:10], 10), model, keras.optimizers.SGD(0.0), 1, 0)
    assert one_batch[1] == [10]
    with pytest.raises(ValueError, match="^the training dataset is empty$"):
        train_one_epoch(labelled_dataset(x[:0], y[:0], 10), model, keras.optimizers.SGD(0.0), 1, 0)
