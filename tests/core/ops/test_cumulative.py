"""``ember/ops/cumulative.py`` (and cumsum/cumprod): a 0-d input takes dim 0 or -1 only, with PyTorch's
IndexError, for every cumulative op alike."""

import ember
import pytest


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("dim", [-2, 1, 2])
def test_0d_dim_out_of_range(name, dim):
    with pytest.raises(IndexError, match=rf"Dimension out of range \(expected to be in range of \[-1, 0\], but got {dim}\)"):
        getattr(ember, name)(ember.tensor(2.0, dtype=ember.float64), dim=dim)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("dim", [0, -1])
def test_0d_valid_dim_gives_0d(name, dim):
    out = getattr(ember, name)(ember.tensor(0.5, dtype=ember.float64), dim=dim)
    assert out.shape == () and float(out) == 0.5
