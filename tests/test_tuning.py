from coursekit.tuning import DEFAULT_ANIMALS_GRID, grid_search
from models import YourModel


def test_default_grid_is_the_assignments():
    assert DEFAULT_ANIMALS_GRID == {"num_blocks": [2, 3, 4], "use_skip": [True, False],
                                    "learning_rate": [1e-3, 1e-4]}


def test_grid_search_trains_every_combination_and_ranks_by_validation_accuracy(blobs_manager, capsys):
    made = []

    def make(**params):
        made.append(params)
        return YourModel(width=16, height=16, num_classes=3, feature_maps=4, batch_norm=True, verbose=False,
                         **params)

    rows, best = grid_search(make, blobs_manager, grid={"num_blocks": [1, 2], "learning_rate": [1e-2, 1e-7]},
                             batch_size=32, num_epochs=2)
    assert len(made) == 4 and len(rows) == 4
    accs = [r["val_accuracy"] for r in rows]
    assert accs == sorted(accs, reverse=True)
    assert rows[0]["learning_rate"] == 1e-2  # a 1e-7 learning rate cannot win
    assert 0.0 <= rows[0]["test_accuracy"] <= 1.0 and "test_accuracy" not in rows[1]
    assert best.num_blocks == rows[0]["num_blocks"]
    assert "val_accuracy" in capsys.readouterr().out
