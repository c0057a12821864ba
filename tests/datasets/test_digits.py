from coursekit.datasets.animals import create_label_folder_dict
from coursekit.datasets.digits import render_digits_folder


def test_renders_an_animals_style_tree_once(tmp_path):
    root = render_digits_folder(tmp_path / "digits")
    folders = create_label_folder_dict(root)
    assert sorted(folders) == [f"digit_{k}" for k in range(10)]
    n = sum(len(list((root / k).glob("*.png"))) for k in folders)
    assert n == 1797
    stamp = (root / "digit_0").stat().st_mtime_ns
    assert render_digits_folder(root) == root  # a complete tree is reused, not rewritten
    assert (root / "digit_0").stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("digits.")]  # no temp leftovers
