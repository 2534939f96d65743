"""cdist's compute modes: p = 2 through one matrix product (PyTorch's mm modes, taken by default from 26
rows), else the broadcast differences; both against the explicit distances, PyTorch's errors, gradients
(0 where a distance is 0, as PyTorch's)."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.ops import distance

MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]


def _explicit(a, b, p):
    return (np.abs(a[..., :, None, :] - b[..., None, :, :]) ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", [((30, 5), (40, 5)), ((2, 30, 5), (40, 5)), ((3, 1, 27, 4), (2, 26, 4)),
                                    ((10, 3), (12, 3))])
def test_values_in_every_mode(mode, shapes):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    got = ember.cdist(ember.tensor(a), ember.tensor(b), compute_mode=mode)
    np.testing.assert_allclose(got.numpy(), _explicit(a, b, 2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ember.cdist(ember.tensor(a), ember.tensor(b), p=1.5, compute_mode=mode).numpy(),
                               _explicit(a, b, 1.5), rtol=1e-10)


def test_the_matrix_product_path_is_taken_from_26_rows(monkeypatch):
    calls = []
    apply = distance._EuclideanDist.apply
    monkeypatch.setattr(distance._EuclideanDist, "apply", lambda *args: calls.append(1) or apply(*args))
    small, big = ember.randn(25, 3), ember.randn(26, 3)
    ember.cdist(small, small)
    assert not calls
    ember.cdist(small, big)
    ember.cdist(small, small, compute_mode="use_mm_for_euclid_dist")
    assert len(calls) == 2
    ember.cdist(big, big, compute_mode="donot_use_mm_for_euclid_dist")
    ember.cdist(big, big, p=1.0)
    assert len(calls) == 2


def test_errors():
    a = ember.randn(3, 2)
    with pytest.raises(ValueError, match="bad is not a valid value for compute_mode"):
        ember.cdist(a, a, compute_mode="bad")
    with pytest.raises(RuntimeError, match="cdist only supports non-negative p values"):
        ember.cdist(a, a, p=-1)
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. X1: 2 X2: 3"):
        ember.cdist(a, ember.randn(3, 3))


def test_gradients_of_the_matrix_product_path():
    rng = np.random.default_rng(1)
    a = ember.tensor(rng.standard_normal((2, 27, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((30, 4)), requires_grad=True)
    assert gradcheck(lambda u, v: ember.cdist(u, v), (a, b))


def test_zero_distances_have_a_zero_gradient():
    x = ember.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]] * 10, dtype=ember.float64, requires_grad=True)
    d = ember.cdist(x, ember.tensor([[1.0, 2.0]] * 30, dtype=ember.float64))
    assert (d.detach().numpy()[0::3] == 0).all()
    d.sum().backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all() and (g[0::3] == 0).all() and (g[1::3] == 0).all()
    np.testing.assert_allclose(g[2::3], np.full((10, 2), -30 * np.array([1.0, 2.0]) / np.sqrt(5.0)), rtol=1e-12)
