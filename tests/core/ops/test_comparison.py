"""``ember/ops/comparison.py``: comparisons in the promoted dtype, operators, logical and bitwise ops,
floating-point class tests, isclose/allclose/equal. Expected values were recorded from PyTorch 2.13."""

import math

import ember
import numpy as np
import pytest

NAN, INF = math.nan, math.inf


def t(values, dtype=None, device="cpu", requires_grad=False):
    return ember.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def vals(x):
    return x.cpu().numpy().tolist()


# ---- comparisons --------------------------------------------------------------------------------

CMP = [("eq", [False, True, False]), ("ne", [True, False, True]), ("lt", [True, False, False]),
       ("le", [True, True, False]), ("gt", [False, False, True]), ("ge", [False, True, True])]


@pytest.mark.parametrize("name, expected", CMP)
def test_comparisons(name, expected, device):
    a = t([1.0, 2.0, 3.0], device=device)
    b = t([2.0, 2.0, 2.0], device=device)
    out = getattr(ember, name)(a, b)
    assert out.dtype == ember.bool and vals(out) == expected
    assert vals(getattr(a, name)(2)) == expected
    assert vals(getattr(a, name + "_")(b)) == [float(v) for v in expected]  # in place: self's dtype


def test_operators_and_aliases():
    a = t([1, 2, 3])
    assert vals(a == 2) == [False, True, False]
    assert vals(a != 2) == [True, False, True]
    assert vals(a < 2) == [True, False, False]
    assert vals(a <= 2) == [True, True, False]
    assert vals(a > 2) == [False, False, True]
    assert vals(a >= 2) == [False, True, True]
    assert vals(1 < t([0, 1, 2])) == [False, False, True]  # reflected: t > 1
    assert vals(2 == t([2, 3])) == [True, False]
    assert ember.greater is ember.gt and ember.less_equal is ember.le and ember.not_equal is ember.ne
    assert vals(a.greater_equal(2)) == vals(a >= 2)


def test_compared_in_the_promoted_dtype():
    big = t([16777217])  # not representable in float32
    assert vals(big == 16777216.0) == [True]
    assert vals(big == t([16777216.0])) == [True]
    assert vals(big == t([16777216])) == [False]
    assert vals(t([1, 2]) > 1.5) == [False, True]


def test_non_tensor_operands():
    a = t([1.0])
    assert (a == None) is False
    assert (a != None) is True
    assert (a == "x") is False
    with pytest.raises(TypeError):
        _ = a < None


def test_tensors_stay_hashable():
    a, b = t([1.0]), t([1.0])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2 and hash(a) != hash(b)


def test_comparison_results_carry_no_gradient():
    x = t([1.0, 2.0], requires_grad=True)
    out = x > 1
    assert not out.requires_grad and out.grad_fn is None and vals(out) == [False, True]


def test_out_argument():
    out = ember.empty(2, dtype=ember.bool)
    assert ember.lt(t([1, 3]), 2, out=out) is out and vals(out) == [True, False]


# ---- logical ------------------------------------------------------------------------------------


def test_logical_ops_use_truth_values():
    a = t([NAN, 0.0, 2.0])
    b = t([1, 1, 0])
    assert vals(ember.logical_and(a, b)) == [True, False, False]
    assert vals(ember.logical_or(a, b)) == [True, True, True]
    assert vals(ember.logical_xor(a, b)) == [False, True, True]
    assert vals(ember.logical_not(t([0.0, 2.0]))) == [True, False]
    assert ember.logical_and(a, b).dtype == ember.bool


def test_logical_inplace_keeps_dtype():
    x = t([1.0, 0.0])
    assert x.logical_and_(t([1.0, 1.0])) is x and vals(x) == [1.0, 0.0]
    y = t([0, 3])
    y.logical_not_()
    assert y.dtype == ember.int64 and vals(y) == [1, 0]


# ---- bitwise ------------------------------------------------------------------------------------


def test_bitwise_ops_and_operators():
    a, b = t([12, 10]), t([10, 6])
    assert vals(a & b) == [8, 2] and vals(ember.bitwise_and(a, b)) == [8, 2]
    assert vals(a | b) == [14, 14] and vals(a ^ b) == [6, 12]
    assert vals(3 & a) == [0, 2] and vals(1 | a) == [13, 11] and vals(5 ^ a) == [9, 15]
    assert vals(~t([0, 5], dtype=ember.int8)) == [-1, -6]
    assert vals(t([5, 3]) >> 1) == [2, 1]
    assert vals(t([5], dtype=ember.uint8) << 7) == [128]
    assert vals(1 << t([3])) == [8]


def test_bitwise_dtypes():
    m, n = t([True, False]), t([True, True])
    assert (m & n).dtype == ember.bool and vals(m ^ n) == [False, True]
    assert vals(~m) == [False, True]
    assert (m & True).dtype == ember.bool
    assert (m & 1).dtype == ember.int64 and vals(m & 1) == [1, 0]
    assert vals(t([True]) | 2) == [3]
    assert ember.bitwise_and(t([1, 2]), m).dtype == ember.int64


