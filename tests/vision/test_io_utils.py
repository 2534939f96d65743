"""embervision.io and embervision.utils."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ember
from embervision import io, utils


def _img(c=3, h=5, w=7):
    return ember.from_numpy((np.arange(c * h * w) * 7 % 256).astype(np.uint8).reshape(c, h, w))


@pytest.mark.parametrize("c", [1, 3, 4])
def test_png_roundtrip_is_lossless(tmp_path, c):
    img = _img(c)
    path = tmp_path / "x.png"
    io.write_png(img, str(path))
    back = io.read_image(str(path))
    assert back.dtype is ember.uint8 and np.array_equal(back.numpy(), img.numpy())


def test_read_modes(tmp_path):
    path = tmp_path / "x.png"
    io.write_png(_img(3), str(path))
    assert tuple(io.read_image(str(path), io.ImageReadMode.GRAY).shape) == (1, 5, 7)
    assert tuple(io.read_image(str(path), io.ImageReadMode.RGB_ALPHA).shape) == (4, 5, 7)
    data = io.read_file(str(path))
    assert data.dtype is ember.uint8 and data.ndim == 1
    assert np.array_equal(io.decode_image(data).numpy(), _img(3).numpy())


def test_jpeg_is_close(tmp_path):
    img = ember.from_numpy(np.full((3, 16, 16), 120, dtype=np.uint8))
    io.write_jpeg(img, str(tmp_path / "x.jpg"), quality=95)
    back = io.read_image(str(tmp_path / "x.jpg"))
    assert np.abs(back.numpy().astype(int) - 120).max() <= 2
    with pytest.raises(ValueError, match="between 1 and 100"):
        io.encode_jpeg(img, quality=0)


def test_decode_garbage_is_a_clear_error():
    with pytest.raises(RuntimeError, match="Could not decode the image"):
        io.decode_image(ember.from_numpy(np.frombuffer(b"definitely not an image", dtype=np.uint8).copy()))
    with pytest.raises(RuntimeError, match="uint8"):
        io.encode_png(ember.zeros(3, 2, 2))


def test_make_grid_layout_and_padding():
    batch = ember.ones(5, 1, 2, 3)
    grid = utils.make_grid(batch, nrow=2, padding=1, pad_value=0.5)
    # 3 channels (grey is repeated), 3 rows x 2 columns of 2x3 tiles with 1-pixel padding
    assert tuple(grid.shape) == (3, 3 * 3 + 1, 2 * 4 + 1)
    g = grid.numpy()
    assert g[0, 0, 0] == 0.5 and g[0, 1, 1] == 1.0 and g[0, 7, 5] == 0.5  # the 6th cell is empty
    single = utils.make_grid(ember.ones(1, 3, 4, 4))
    assert tuple(single.shape) == (3, 4, 4)


def test_make_grid_normalize_scales_to_unit_range():
    batch = ember.tensor([[[[0.0, 10.0]]], [[[5.0, 20.0]]]])
    grid = utils.make_grid(batch, normalize=True, padding=0).numpy()
    assert grid.min() == 0.0 and grid.max() == 1.0
    each = utils.make_grid(batch, normalize=True, scale_each=True, padding=0).numpy()
    assert each[0].tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_save_image(tmp_path):
    path = tmp_path / "grid.png"
    utils.save_image(ember.rand(4, 3, 8, 8), str(path), nrow=2)
    with Image.open(path) as img:
        assert img.size == (2 * 10 + 2, 2 * 10 + 2) and img.mode == "RGB"


def test_draw_bounding_boxes():
    img = ember.zeros(3, 20, 20, dtype=ember.uint8)
    out = utils.draw_bounding_boxes(img, ember.tensor([[2, 3, 10, 12]]), colors="red", width=1)
    arr = out.numpy()
    assert tuple(arr[:, 3, 5]) == (255, 0, 0) and tuple(arr[:, 7, 6]) == (0, 0, 0)
    assert img.numpy().max() == 0  # the input is untouched
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        utils.draw_bounding_boxes(img, ember.tensor([[10, 3, 2, 12]]))
