"""Cases shared by ``fixtures/record_tensor_ops.py`` (run with PyTorch as ``T``) and ``test_tensor_ops.py``
(run with ember as ``T``): the two libraries share the API, so one lambda serves both.

Each case: name -> (fn(T, *tensors), inputs (NumPy arrays; float64 ones are differentiated), grads?)."""

import numpy as np

rng = np.random.default_rng(14)


def f(*shape):
    return rng.standard_normal(shape)


NAN = float("nan")
_x34 = f(3, 4)
_nanx = f(4, 5)
_nanx[0, 1] = _nanx[2, 2] = _nanx[2, 4] = NAN
_nanx[3] = NAN
_ties = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 0.5], [2.0, 2.0, -1.0, 4.0, 4.0, -2.0]])

CASES = {
    # binary math
    "logaddexp": (lambda T, a, b: T.logaddexp(a, b), [f(3, 4), f(4) * 30], True),
    "logaddexp2": (lambda T, a, b: T.logaddexp2(a, b), [f(3, 4), f(3, 1) * 30], True),
    # (negative integer exponents: PyTorch's gradient is 0 there, 2 ** e in integers; see tests/core/test_edges_logdet_to_trapz.py)
    "ldexp": (lambda T, a, e: T.ldexp(a, e), [f(3, 4), rng.integers(0, 5, (3, 4))], True),
    "ldexp_neg": (lambda T, a, e: T.ldexp(a, e), [f(3, 4), rng.integers(-4, 0, (3, 4))], False),
    "nextafter": (lambda T, a, b: T.nextafter(a, b), [f(5), f(5)], False),
    "frexp_m": (lambda T, a: T.frexp(a)[0], [np.array([0.0, 1.0, -3.5, 1e-310, 1e300])], False),
    "frexp_e": (lambda T, a: T.frexp(a)[1], [np.array([0.0, 1.0, -3.5, 1e-310, 1e300])], False),
    "hypot": (lambda T, a, b: T.hypot(a, b), [f(3, 4), f(3, 4)], True),
    # running reductions and differences
    "cummax_v": (lambda T, a: T.cummax(a, 1)[0], [_ties], True),
    "cummax_i": (lambda T, a: T.cummax(a, 1)[1], [_ties], False),
    "cummin_v": (lambda T, a: T.cummin(a, -1)[0], [_ties], True),
    "cummin_i": (lambda T, a: T.cummin(a, -1)[1], [_ties], False),
    "cummax_nan_i": (lambda T, a: T.cummax(a, 1)[1], [_nanx], False),
    "logcumsumexp": (lambda T, a: T.logcumsumexp(a, 0), [np.array([[-1000.0, 1.0], [0.0, 2.0], [3.0, -50.0]])], True),
    "logcumsumexp1": (lambda T, a: T.logcumsumexp(a, 1), [f(3, 5)], True),
    "diff": (lambda T, a: T.diff(a), [f(3, 5)], True),
    "diff2_pre": (lambda T, a, p: T.diff(a, n=2, dim=0, prepend=p), [f(3, 4), f(1, 4)], True),
    "trapezoid": (lambda T, y: T.trapezoid(y), [f(3, 5)], True),
    "trapezoid_x": (lambda T, y, x: T.trapezoid(y, x, dim=0), [f(4, 3), np.array([0.0, 0.5, 1.5, 4.0])], True),
    "trapezoid_dx": (lambda T, y: T.trapezoid(y, dx=0.25), [f(2, 6)], True),
    "cumulative_trapezoid": (lambda T, y, x: T.cumulative_trapezoid(y, x), [f(2, 5), f(2, 5).cumsum(1)], True),
    # statistics
    "quantile": (lambda T, a: T.quantile(a, 0.3), [f(3, 4)], True),
    "quantile_dim": (lambda T, a: T.quantile(a, T.tensor([0.0, 0.25, 0.9, 1.0], dtype=T.float64), dim=1, keepdim=True),
                     [f(3, 5)], True),
    "quantile_lower": (lambda T, a: T.quantile(a, 0.3, dim=0, interpolation="lower"), [f(6, 2)], True),
    "quantile_higher": (lambda T, a: T.quantile(a, 0.3, dim=0, interpolation="higher"), [f(6, 2)], True),
    "quantile_midpoint": (lambda T, a: T.quantile(a, 0.3, dim=0, interpolation="midpoint"), [f(6, 2)], True),
    "quantile_nearest": (lambda T, a: T.quantile(a, 0.5, dim=0, interpolation="nearest"), [f(5, 2)], True),
    "quantile_nan": (lambda T, a: T.quantile(a, 0.5, dim=1), [_nanx], False),
    "nanquantile": (lambda T, a: T.nanquantile(a, 0.4, dim=1), [_nanx], False),
    "nanquantile_all": (lambda T, a: T.nanquantile(a, 0.75), [_nanx], False),
    "nanmedian_v": (lambda T, a: T.nanmedian(a, 1)[0], [_nanx], False),
    "nanmedian_i": (lambda T, a: T.nanmedian(a, 1)[1], [_nanx], False),
    "nanmedian_all": (lambda T, a: T.nanmedian(a), [_nanx], False),
    "nanmedian_grad": (lambda T, a: T.nanmedian(a, 0, keepdim=True)[0], [f(5, 3)], True),
    "cov": (lambda T, a: T.cov(a), [f(3, 6)], True),
    "cov_w": (lambda T, a, fw, aw: T.cov(a, correction=0, fweights=fw, aweights=aw),
              [f(2, 5), rng.integers(1, 4, 5), rng.uniform(0.5, 2, 5)], True),
    "cov_1d": (lambda T, a: T.cov(a), [f(7)], True),
    "corrcoef": (lambda T, a: T.corrcoef(a), [f(3, 8)], True),
    "histc": (lambda T, a: T.histc(a, bins=7, min=-1, max=1.5), [f(50).astype(np.float32)], False),
    "histc_auto": (lambda T, a: T.histc(a, bins=5), [f(40)], False),
    "histogram": (lambda T, a: T.histogram(a, 6)[0], [f(60)], False),
    "histogram_edges": (lambda T, a: T.histogram(a, 6)[1], [f(60)], False),
    "histogram_w": (lambda T, a, w: T.histogram(a, 4, range=(-1.0, 1.0), weight=w, density=True)[0],
                    [f(30), rng.uniform(0, 1, 30)], False),
    "bincount": (lambda T, a: T.bincount(a, minlength=8), [rng.integers(0, 6, 20)], False),
    "bincount_w": (lambda T, a, w: T.bincount(a, weights=w), [rng.integers(0, 6, 20), f(20)], False),
    # structure
    "kron": (lambda T, a, b: T.kron(a, b), [f(2, 3), f(4, 2)], True),
    "kron_nd": (lambda T, a, b: T.kron(a, b), [f(2, 1, 3), f(3, 2)], True),
    "block_diag": (lambda T, a, b, c: T.block_diag(a, b, c), [f(2, 3), f(3), np.array(1.5)], True),
    "cartesian_prod": (lambda T, a, b, c: T.cartesian_prod(a, b, c), [f(2), f(3), f(2)], True),
    "combinations": (lambda T, a: T.combinations(a, 3), [f(5)], True),
    "combinations_rep": (lambda T, a: T.combinations(a, 2, with_replacement=True), [f(4)], True),
    "rot90": (lambda T, a: T.rot90(a, 1, [0, 2]), [f(2, 3, 4)], True),
    "rot90_neg": (lambda T, a: T.rot90(a, -3, [1, 0]), [f(2, 3)], True),
    "rot90_2": (lambda T, a: T.rot90(a, 2), [f(2, 3)], True),
    # (torch's vander backward fails with an in-place error: values only, ember's gradient is gradchecked)
    "vander": (lambda T, a: T.vander(a), [f(4)], False),
    "vander_inc": (lambda T, a: T.vander(a, N=3, increasing=True), [f(4)], False),
    "vander_int": (lambda T, a: T.vander(a, 4), [np.array([1, 2, -3])], False),
    "as_strided": (lambda T, a: T.as_strided(a, (3, 3), (1, 2), 1), [f(3, 3)], True),
    "unfold": (lambda T, a: a.unfold(1, 3, 2), [f(2, 7)], True),
    "isin": (lambda T, a, b: T.isin(a, b), [rng.integers(0, 6, (3, 4)), np.array([1, 4, 9])], False),
    "isin_inv": (lambda T, a, b: T.isin(a, b, invert=True), [rng.integers(0, 6, (3, 4)), np.array([1, 4, 9])], False),
    "unique_consecutive": (lambda T, a: T.unique_consecutive(a, return_inverse=True, return_counts=True)[0],
                           [np.array([1, 1, 2, 2, 3, 1, 1, 2])], False),
    "unique_consecutive_inv": (lambda T, a: T.unique_consecutive(a, return_inverse=True)[1],
                               [np.array([[1, 1], [2, 2], [3, 1]])], False),
    "unique_consecutive_cnt": (lambda T, a: T.unique_consecutive(a, return_counts=True)[1],
                               [np.array([1, 1, 2, 2, 3, 1, 1, 2])], False),
    "unique_consecutive_dim": (lambda T, a: T.unique_consecutive(a, dim=0),
                               [np.array([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]])], False),
    "take_along_dim": (lambda T, a, i: T.take_along_dim(a, i, dim=1), [f(3, 4), rng.integers(0, 4, (3, 2))], True),
    **{f"index_reduce_{r}_{inc}": (
        lambda T, a, s, r=r, inc=inc: a.index_reduce(0, T.tensor([0, 2, 0, 3]), s, r, include_self=inc),
        [f(5, 3), np.array([[2.0, 3, -1], [4, 5, 0.5], [6, 7, 2], [1, -1, 1.5]])], True)
       for r in ("prod", "mean", "amax", "amin") for inc in (True, False)},
    "index_reduce_ties": (lambda T, a, s: a.index_reduce(1, T.tensor([1, 0, 1]), s, "amax"),
                          [np.array([[1.0, 5.0], [2.0, 2.0]]), np.array([[5.0, 0.0, 5.0], [2.0, 2.0, 1.0]])], True),
    "aminmax": (lambda T, a: T.aminmax(a, dim=1)[1], [f(3, 4)], True),
    # as_strided views of the storage: overlapping windows (gradients accumulate), the default offset of a
    # view, a transposed base, and an input that itself overlaps (expand: its gradient is shared out)
    "as_strided_windows": (lambda T, a: T.as_strided(a, (4, 3), (1, 1)), [f(6)], True),
    "as_strided_view_offset": (lambda T, a: a[1:].as_strided((2, 2), (2, 1)), [f(6)], True),
    "as_strided_transposed": (lambda T, a: a.t().as_strided((3,), (2,)), [f(2, 3)], True),
    "as_strided_expanded": (lambda T, a: a.expand(3, 4).as_strided((2, 2), (1, 1), 1), [f(4)], True),
}