def test_bitwise_inplace():
    x = t([3, 1])
    y = x
    x &= 1
    assert x is y and vals(x) == [1, 1]
    x |= 4
    x ^= 1
    x <<= 1
    x >>= 2
    assert vals(x) == [2, 2]
    z = t([0, 5])
    z.bitwise_not_()
    assert vals(z) == [-1, -6]


def test_bitwise_errors_on_floats():
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        t([1.5]) & t([1.0])
    with pytest.raises(NotImplementedError, match="\"bitwise_not_cpu\" not implemented for 'Float'"):
        ember.bitwise_not(t([1.5]))
    with pytest.raises(TypeError, match="only implemented on integer and Boolean-type tensors"):
        ~t([1.5])
    with pytest.raises(NotImplementedError, match="lshift"):
        t([1.5]) << 1


# ---- floating-point class tests -----------------------------------------------------------------


def test_class_tests(device):
    x = t([NAN, INF, -INF, 1.0, -0.0], device=device)
    assert vals(ember.isnan(x)) == [True, False, False, False, False]
    assert vals(ember.isinf(x)) == [False, True, True, False, False]
    assert vals(ember.isposinf(x)) == [False, True, False, False, False]
    assert vals(ember.isneginf(x)) == [False, False, True, False, False]
    assert vals(ember.isfinite(x)) == [False, False, False, True, True]
    assert vals(ember.signbit(x)) == [False, False, True, False, True]
    assert vals(x.isnan()) == vals(ember.isnan(x))


def test_class_tests_on_integers():
    i = t([-1, 0, 2])
    assert vals(ember.isnan(i)) == [False] * 3 and vals(ember.isinf(i)) == [False] * 3
    assert vals(ember.isfinite(i)) == [True] * 3 and vals(ember.isposinf(i)) == [False] * 3
    assert vals(ember.signbit(i)) == [True, False, False]
    assert vals(ember.signbit(t([200], dtype=ember.uint8))) == [False]
    assert vals(ember.isnan(t([True]))) == [False]


def test_isreal():
    assert vals(ember.isreal(t([1.0, 2.0]))) == [True, True]
    assert vals(ember.isreal(t([1 + 0j, 1 + 1j]))) == [True, False]


# ---- closeness ----------------------------------------------------------------------------------


def test_isclose():
    a = t([1.0, INF, NAN, 1e-9, -INF])
    b = t([1.00001, INF, NAN, 0.0, INF])
    assert vals(ember.isclose(a, b)) == [False, True, False, True, False]
    assert vals(ember.isclose(a, b, equal_nan=True)) == [False, True, True, True, False]
    assert vals(ember.isclose(a, b, rtol=1e-4)) == [True, True, False, True, False]
    assert vals(ember.isclose(t([1, 2]), t([1, 3]))) == [True, False]
    assert vals(a.isclose(b, atol=0.0)) == [False, True, False, False, False]


def test_isclose_requires_one_dtype():
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        ember.isclose(t([1]), t([1.0]))
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        ember.allclose(t([1]), t([1.0]))


def test_allclose_and_equal():
    assert ember.allclose(t([1.0]), t([1.0 + 1e-6])) is True
    assert ember.allclose(t([1.0, 2.0]), t([1.0, 2.1])) is False
    assert ember.equal(t([1, 2]), t([1.0, 2.0])) is True
    assert ember.equal(t([1, 2]), t([1, 2, 3])) is False
    assert ember.equal(t([1.0, NAN]), t([1.0, NAN])) is False
    assert t([1, 2]).equal(t([1, 2])) is True


def test_large_inputs(device):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(10000).astype(np.float32)
    b = rng.standard_normal(10000).astype(np.float32)
    np.testing.assert_array_equal(vals(t(a, device=device) < t(b, device=device)), a < b)


def test_zero_dim_results_are_tensors_of_arrays():
    x = t(2.0)
    for out in (x == 2, x < 1, ember.isnan(x), ember.isposinf(x), ember.signbit(x), ember.isreal(t(1j)),
                ember.logical_not(x), ember.isclose(x, t(2.0)), ~t(5), t(5) & 3):
        assert out.shape == () and isinstance(out._data, np.ndarray)


def test_is_nonzero(device):
    assert ember.is_nonzero(t(1.5, device=device)) is True
    assert t([[0]], device=device).is_nonzero() is False
    assert ember.is_nonzero(t(NAN, device=device)) is True
    assert ember.is_nonzero(t(-0.0, device=device)) is False
    assert ember.is_nonzero(t([True], device=device)) is True
    assert ember.is_nonzero(t([1.0], requires_grad=True, device=device)) is True
    for empty in (t([], device=device), ember.empty(0, 3, device=device)):
        with pytest.raises(RuntimeError, match="^Boolean value of Tensor with no values is ambiguous$"):
            ember.is_nonzero(empty)
    with pytest.raises(RuntimeError, match="^Boolean value of Tensor with more than one value is ambiguous$"):
        t([1, 2], device=device).is_nonzero()
    with pytest.raises(TypeError, match=r"is_nonzero\(\): argument 'input' \(position 1\) must be Tensor, not int"):
        ember.is_nonzero(1)
