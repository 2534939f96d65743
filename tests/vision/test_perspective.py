"""transforms.functional.perspective and RandomPerspective: values recorded from torchvision 0.28
(fixtures/record_perspective.py)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
from embervision import transforms
from embervision.transforms import InterpolationMode
from embervision.transforms import functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "perspective_ref.npz")
X = np.random.default_rng(0).uniform(0, 1, (3, 12, 16)).astype(np.float32)
XI = np.random.default_rng(1).uniform(0, 255, (3, 12, 16)).astype(np.uint8)
SP = [[0, 0], [15, 0], [15, 11], [0, 11]]
EP = [[2, 1], [13, 0], [15, 10], [1, 11]]


def test_coefficients_match_torchvision():
    np.testing.assert_allclose(F._get_perspective_coeffs(SP, EP), REF["coeffs"], rtol=1e-6)
    with pytest.raises(ValueError, match="exactly four corners"):
        F._get_perspective_coeffs(SP[:3], EP)


def test_perspective_values_match_torchvision():
    np.testing.assert_allclose(F.perspective(ember.from_numpy(X), SP, EP).numpy(), REF["float_bilinear"], atol=1e-6)
    out = F.perspective(ember.from_numpy(X), SP, EP, InterpolationMode.NEAREST, fill=[0.5, 0.2, 1.0]).numpy()
    np.testing.assert_array_equal(out, REF["float_nearest_fill"])
    out = F.perspective(ember.from_numpy(XI), SP, EP, fill=7)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), REF["uint8_bilinear_fill"])


def test_random_perspective_applies_its_sampled_corners():
    ember.manual_seed(3)
    start, end = transforms.RandomPerspective.get_params(16, 12, 0.5)
    assert start == SP
    for (x, y), (sx, sy) in zip(end, start):
        assert abs(x - sx) <= 4 and abs(y - sy) <= 3
    t = transforms.RandomPerspective(distortion_scale=0.5, p=1.0)
    img = ember.from_numpy(X)
    ember.manual_seed(5)
    out = t(img)
    ember.manual_seed(5)
    ember.rand(1)
    s, e = transforms.RandomPerspective.get_params(16, 12, 0.5)
    np.testing.assert_array_equal(out.numpy(), F.perspective(img, s, e, fill=[0.0, 0.0, 0.0]).numpy())
    assert transforms.RandomPerspective(p=0.0)(img) is img
    with pytest.raises(ValueError, match="distortion_scale"):
        transforms.RandomPerspective(distortion_scale=1.5)
