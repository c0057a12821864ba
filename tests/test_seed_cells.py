"""The template notebook's Part 3 cells [3]-[14] and the Q3.2 subclass, verbatim, on real JPEGs.

Runs on ``../shared/data/animals_sample`` (real JPEGs of varied sizes, some grey) when it is
present beside the checkout, and is skipped otherwise.
"""
import os
import shutil
from pathlib import Path

import matplotlib
import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "animals_sample"


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared animals_sample (real JPEGs) not present")
def test_seed_cells_run_verbatim(tmp_path, monkeypatch):
    shutil.copytree(SAMPLE, tmp_path / "datasets" / "Animals")
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")

    # [3]
    import os  # noqa: F811
    import matplotlib.pyplot as plt
    plt.style.use('ggplot')
    import models
    from models import SimplePreprocessor, AnimalsDatasetManager, DefaultModel

    # [4]
    def create_label_folder_dict(adir):
        sub_folders = [folder for folder in os.listdir(adir)
                       if os.path.isdir(os.path.join(adir, folder))]
        label_folder_dict = dict()
        for folder in sub_folders:
            item = {folder: os.path.abspath(os.path.join(adir, folder))}
            label_folder_dict.update(item)
        return label_folder_dict

    # [5]
    label_folder_dict = create_label_folder_dict("./datasets/Animals")

    # [6]
    sp = SimplePreprocessor(width=32, height=32)
    data_manager = AnimalsDatasetManager([sp])
    data_manager.load(label_folder_dict, verbose=100)
    data_manager.process_data_label()
    data_manager.train_valid_test_split()

    # [7]
    print(data_manager.X_train.shape, data_manager.y_train.shape)
    print(data_manager.X_valid.shape, data_manager.y_valid.shape)
    print(data_manager.X_test.shape, data_manager.y_test.shape)
    print(data_manager.classes)
    assert data_manager.X_train.shape == (144, 32, 32, 3)
    assert list(data_manager.classes) == ["cats", "dogs", "panda"]

    # [8]
    network1 = DefaultModel(name='network1',
                            num_classes=len(data_manager.classes),
                            optimizer='sgd',
                            batch_size=128,
                            num_epochs=20,
                            learning_rate=0.5)
    # [9]
    network1.build_cnn()
    network1.summary()
    # [10]
    network1.fit(data_manager, batch_size=64, num_epochs=20)
    # [11]
    acc = network1.compute_accuracy(data_manager.X_test, data_manager.y_test)
    assert 0.0 <= acc <= 1.0
    # [12]
    network1.plot_progress()
    # [13]
    assert len(network1.predict(data_manager.X_test[0:10])) == 10
    # [14]
    network1.plot_prediction(data_manager.X_test, data_manager.y_test, data_manager.classes)

    # Q3.2, with a build_cnn a student might write
    class YourModel(DefaultModel):
        def __init__(self,
                     name='network1',
                     width=32, height=32, depth=3,
                     num_blocks=2,
                     feature_maps=32,
                     num_classes=4,
                     drop_rate=0.2,
                     batch_norm=None,
                     is_augmentation=False,
                     activation_func='relu',
                     use_skip=True,
                     optimizer='adam',
                     batch_size=10,
                     num_epochs=20,
                     learning_rate=0.0001,
                     verbose=True):
            super(YourModel, self).__init__(name, width, height, depth, num_blocks,
                                            feature_maps, num_classes, drop_rate, batch_norm, is_augmentation,
                                            activation_func, use_skip, optimizer,
                                            batch_size, num_epochs, learning_rate, verbose)

        def build_cnn(self):
            return models.YourModel.build_cnn(self)

    our_network_skip = YourModel(name='network1',
                                 feature_maps=32,
                                 num_classes=len(data_manager.classes),
                                 num_blocks=3,
                                 drop_rate=0.0,
                                 batch_norm=True,
                                 use_skip=True,
                                 optimizer='adam',
                                 learning_rate=0.001)
    our_network_skip.build_cnn()
    our_network_skip.summary()
    our_network_skip.fit(data_manager, batch_size=32, num_epochs=3)
    skip_acc = our_network_skip.compute_accuracy(data_manager.X_test, data_manager.y_test)
    print("skip network test accuracy", skip_acc)
    assert skip_acc > 1 / 3
