"""``ember/ops/selection.py``: dtype promotion of where/clamp, errors, PyTorch's gradients at ties and
bounds, exactness of lerp, in-place forms. Expected values were recorded from PyTorch 2.13 (CPU)."""

import math

import ember
import numpy as np
import pytest

NAN = math.nan


def t(values, dtype=None, device="cpu", requires_grad=False):
    return ember.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def vals(x):
    return x.detach().cpu().numpy().tolist()


COND = [True, False]


# ---- where --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, dtype",
    [
        (1, 2.0, ember.float32), (1, 2, ember.int64), (True, False, ember.bool),
        (t([1, 2]), 2.5, ember.float32), (t([1.0, 2.0]), t([1.0, 2.0], dtype=ember.float64), ember.float64),
        (t([1.0, 2.0]), t(1.0, dtype=ember.float64), ember.float32), (t([1, 2]), t(1.5, dtype=ember.float64), ember.float64),
    ],
)
def test_where_dtype_promotion(a, b, dtype):
    out = ember.where(t(COND), a, b)
    assert out.dtype == dtype and out.shape == (2,)


def test_where_values_broadcast_and_method(device):
    c = t([[True, False, True]], device=device)
    x = t([[1.0], [2.0]], device=device)
    out = ember.where(c, x, -1.0)
    assert vals(out) == [[1.0, -1.0, 1.0], [2.0, -1.0, 2.0]]
    assert vals(x.where(c, t([7.0, 8.0, 9.0], device=device))) == [[1.0, 8.0, 1.0], [2.0, 8.0, 2.0]]
    assert vals(ember.where(t(True), 1.0, 2.0)) == 1.0


def test_where_condition_must_be_bool():
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but got a tensor with dtype Long"):
        ember.where(t([1, 0]), t([1.0, 2.0]), 0.0)


def test_where_gradients_flow_to_the_chosen_side():
    a = t([1.0, 2.0, 3.0], requires_grad=True)
    b = t([4.0], requires_grad=True)
    ember.where(t([True, False, True]), a, b).sum().backward()
    assert vals(a.grad) == [1.0, 0.0, 1.0] and vals(b.grad) == [1.0]


def test_where_large_matches_numpy():
    rng = np.random.default_rng(0)
    c = rng.random((100, 100)) > 0.5
    a = rng.standard_normal((100, 100))
    a[0, :3] = [NAN, -0.0, np.inf]
    out = ember.where(t(c), t(a), t(-2.5, dtype=ember.float64)).numpy()
    expected = np.where(c, a, -2.5)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))  # -0.0 kept


def test_where_with_condition_only_is_nonzero():
    if not hasattr(ember, "nonzero"):
        pytest.skip("ember.nonzero (ops/indexing.py) is not implemented yet")
    rows, cols = ember.where(t([[True, False], [False, True]]))
    assert vals(rows) == [0, 1] and vals(cols) == [0, 1]


def test_zero_dim_operands():
    x = t(0.7, requires_grad=True)
    y = t(2.0, requires_grad=True)
    for out in (ember.where(t(True), x, y), ember.clamp(x, 0, 0.5), ember.clamp(t(3), max=t(1)), ember.lerp(x, y, 0.3),
                ember.addcmul(x, x, y), ember.addcdiv(x, x, y), ember.maximum(x, y), ember.copysign(x, -1.0),
                ember.where(t(True), 1, 2.0)):
        assert out.shape == () and isinstance(out._data, np.ndarray)


# ---- clamp --------------------------------------------------------------------------------------


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="torch.clamp: At least one of 'min' or 'max' must not be None"):
        ember.clamp(t([1.0]))


def test_clamp_values_and_dtypes(device):
    x = t([1, 2, 3], device=device)
    out = ember.clamp(x, min=1.5)
    assert out.dtype == ember.float32 and vals(out) == [1.5, 2.0, 3.0]
    out = ember.clamp(t([1, 2]), min=t([2, 0]))
    assert out.dtype == ember.int64 and vals(out) == [2, 2]
    out = ember.clamp(t([1.5, -2.5]), min=t([0.0, 0.0], dtype=ember.float64))
    assert out.dtype == ember.float64 and vals(out) == [1.5, 0.0]
    out = ember.clamp(t([True, False]), min=0)
    assert out.dtype == ember.int64 and vals(out) == [1, 0]
    assert vals(ember.clip(t([-5.0, 0.5, 5.0]), -1, 1)) == [-1.0, 0.5, 1.0]
    assert vals(t([-5.0, 5.0]).clamp_max(0.0)) == [-5.0, 0.0]
    assert vals(ember.clamp_min(t([-5.0, 5.0]), 0.0)) == [0.0, 5.0]


@pytest.mark.parametrize("n", [4, 10000])
def test_clamp_min_above_max_and_nan(n):
    x = np.linspace(-2, 2, n).astype(np.float32)
    x[1] = np.nan
    out = ember.clamp(t(x), min=1.0, max=0.0).numpy()
    assert np.isnan(out[1]) and (np.delete(out, 1) == 0.0).all()
    assert np.isnan(ember.clamp(t([0.5]), min=NAN).numpy()).all()


