"""rotate(expand=True): output sizes recorded from torchvision 0.28 (torchvision.transforms.functional.rotate on
zeros of each shape), and pixel-exact content for one case."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import embervision.transforms.functional as F

# (h, w, angle) -> torchvision's (h, w) after rotate(..., expand=True)
CASES = [
    (10, 10, 45, (16, 16)), (11, 11, 45, (17, 17)), (16, 16, 30, (22, 22)), (15, 20, 37.5, (25, 26)),
    (32, 24, 90, (24, 32)), (7, 13, -60, (15, 13)), (20, 20, 10, (24, 24)), (9, 9, 135, (13, 13)),
]


@pytest.mark.parametrize("h,w,angle,expected", CASES)
def test_rotate_expand_output_size_matches_torchvision(h, w, angle, expected):
    out = F.rotate(ember.zeros(1, h, w), angle, expand=True)
    assert tuple(out.shape[1:]) == expected


def test_rotate_expand_content_is_the_rotated_image():
    x = ember.from_numpy(np.arange(7 * 13, dtype=np.float32).reshape(1, 7, 13))
    out = F.rotate(x, 90, expand=True).numpy()[0]
    # a 90-degree counter-clockwise turn with expand is an exact transpose-and-flip
    np.testing.assert_array_equal(out, np.rot90(x.numpy()[0]))
