"""``axis=`` / ``keepdims=`` are accepted for ``dim=`` / ``keepdim=`` where PyTorch's argument parser
accepts them (reductions, cat/stack, sort, squeeze, ...), as functions and as methods."""

import numpy as np
import pytest

import ember


def test_reductions_accept_axis_and_keepdims():
    t = ember.arange(6.0).reshape(2, 3)
    n = t.numpy()
    assert ember.sum(t, axis=0, keepdims=True).shape == (1, 3)
    np.testing.assert_allclose(t.mean(axis=1).numpy(), n.mean(axis=1))
    np.testing.assert_allclose(t.std(axis=0).numpy(), n.std(axis=0, ddof=1), rtol=1e-6)
    np.testing.assert_array_equal(t.max(axis=1).values.numpy(), n.max(axis=1))
    np.testing.assert_array_equal(ember.amax(t, axis=0).numpy(), n.max(axis=0))
    np.testing.assert_array_equal(t.argmax(axis=1).numpy(), n.argmax(axis=1))
    np.testing.assert_array_equal(ember.cumsum(t, axis=1).numpy(), n.cumsum(axis=1))
    assert ember.logsumexp(t, axis=1, keepdims=True).shape == (2, 1)
    assert t.norm(axis=1).shape == (2,)


def test_joining_sorting_and_shape_functions_accept_axis():
    t = ember.arange(6.0).reshape(2, 3)
    assert ember.cat([t, t], axis=0).shape == (4, 3)
    assert ember.stack([t, t], axis=2).shape == (2, 3, 2)
    assert t.sort(axis=0, descending=True).values[0, 0].item() == 3.0
    assert t.unsqueeze(axis=0).shape == (1, 2, 3)
    assert ember.ones(2, 1).squeeze(axis=1).shape == (2,)


def test_both_names_is_an_error():
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.sum(ember.ones(2), dim=0, axis=0)