def test_clamp_gradient_is_inclusive_at_the_bounds():
    x = t([0.0, 1.0, 2.0, 3.0, 4.0], requires_grad=True)
    ember.clamp(x, 1.0, 3.0).sum().backward()
    assert vals(x.grad) == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_clamp_tensor_bound_gradients():
    x = t([0.0, 1.0, 2.0, 3.0, 5.0], requires_grad=True)
    lo = t([0.5, 0.5, 2.5, 3.0, 1.0], requires_grad=True)
    hi = t([1.0, 0.8, 2.0, 4.0, 4.0], requires_grad=True)
    y = ember.clamp(x, lo, hi)
    assert vals(y) == pytest.approx([0.5, 0.8, 2.0, 3.0, 4.0])
    y.sum().backward()
    assert vals(x.grad) == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert vals(lo.grad) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert vals(hi.grad) == [0.0, 1.0, 1.0, 0.0, 1.0]
    x = t([0.0, 1.0, 2.0], requires_grad=True)
    lo = t([0.5, 1.0, 1.0], requires_grad=True)
    ember.clamp(x, min=lo).sum().backward()
    assert vals(x.grad) == [0.0, 1.0, 1.0] and vals(lo.grad) == [1.0, 0.0, 0.0]
    x = t([0.0, 1.0, 2.0], requires_grad=True)
    hi = t([0.5, 1.0, 1.0], requires_grad=True)
    ember.clamp(x, max=hi).sum().backward()
    assert vals(x.grad) == [1.0, 1.0, 0.0] and vals(hi.grad) == [0.0, 0.0, 1.0]


def test_clamp_inplace():
    x = t([-2.0, 0.5, 2.0])
    assert x.clamp_(-1, 1) is x and vals(x) == [-1.0, 0.5, 1.0]
    assert vals(ember.clamp_(t([5.0]), max=2.0)) == [2.0]
    y = t([-3.0, 3.0])
    y.clip_(min=0.0).clamp_max_(1.0).clamp_min_(0.5)
    assert vals(y) == [0.5, 1.0]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        t([1, 2]).clamp_(min=1.5)


# ---- maximum / minimum / fmax / fmin ------------------------------------------------------------

A = [1.0, 2.0, NAN, 1.0]
B = [1.0, 3.0, 1.0, NAN]


@pytest.mark.parametrize(
    "fn, out, ga, gb",
    [
        (ember.maximum, [1.0, 3.0, NAN, NAN], [0.5, 0.0, 1.0, 1.0], [0.5, 1.0, 1.0, 1.0]),
        (ember.minimum, [1.0, 2.0, NAN, NAN], [0.5, 1.0, 1.0, 1.0], [0.5, 0.0, 1.0, 1.0]),
        (ember.fmax, [1.0, 3.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]),
        (ember.fmin, [1.0, 2.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]),
    ],
)
def test_extremum_values_ties_and_nan(fn, out, ga, gb):
    a, b = t(A, requires_grad=True), t(B, requires_grad=True)
    y = fn(a, b)
    np.testing.assert_array_equal(y.detach().numpy(), np.array(out, dtype=np.float32))
    y.sum().backward()
    assert vals(a.grad) == ga and vals(b.grad) == gb


def test_extremum_dtypes_and_errors():
    assert ember.maximum(t([1, 2]), t([1.5, 0.5])).dtype == ember.float32
    assert vals(ember.fmax(t([1, 2]), t([3, -4]))) == [3, 2]
    assert ember.fmax(t([1.0]), t([1.0], dtype=ember.float64)).dtype == ember.float64
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not float"):
        ember.maximum(t([1.0]), 2.0)
    with pytest.raises(TypeError, match=r"minimum\(\): argument 'input' \(position 1\) must be Tensor, not float"):
        ember.minimum(2.0, t([1.0]))
    assert vals(t([1.0, 5.0]).maximum(t([3.0, 3.0]))) == [3.0, 5.0]


# ---- lerp / addcmul / addcdiv -------------------------------------------------------------------


def test_lerp_is_exact_at_the_ends():
    a, b = t([0.1, -3.3]), t([7.7, 1e-8])
    assert vals(ember.lerp(a, b, 1.0)) == vals(b)
    assert vals(ember.lerp(a, b, 0.0)) == vals(a)
    assert vals(ember.lerp(a, b, t([1.0, 0.0]))) == [vals(b)[0], vals(a)[1]]


def test_lerp_gradients():
    w = t([0.25, 0.75], requires_grad=True)
    a = t([1.0, 2.0], requires_grad=True)
    b = t([3.0, -2.0], requires_grad=True)
    ember.lerp(a, b, w).sum().backward()
    assert vals(a.grad) == [0.75, 0.25] and vals(b.grad) == [0.25, 0.75] and vals(w.grad) == [2.0, -4.0]


