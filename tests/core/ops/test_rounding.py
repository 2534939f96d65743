"""``ember/ops/rounding.py``: rounding modes, division semantics by sign and dtype, errors, operators and
in-place forms, gradients. Expected values were recorded from PyTorch 2.13 (CPU)."""

import math

import ember
import numpy as np
import pytest


def t(values, dtype=None, device="cpu", requires_grad=False):
    return ember.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def vals(x):
    return x.detach().cpu().numpy().tolist()


# ---- rounding -----------------------------------------------------------------------------------


def test_round_half_to_even(device):
    out = ember.round(t([0.5, 1.5, 2.5, -0.5, -1.5, 2.4], device=device))
    assert vals(out) == [0.0, 2.0, 2.0, -0.0, -2.0, 2.0]
    assert np.signbit(out.cpu().numpy()[3])


def test_round_decimals():
    np.testing.assert_allclose(vals(ember.round(t([1.2345, 2.5, 0.125]), decimals=2)), [1.23, 2.5, 0.12], rtol=1e-6)
    assert vals(ember.round(t([1234.5, 1250.0, -1350.0]), decimals=-2)) == [1200.0, 1200.0, -1400.0]
    assert vals(t([0.25, 0.35]).round(decimals=1)) == pytest.approx([0.2, 0.4])


def test_floor_ceil_trunc_fix():
    x = t([-1.5, -0.5, 0.5, 1.5])
    assert vals(ember.floor(x)) == [-2.0, -1.0, 0.0, 1.0]
    assert vals(ember.ceil(x)) == [-1.0, -0.0, 1.0, 2.0]
    assert vals(ember.trunc(x)) == [-1.0, -0.0, 0.0, 1.0]
    assert ember.fix is ember.trunc
    assert vals(x.fix()) == vals(x.trunc())


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
def test_integer_inputs_are_returned_as_a_copy(name):
    x = t([-3, 4], dtype=ember.int32)
    out = getattr(ember, name)(x)
    assert out.dtype == ember.int32 and vals(out) == [-3, 4]
    out.add_(1)
    assert vals(x) == [-3, 4]


def test_rounding_errors():
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        ember.floor(t([True]))
    with pytest.raises(NotImplementedError, match="\"round_cpu\" not implemented for 'Long'"):
        ember.round(t([15, 25]), decimals=-1)


def test_rounding_has_zero_gradient():
    x = t([0.3, 1.7], requires_grad=True)
    (ember.floor(x) + ember.ceil(x) + ember.round(x) + ember.round(x, decimals=1) + ember.trunc(x)).sum().backward()
    assert vals(x.grad) == [0.0, 0.0]


# ---- floor division -----------------------------------------------------------------------------


