"""The tensor ops of binary_math.py, cumulative.py, statistics.py and structure.py against values and
gradients recorded from torch (fixtures/tensor_ops_ref.npz, cases in tensor_ops_cases.py), float64
gradchecks, dtypes and PyTorch's errors."""

import pathlib

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

from .tensor_ops_cases import CASES

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "tensor_ops_ref.npz")


def _inputs(name, grad):
    arrays = [REF[f"{name}.in{i}"] for i in range(len(CASES[name][1]))]
    return [ember.tensor(a, requires_grad=bool(grad and a.dtype == np.float64)) for a in arrays]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, _, grads = CASES[name]
    ts = _inputs(name, grads)
    y = fn(ember, *ts)
    want = REF[f"{name}.out"]
    assert tuple(y.shape) == want.shape
    assert y.detach().numpy().dtype == want.dtype, (y.dtype, want.dtype)
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10, atol=1e-12, equal_nan=True)
    if grads:
        ((y * ember.tensor(REF[f"{name}.go"])).sum()).backward()
        for i, t in enumerate(ts):
            if t.requires_grad:
                np.testing.assert_allclose(t.grad.numpy(), REF[f"{name}.grad{i}"], rtol=1e-10, atol=1e-12)


# (ties are kinks: their gradient is compared with torch's recorded one above, not with finite differences)
GRADCHECK = [n for n, (_, _, g) in CASES.items() if g and n != "index_reduce_ties"] + ["vander", "vander_inc"]


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    fn = CASES[name][0]
    ts = _inputs(name, True)
    if name in ("vander", "vander_inc"):
        ts = [ember.tensor(REF[f"{name}.in0"], requires_grad=True)]
    if name in ("cummax_v", "cummin_v"):  # the recorded input has ties, where finite differences break down
        ts = [ember.tensor(np.random.default_rng(3).standard_normal((2, 6)), requires_grad=True)]
    assert gradcheck(lambda *xs: fn(ember, *xs), tuple(ts), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_logcumsumexp_gradient_with_mixed_sign_upstream():
    x = ember.tensor(np.random.default_rng(1).standard_normal((4, 3)) * 5, requires_grad=True)
    assert gradcheck(lambda t: ember.logcumsumexp(t, 0) * ember.tensor([[1.0, -2.0, 0.5]]), (x,))


def test_methods_and_aliases():
    x = ember.tensor([[1.0, 3.0, 2.0], [0.0, -1.0, 4.0]])
    assert ember.equal(x.cummax(1).values, ember.cummax(x, 1)[0])
    assert ember.equal(x.diff(), ember.diff(x))
    assert ember.equal(x.logaddexp(x), ember.logaddexp(x, x))
    assert ember.equal(x.kron(x), ember.kron(x, x))
    assert ember.equal(x.rot90(), ember.rot90(x))
    assert ember.equal(x.trapz if False else ember.trapz(x), ember.trapezoid(x))
    assert x.quantile(0.5).item() == pytest.approx(1.5)
    assert x.nanquantile(0.5).item() == pytest.approx(1.5)
    assert x.nanmedian().item() == 1.0
    assert ember.equal(x.isin(ember.tensor([1.0, 4.0])), ember.tensor([[True, False, False], [False, False, True]]))
    assert ember.equal(ember.tensor([0, 1, 1]).bincount(), ember.tensor([1, 2]))
    assert x.histc(bins=4).dtype == ember.float32
    p = ember.zeros(4).put(ember.tensor([1, 3]), ember.tensor([5.0, 6.0]))
    assert p.tolist() == [0.0, 5.0, 0.0, 6.0]
    m, e = ember.tensor([8.0]).frexp()
    assert (m.item(), e.item(), e.dtype) == (0.5, 4, ember.int32)
    assert ember.cummax(x, 1).__class__.__name__ == "cummax"
    assert ember.tensor(3.0).cummax(0).values.item() == 3.0


def test_index_reduce_errors_and_inplace():
    x = ember.ones(3, 2)
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin but got sum"):
        x.index_reduce(0, ember.tensor([0]), ember.ones(1, 2), "sum")
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index but got: Float"):
        x.index_reduce(0, ember.tensor([0.0]), ember.ones(1, 2), "prod")
    x.index_reduce_(0, ember.tensor([2, 2]), ember.tensor([[2.0, 3.0], [4.0, 5.0]]), "prod")
    assert x.tolist() == [[1.0, 1.0], [1.0, 1.0], [8.0, 15.0]]
    assert ember.index_reduce(ember.zeros(2), 0, ember.tensor([1]), ember.tensor([3.0]), "amax").tolist() == [0.0, 3.0]


def test_dtypes():
    i = ember.tensor([1, 2, 3])
    assert ember.ldexp(i, ember.tensor([1, 1, 1])).dtype == ember.float32
    assert ember.vander(i).dtype == ember.int64
    assert ember.bincount(i).dtype == ember.int64
    assert ember.bincount(i, weights=ember.tensor([1.0, 2.0, 3.0])).dtype == ember.float32
    assert ember.bincount(i, weights=ember.tensor([1, 2, 3])).dtype == ember.float64
    assert ember.cov(i.reshape(1, 3)).dtype == ember.float32
    assert ember.block_diag(ember.tensor([1]), ember.tensor([2.0])).dtype == ember.float32
    assert ember.kron(i, ember.tensor([1.0])).dtype == ember.float32
    assert ember.cummax(i, 0).values.dtype == ember.int64
    assert ember.combinations(i, 0).shape == (0,) and ember.combinations(i, 4).shape == (0, 4)
    assert ember.vander(ember.tensor([1.0, 2.0]), N=0).shape == (2, 0)


ERRORS = [
    (lambda: ember.logaddexp(ember.tensor([1]), ember.tensor([2])), NotImplementedError,
     "\"logaddexp_cpu\" not implemented for 'Long'"),
    (lambda: ember.frexp(ember.tensor([1])), RuntimeError, "torch.frexp() only supports floating-point dtypes"),
    (lambda: ember.nextafter(ember.tensor([1]), ember.tensor([2])), NotImplementedError, "nextafter_cpu"),
    (lambda: ember.histc(ember.tensor([1, 2])), NotImplementedError, "\"histogram_cpu\" not implemented for 'Long'"),
    (lambda: ember.histc(ember.ones(3), bins=0), RuntimeError, "bins must be > 0, but got 0 for dimension 0"),
    (lambda: ember.histc(ember.ones(3), min=2, max=1), RuntimeError, "torch.histc: max must be larger than min"),
    (lambda: ember.bincount(ember.tensor([-1])), RuntimeError, "bincount only supports 1-d non-negative integral"),
    (lambda: ember.bincount(ember.tensor([[1]])), RuntimeError, "bincount only supports 1-d non-negative integral"),
    (lambda: ember.bincount(ember.tensor([1.0])), NotImplementedError, "\"bincount_cpu\" not implemented for 'Float'"),
    (lambda: ember.quantile(ember.tensor([1.0]), 1.5), RuntimeError, "quantile() q must be in the range [0, 1] but got 1.5"),
    (lambda: ember.quantile(ember.tensor([1]), 0.5), RuntimeError, "quantile() input tensor must be either float or double"),
    (lambda: ember.quantile(ember.tensor([1.0]), 0.5, interpolation="foo"), RuntimeError,
     "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got foo"),
    (lambda: ember.quantile(ember.tensor([]), 0.5), RuntimeError, "quantile() input tensor must be non-empty"),
    (lambda: ember.diff(ember.tensor(1.0)), RuntimeError, "diff expects input to be at least one-dimensional"),
    (lambda: ember.rot90(ember.ones(2, 2), 1, [0, 0]), RuntimeError,
     "expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"),
    (lambda: ember.rot90(ember.ones(2), 1, [0, 1]), RuntimeError, "expected total dims >= 2, but got total dims = 1"),
    (lambda: ember.cov(ember.ones(2, 2, 2)), RuntimeError,
     "cov(): expected input to have two or fewer dimensions but got an input with 3 dimensions"),
    (lambda: ember.vander(ember.ones(2, 2)), RuntimeError, "x must be a one-dimensional tensor."),
    (lambda: ember.combinations(ember.ones(2, 2)), RuntimeError, "Expect a 1D vector, but got shape [2, 2]"),
    (lambda: ember.cartesian_prod(ember.ones(2, 2)), RuntimeError, "Expect a 1D vector, but got shape [2, 2]"),
    (lambda: ember.logcumsumexp(ember.tensor([1, 2]), 0), NotImplementedError,
     "\"logcumsumexp_out_cpu\" not implemented for 'Long'"),
    (lambda: ember.as_strided(ember.ones(4), (3,), (2,)), RuntimeError, "out of bounds for storage of size 16"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors(fn, exc, msg):
    with pytest.raises(exc) as info:
        fn()
    assert msg in str(info.value)


def test_nanmedian_all_nan_and_empty_slices():
    x = ember.tensor([[float("nan")] * 3, [1.0, float("nan"), 2.0]])
    v = ember.nanmedian(x, 1).values
    assert np.isnan(v[0].item()) and v[1].item() == 1.0
    assert np.isnan(ember.nanmedian(ember.tensor([float("nan")])).item())
    assert ember.cummax(ember.ones(2, 0), 1).values.shape == (2, 0)
    assert ember.trapezoid(ember.ones(3, 0)).tolist() == [0.0, 0.0, 0.0]
