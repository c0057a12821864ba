"""The grading kit's pieces, quickly: rubric, attack discovery and calling, scoring, reports, unpacking."""
import types
import zipfile

import numpy as np
import pytest

from coursekit.grading import fit3181
from coursekit.grading.batch import expand
from coursekit.grading.data import make_grader_images
from coursekit.grading.reports import grades_csv, results_json, scored_tests
from coursekit.grading.rubric import load_rubric
from coursekit.grading.sandbox import Outcome, unpack


def test_the_rubric_defaults_and_an_instructors_overrides(tmp_path):
    rubric = load_rubric()
    assert [name for name, _ in fit3181.CHECKS] == list(rubric)
    mine = tmp_path / "rubric.toml"
    mine.write_text("[checks.attack_pgd]\nmax_score = 9\n[checks.notebook]\nrequired = true\n")
    changed = load_rubric(mine)
    assert changed["attack_pgd"]["max_score"] == 9 and changed["notebook"]["required"] is True
    assert changed["attack_fgsm"] == rubric["attack_fgsm"]
    mine.write_text("[checks.attack_pdg]\nmax_score = 9\n")
    with pytest.raises(ValueError, match=r"unknown checks \['attack_pdg'\]"):
        load_rubric(mine)
    mine.write_text("[checks\n")
    with pytest.raises(ValueError, match="must be TOML"):
        load_rubric(mine)


def test_attacks_are_found_by_name_and_called_whatever_their_parameters_are_called():
    seen = {}

    def FGSM_attack(net, images, labels, epsilon=1.0, clip_min=0.0, clip_max=1.0):
        seen["fgsm"] = (epsilon, clip_min, clip_max, np.asarray(labels).ndim)
        return images

    def my_pgd(model, x, y, eps, k, eta, clip_value_min, clip_value_max):
        seen["pgd"] = (eps, k, eta, clip_value_min, clip_value_max)
        return x + 0.0

    def mim_onehot(model, x, y, epsilon, num_steps, step_size, decay):
        if np.asarray(y).ndim != 2:
            raise ValueError("one-hot labels please")
        seen["mim"] = (epsilon, num_steps, step_size, decay)
        return x

    module = types.SimpleNamespace(FGSM_attack=FGSM_attack, my_pgd=my_pgd, mim_onehot=mim_onehot, _pgd_helper=my_pgd,
                                   pgd_constant=3)
    found = fit3181.discover_attacks(module)
    assert found == {"fgsm": FGSM_attack, "pgd": my_pgd, "mim": mim_onehot}
    x, y = np.zeros((2, 4, 4, 3), np.float64), np.array([0, 2])
    for kind, fn in found.items():
        out = fit3181.call_attack(fn, kind, None, x, y, (-1.0, 1.0))
        assert out.dtype == np.float32 and out.shape == x.shape
    assert seen["fgsm"] == (0.0313, -1.0, 1.0, 1)  # the data's range, not the function's default
    assert seen["pgd"] == (0.0313, 20, 0.002, -1.0, 1.0)
    assert seen["mim"] == (0.0313, 20, 0.002, 1.0)  # called again with one-hot labels

    def too_few(model, x):
        return x

    with pytest.raises(TypeError, match="want \\(model, images, labels"):
        fit3181.call_attack(too_few, "fgsm", None, x, y, (-1.0, 1.0))


def test_scores_come_from_the_rubric_and_optional_files_count_only_when_handed_in():
    rubric = {"a": {"max_score": 4}, "b": {"max_score": 2}, "c": {"max_score": 3, "required": True},
              "d": {"max_score": 5}}
    outcome = Outcome("s1", "timeout", checks={
        "a": {"fraction": 0.5, "message": "half", "seconds": 1},
        "b": {"fraction": 0.0, "message": "no notebook", "not_applicable": True},
        "c": {"fraction": 0.0, "message": "no .h5", "not_applicable": True}}, message="stopped", seconds=3.5)
    tests = scored_tests(outcome, rubric, list(rubric))
    by = {t["name"]: t for t in tests}
    assert by["a"]["score"] == 2 and by["a"]["status"] == "failed"
    assert by["b"]["max_score"] == 0 and by["b"]["status"] == "passed"  # optional, not handed in
    assert by["c"]["max_score"] == 3 and by["c"]["score"] == 0  # required
    assert by["d"]["score"] == 0 and by["d"]["output"].startswith("not run (timeout)")
    result = results_json(outcome, tests, 7, {"keras": "3"})
    assert result["score"] == 2 and result["extra_data"] == {"grading_status": "timeout", "seed": 7,
                                                             "versions": {"keras": "3"}, "isolation": "", "code": "",
                                                             "peak_memory_mb": 0}
    assert set(tests[0]) == {"name", "score", "max_score", "status", "output", "visibility"}
    lines = grades_csv([("s1", "timeout", tests)], list(rubric)).splitlines()
    assert lines[0] == "student,total,max,grading_status,a,b,c,d" and lines[1] == "s1,2.0,12.0,timeout,2.0,0.0,0.0,0.0"


