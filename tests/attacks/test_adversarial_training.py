import numpy as np
import pytest

from coursekit.attacks.robustness import RobustCheckpoint, robust_accuracy
from coursekit.nets.saving import load_h5
from models import AdversarialTraining, YourModel

EPS = 0.1


def test_pgd_trained_model_is_more_robust_than_the_same_net_trained_clean(trained, blobs_manager, tmp_path):
    robust = YourModel(name="robust", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8,
                       batch_norm=True, learning_rate=0.01, batch_size=16, num_epochs=5, patience=None,
                       verbose=False, adversarial=AdversarialTraining(eps=EPS, steps=5, step_size=EPS / 4),
                       is_augmentation=False, schedule="constant", weight_decay=0.0, label_smoothing=0.0)
    checkpoint = RobustCheckpoint(blobs_manager.X_valid, blobs_manager.y_valid, tmp_path / "best.h5", eps=EPS,
                                  steps=5, step_size=EPS / 4, verbose=False)
    robust.fit(blobs_manager, callbacks=[checkpoint])
    assert len(robust.history.history["val_robust_accuracy"]) == 5
    x, y = blobs_manager.X_test, blobs_manager.y_test
    attack = dict(eps=EPS, steps=20, step_size=EPS / 8)
    clean_trained = robust_accuracy(trained.model, x, y, "pgd", **attack)
    adv_trained = robust_accuracy(robust.model, x, y, "pgd", **attack)
    assert adv_trained > clean_trained + 0.3
    best = load_h5(tmp_path / "best.h5")  # the best robust epoch, restored into the model at the end
    assert checkpoint.best == max(robust.history.history["val_robust_accuracy"])
    np.testing.assert_array_equal(best.predict(x, verbose=0), robust.model.predict(x, verbose=0))


@pytest.mark.parametrize("bad", [dict(eps=-0.01), dict(steps=0), dict(steps=2.5), dict(step_size=0.0),
                                 dict(step_size=-0.1)])
def test_each_bad_adversarial_setting_is_refused_alone(bad):
    with pytest.raises(ValueError, match="eps >= 0, steps >= 1 and step_size > 0"):
        AdversarialTraining(**bad)


def test_adversarial_settings_accept_their_boundaries():
    AdversarialTraining(eps=0.0, steps=1, step_size=1e-6, clean_weight=0.0)  # eps 0: clean training by PGD
    with pytest.raises(ValueError, match="clean_weight"):
        AdversarialTraining(clean_weight=1.0)
    with pytest.raises(ValueError, match="clean_weight"):
        AdversarialTraining(clean_weight=-0.1)


def test_clean_weight_mixes_clean_examples_in(blobs_manager):
    net = YourModel(width=16, height=16, num_classes=3, num_blocks=1, feature_maps=4, batch_size=32,
                    num_epochs=1, verbose=False, adversarial=AdversarialTraining(EPS, 2, 0.05, clean_weight=0.5))
    net.fit(blobs_manager)
    assert np.isfinite(net.history.history["loss"]).all()