def test_integer_floor_division_rounds_down(device):
    a = t([-7, 7, -7, 7], device=device)
    b = t([2, 2, -2, -2], device=device)
    assert vals(a // b) == [-4, 3, 3, -4]
    assert (a // b).dtype == ember.int64
    assert vals(ember.floor_divide(a, 2)) == [-4, 3, -4, 3]


def test_float_floor_division():
    assert vals(t([-7.0, 7.0]) // 2) == [-4.0, 3.0]
    assert vals(t([-0.5, 0.5]) // 1.0) == [-1.0, 0.0]
    out = vals(t([5.0, -5.0, math.inf]) // math.inf)
    assert out[:2] == [0.0, -1.0] and math.isnan(out[2])
    out = vals(t([1.0, -1.0, 0.0]) // 0.0)
    assert out[:2] == [math.inf, -math.inf] and math.isnan(out[2])


def test_mixed_dtypes_promote():
    out = t([5, 3]) // 2.5
    assert out.dtype == ember.float32 and vals(out) == [2.0, 1.0]
    out = t([5, 3]) % 2.5
    assert out.dtype == ember.float32 and vals(out) == [0.0, 0.5]


def test_reflected_operators():
    assert vals(7 // t([2, -2])) == [3, -4]
    assert vals(7 % t([2, -2])) == [1, -1]
    out = 7.5 % t([2, -2])
    assert out.dtype == ember.float32 and vals(out) == [1.5, -0.5]


def test_integer_division_by_zero_raises():
    for fn in (ember.floor_divide, ember.remainder, ember.fmod):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(t([1, 2]), t([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        t([1]) // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ember.div(t([1]), 0, rounding_mode="trunc")


def test_float_division_by_zero_gives_nan():
    assert all(math.isnan(v) for v in vals(t([1.0, -1.0, 0.0]) % 0.0))
    assert all(math.isnan(v) for v in vals(ember.fmod(t([1.0, -1.0]), 0.0)))
    assert all(math.isnan(v) for v in vals(t([1, 2]) % 0.0))


def test_bool_division_is_not_implemented():
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        t([True]) // t([True])
    with pytest.raises(NotImplementedError, match="\"remainder_cpu\" not implemented for 'Bool'"):
        t([True]) % t([True])


def test_int64_min_divided_by_minus_one_wraps():
    assert vals(t([-(2**63)]) // -1) == [-(2**63)]


def test_div_rounding_modes():
    assert vals(ember.div(t([-7, 7]), t([2, 2]), rounding_mode="trunc")) == [-3, 3]
    assert ember.div(t([-7, 7]), 2, rounding_mode="trunc").dtype == ember.int64
    assert vals(ember.div(t([-7.5, 7.5]), 2, rounding_mode="trunc")) == [-3.0, 3.0]
    assert vals(ember.div(t([-7, 7]), 2, rounding_mode="floor")) == [-4, 3]
    assert vals(ember.div(t([-(2**62) - 1]), 3, rounding_mode="trunc")) == [-1537228672809129301]  # exact, not via float


# ---- remainder / fmod ---------------------------------------------------------------------------


def test_remainder_takes_the_sign_of_the_divisor():
    assert vals(t([-7, 7]) % 3) == [2, 1]
    assert vals(ember.remainder(t([-7, 7]), t([2, -2]))) == [1, -1]
    assert vals(t([-7.0, 7.0]) % -3) == [-1.0, -2.0]
    assert vals(ember.remainder(5, t([2.0, -3.0]))) == [1.0, -1.0]


def test_remainder_signed_zero_and_infinite_divisor():
    out = ember.remainder(t([-4.0, 4.0]), t([2.0, -2.0])).numpy()
    assert out.tolist() == [0.0, 0.0] and np.signbit(out).tolist() == [True, False]
    assert vals(ember.remainder(t([5.0, -5.0]), math.inf)) == [5.0, math.inf]


def test_fmod_takes_the_sign_of_the_dividend():
    assert vals(ember.fmod(t([-7.0, 7.0]), -3)) == [-1.0, 1.0]
    assert vals(ember.fmod(t([-7, 7]), t([2, -2]))) == [-1, 1]
    assert vals(t([1, 2]).fmod(1.5)) == [1.0, 0.5]


def test_remainder_and_fmod_gradients():
    a = t([7.0, -7.0, 5.5], dtype=ember.float64, requires_grad=True)
    b = t([2.0, 2.0, -2.0], dtype=ember.float64, requires_grad=True)
    ember.remainder(a, b).sum().backward()
    assert vals(a.grad) == [1.0, 1.0, 1.0]
    assert vals(b.grad) == [-3.0, 4.0, 3.0]  # -floor(a / b)
    a.grad = b.grad = None
    ember.fmod(a, b).sum().backward()
    assert vals(a.grad) == [1.0, 1.0, 1.0]
    assert vals(b.grad) == [-3.0, 3.0, 2.0]  # -trunc(a / b)


def test_floor_divide_gradient_is_zero():
    a = t([7.0, -7.0], requires_grad=True)
    (a // 2).sum().backward()
    assert vals(a.grad) == [0.0, 0.0]


# ---- in-place and methods -----------------------------------------------------------------------


def test_inplace_operators_and_methods():
    x = t([-7, 7])
    y = x
    x //= 2
    assert x is y and vals(x) == [-4, 3]
    x %= 3
    assert x is y and vals(x) == [2, 0]
    f = t([1.26, -2.5])
    assert f.round_(decimals=1) is f
    assert vals(f) == pytest.approx([1.3, -2.5])
    f.floor_()
    assert vals(f) == [1.0, -3.0]
    g = t([-1.7, 1.7])
    g.fix_()
    assert vals(g) == [-1.0, 1.0]
    assert vals(t([5.0, 7.0]).remainder_(4)) == [1.0, 3.0]
    assert vals(t([-5.0, 7.0]).fmod_(4)) == [-1.0, 3.0]
    assert vals(t([5, 7]).floor_divide_(2)) == [2, 3]


def test_inplace_int_with_float_divisor_fails():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        x = t([5, 7])
        x //= 2.5