def test_submissions_are_expanded_unpacked_and_a_zip_cannot_write_outside(tmp_path):
    (tmp_path / "class" / "ann").mkdir(parents=True)
    (tmp_path / "class" / "ann" / "models.py").write_text("x = 1\n")
    with zipfile.ZipFile(tmp_path / "class" / "bob.zip", "w") as z:
        z.writestr("bob/models.py", "x = 2\n")
    found = expand([tmp_path / "class"])
    assert [p.name for p in found] == ["ann", "bob.zip"]
    folder = unpack(found[1], tmp_path / "work")
    assert (folder / "models.py").read_text() == "x = 2\n"
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("../../outside.py", "boom")
    with pytest.raises(ValueError, match="outside the archive"):
        unpack(tmp_path / "evil.zip", tmp_path / "work2")
    assert not (tmp_path / "outside.py").exists()
    with pytest.raises(FileNotFoundError, match="submission not found"):
        expand([tmp_path / "missing"])
    (tmp_path / "twice").mkdir()
    (tmp_path / "twice" / "ann").mkdir()
    (tmp_path / "twice" / "ann" / "models.py").write_text("")
    with pytest.raises(ValueError, match="share the name"):
        expand([tmp_path / "class" / "ann", tmp_path / "twice"])


def test_the_grader_images_hold_one_corrupt_file_and_saturated_pixels(tmp_path):
    from PIL import Image

    root = make_grader_images(tmp_path / "g", n_per_class=3)
    files = sorted(root.rglob("*.jpg"))
    assert len(files) == 10  # 3 classes x 3, and the corrupt one
    assert sum(not fit3181._decodes(p) for p in files) == 1
    pixels = np.asarray(Image.open(files[1]))
    assert pixels.min() == 0 and pixels.max() == 255


def test_skip_connections_are_found_at_any_depth_and_inside_a_subclass_call():
    import keras
    from keras import layers

    def block(x, skip):
        h = layers.Conv2D(4, 3, padding="same")(x)
        h = layers.BatchNormalization()(h)
        return layers.Add()([h, x]) if skip else h

    def functional(skip):
        inputs = keras.Input((32, 32, 4))
        return keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(block(inputs, skip))))

    inner = functional(True)
    outer = keras.Sequential([keras.Input((32, 32, 4)), inner])  # the Add sits in a nested model

    class Residual(layers.Layer):
        def __init__(self, skip, **kwargs):
            super().__init__(**kwargs)
            self.skip, self.conv = skip, layers.Conv2D(4, 3, padding="same")

        def call(self, x):
            return self.conv(x) + x if self.skip else self.conv(x)

    def custom(skip):
        return keras.Sequential([keras.Input((32, 32, 4)), Residual(skip), layers.Flatten(), layers.Dense(3)])

    shape = (32, 32, 4)
    assert fit3181._has_add(functional(True), shape) and not fit3181._has_add(functional(False), shape)
    assert fit3181._has_add(outer, shape)
    assert fit3181._has_add(custom(True), shape) and not fit3181._has_add(custom(False), shape)  # traced call


def test_a_saved_kit_keeps_the_template_a_notebook_is_graded_on(tmp_path):
    import numpy as np

    from coursekit.grading.fit3181 import Kit
    from coursekit.grading.fit3181.common import TEMPLATE_GIVEN
    from coursekit.nets.architectures import default_cnn

    (tmp_path / "images" / "cats").mkdir(parents=True)
    template = tmp_path / "handed_out_models.py"
    template.write_text("class DefaultModel:\n    pass\n")
    x = np.zeros((2, 32, 32, 3), np.float32)
    kit = Kit(tmp_path / "images", 3, num_classes=3, model=default_cnn(32, 32, 3, 3), eval_x=x,
              eval_y=np.zeros(2, np.int64), kit_adv={"fgsm": x}, template=template)
    loaded = Kit.load(kit.save(tmp_path / "kit"))
    assert loaded.template.read_text() == template.read_text() and loaded.seed == 3
    shared = loaded.write_shared(tmp_path / "shared")
    assert (shared / "template" / "models.py").read_text() == template.read_text()
    (tmp_path / "kit" / "template" / "models.py").unlink()  # a kit saved before templates were kept
    assert Kit.load(tmp_path / "kit").template == TEMPLATE_GIVEN
