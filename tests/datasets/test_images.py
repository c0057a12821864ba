import numpy as np
import pytest
from PIL import Image

from coursekit.datasets.images import ImageReadError, read_image_rgb, to_display


def test_grayscale_rgba_palette_and_16bit_become_rgb_uint8(tmp_path):
    Image.fromarray(np.full((5, 7), 200, np.uint8), "L").save(tmp_path / "g.png")
    Image.fromarray(np.full((5, 7, 4), 100, np.uint8), "RGBA").save(tmp_path / "a.png")
    Image.fromarray(np.full((5, 7), 3, np.uint8), "L").convert("P").save(tmp_path / "p.png")
    Image.fromarray(np.full((5, 7), 65535, np.uint16)).save(tmp_path / "d.png")
    for name in ("g", "a", "p", "d"):
        img = read_image_rgb(tmp_path / f"{name}.png")
        assert img.shape == (5, 7, 3) and img.dtype == np.uint8, name
    assert read_image_rgb(tmp_path / "g.png").max() == 200
    assert read_image_rgb(tmp_path / "d.png").min() == 255  # 16-bit white scales to 255, not clipped garbage


def test_corrupt_truncated_and_text_files_raise_naming_the_file(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    for bad in (truncated, text):
        with pytest.raises(ImageReadError, match=bad.name):
            read_image_rgb(bad)


def test_to_display_maps_value_range_to_pixels():
    x = np.array([-1.0, 0.0, 1.0, 2.0], np.float32)
    assert to_display(x, (-1, 1)).tolist() == [0, 128, 255, 255]
    assert to_display(np.array([0.0, 1.0]), (0, 1)).tolist() == [0, 255]
    with pytest.raises(ValueError, match="value_range"):
        to_display(x, (1, -1))