def test_lerp_dtype_errors():
    f = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        ember.lerp(f, f.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype double"):
        ember.lerp(f, f, f.double())
    with pytest.raises(NotImplementedError, match="\"lerp_kernel_scalar_cpu\" not implemented for 'Long'"):
        ember.lerp(t([1]), t([2]), 0.5)


def test_addcmul_addcdiv():
    assert vals(ember.addcmul(t([1.0, 2.0]), t([3.0, 4.0]), t([5.0, 6.0]), value=0.5)) == [8.5, 14.0]
    assert vals(ember.addcdiv(t([1.0, 2.0]), t([3.0, 4.0]), t([2.0, 8.0]), value=-2)) == [-2.0, 1.0]
    out = ember.addcmul(t([1, 2]), t([3, 4]), t([5, 6]), value=2)
    assert out.dtype == ember.int64 and vals(out) == [31, 50]
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        ember.addcdiv(t([1, 2]), t([1, 2]), t([1, 2]))
    x = t([1.0, 1.0])
    assert x.addcmul_(t([2.0, 3.0]), t([2.0, 2.0])) is x and vals(x) == [5.0, 7.0]
    x.addcdiv_(t([1.0, 1.0]), t([2.0, 4.0]), value=4)
    assert vals(x) == [7.0, 8.0]


# ---- copysign / heaviside -----------------------------------------------------------------------


def test_copysign_values_and_gradient():
    out = ember.copysign(t([1.0, -2.0, 0.0, -0.0, 3.0]), t([-1.0, 1.0, -1.0, 1.0, -0.0])).numpy()
    assert out.tolist() == [-1.0, 2.0, 0.0, 0.0, -3.0]
    assert np.signbit(out).tolist() == [True, False, True, False, True]
    assert ember.copysign(t([1, 2]), -1).dtype == ember.float32
    x = t([1.0, 2.0, -3.0, 0.0], requires_grad=True)
    ember.copysign(x, -1.0).sum().backward()
    assert vals(x.grad) == [-1.0, -1.0, 1.0, 0.0]


def test_heaviside():
    out = ember.heaviside(t([NAN, 0.0, -1.0, 2.0]), t([0.5]))
    assert vals(out) == [0.0, 0.5, 0.0, 1.0]
    assert vals(ember.heaviside(t([-2, 0, 3]), t([7, 7, 7]))) == [0, 7, 1]
    with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with different dtypes."):
        ember.heaviside(t([1.0]), t([1]))
    x = t([-1.0, 0.0])
    assert x.heaviside_(t([0.25])) is x and vals(x) == [0.0, 0.25]


# ---- live comparison with PyTorch (tox -e parity) ---------------------------------------------------

PARITY_BINARY = ["maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "xlogy", "copysign", "remainder", "fmod"]


@pytest.mark.parity
@pytest.mark.parametrize("name", PARITY_BINARY)
def test_binary_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.uniform(-3, 3, (4, 5))
    b = rng.uniform(0.5, 3, (5,)) * rng.choice([-1.0, 1.0], (5,))
    if name == "xlogy":
        b = np.abs(b)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ey, ty = getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb)
    np.testing.assert_allclose(vals(ey), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    ey.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(vals(ea.grad), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    if tb.grad is not None:
        np.testing.assert_allclose(vals(eb.grad), tb.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parity
def test_clamp_and_where_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, lo, hi = rng.uniform(-3, 3, (4, 5)), rng.uniform(-2, 0, (5,)), rng.uniform(-1, 2, (4, 1))
    ex, elo, ehi = (ember.tensor(v, requires_grad=True) for v in (x, lo, hi))
    tx, tlo, thi = (torch.tensor(v, requires_grad=True) for v in (x, lo, hi))
    (ember.clamp(ex, elo, ehi) * ember.where(ex > 0, ex, 0.5)).sum().backward()
    (torch.clamp(tx, tlo, thi) * torch.where(tx > 0, tx, 0.5)).sum().backward()
    for e, tt in ((ex, tx), (elo, tlo), (ehi, thi)):
        np.testing.assert_allclose(vals(e.grad), tt.grad.numpy(), rtol=1e-12)


# ---- copysign's gradient: grad * result / input (0 where input == 0), so nan at an infinite input ---------


def test_copysign_grad_is_nan_at_inf():
    x = t([1.77, -1.02, -math.inf, 0.0, math.inf], dtype=ember.float64, requires_grad=True)
    y = t([2.0, 0.5, -1.0, -3.0, -2.26], dtype=ember.float64, requires_grad=True)
    ember.copysign(x, y).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [1.0, -1.0, NAN, 0.0, NAN])
    assert vals(y.grad) == [0.0] * 5


def test_copysign_gradcheck():
    from ember.autograd import gradcheck

    x = t([1.77, -1.02, 0.3], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a: ember.copysign(a, t([-2.0, -0.5, 1.0], dtype=ember.float64)), (x,))
