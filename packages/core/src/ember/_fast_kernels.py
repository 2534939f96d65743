"""Fused float32 CPU kernels compiled by numba (the optional ``fast`` extra; see ``_fast.py``).

Each kernel does one op's whole formula in one or two passes over the rows it is given, with the GIL
released, so ``_fast.run_rows`` can hand row ranges (slices) to the cores. ``exp`` and ``erf`` are
written out (vectorisable polynomial forms, float32-accurate: relative error of exp <= 3e-7, error of
erf <= 3.3e-7, tested in tests/core/test_fast_kernels.py); libm calls would keep the loops scalar.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

# no nnan / ninf: nan and inf must propagate as in PyTorch
_FM = {"contract", "reassoc", "nsz", "arcp"}
_OPTS = dict(nogil=True, cache=True, fastmath=_FM, error_model="numpy", boundscheck=False)
# kernels that must give NumPy's bits: every product and sum rounded on its own (no fused multiply-add)
_EXACT = dict(nogil=True, cache=True, error_model="numpy", boundscheck=False)

f32 = np.float32
_LO, _HI = f32(-87.33654), f32(88.0)
_LOG2E, _LN2_HI, _LN2_LO = f32(1.4426950408889634), f32(0.693359375), f32(-2.12194440e-4)
_SQRT_HALF = f32(math.sqrt(0.5))
_INV_SQRT_2PI = f32(1.0 / math.sqrt(2.0 * math.pi))
_SQRT_2_OVER_PI = f32(math.sqrt(2.0 / math.pi))
# erf(x) = x * P(x^2) / Q(x^2) on [-4, 4], the fit of ops/unary.py (_ERF32_P / _ERF32_Q)
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (f32(c) for c in (
    -1.1317656798085855e-08, 4.318824065421859e-06, 0.00036599568524783583, 0.0038142145165981417,
    0.054021416745218424, 0.18534065728985882, 1.1283791683420807))
_Q0, _Q1, _Q2, _Q3, _Q4, _Q5 = (f32(c) for c in (
    5.9640073901025786e-05, 0.001282024021431861, 0.015344190051479958, 0.11373742772669088,
    0.4975872443697671, 1.0))


@intrinsic
def _bits_to_f32(typingctx, v):
    """Reinterpret an int32's bits as a float32 (for 2**n without a table lookup)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(inline="always", **_OPTS)
def _exp_parts(xc):
    """(p(r), n) with exp(xc) = 2**n * p(r), r = xc - n ln2 in [-ln2/2, ln2/2] (Cephes' expf polynomial); inlined,
    it takes its caller's floating-point flags."""
    n = np.floor(xc * _LOG2E + f32(0.5))
    r = xc - n * _LN2_HI - n * _LN2_LO
    p = f32(1.9875691500e-4)
    p = p * r + f32(1.3981999507e-3)
    p = p * r + f32(8.3334519073e-3)
    p = p * r + f32(4.1665795894e-2)
    p = p * r + f32(1.6666665459e-1)
    p = p * r + f32(5.0000001201e-1)
    return p * r * r + r + f32(1.0), np.int32(n)


@njit(inline="always", **_OPTS)
def _exp(x):
    """exp(x) for float32 x. Normal results only: x < -87.34 gives 0 and x > 88 gives inf (the kernels take exp of
    non-positive arguments, or of a sigmoid's, where neither end matters)."""
    p, n = _exp_parts(min(max(x, _LO), _HI))
    v = p * _bits_to_f32((n + 127) << 23)
    v = v if x > _LO else f32(0.0)
    v = v if x <= _HI else f32(np.inf)
    return v if x == x else x


_EXP_LO, _EXP_HI = f32(-104.0), f32(88.72284)  # exp is 0 below (subnormals end near -103.97), inf above


@njit(inline="always", **_EXACT)
def _exp_full(x):
    """exp(x) over the whole float32 range, for ``torch.exp`` itself: 2**n applied as two factors (one would
    overflow or leave the normal range), so that results up to FLT_MAX and subnormal ones come out right. Compiled
    without fast-math: reassociated, the two factors could be multiplied first."""
    p, n = _exp_parts(min(max(x, _EXP_LO), _EXP_HI))
    n1 = n >> 1
    v = (p * _bits_to_f32((n1 + 127) << 23)) * _bits_to_f32((n - n1 + 127) << 23)
    v = v if x >= _EXP_LO else f32(0.0)
    v = v if x <= _EXP_HI else f32(np.inf)
    return v if x == x else x


def _pointwise(f, opts):
    """A compiled ``out[i] = f(x[i])`` over 1-D arrays, for a compiled scalar ``f``, with numba options ``opts``."""

    @njit(**opts)
    def kernel(x, out):
        for i in range(x.shape[0]):
            out[i] = f(x[i])

    return kernel


# torch.exp's own kernel (NumPy's float32 exp is a scalar loop on AVX2 machines: 1M, 2.3 ms)
exp_fwd = _pointwise(_exp_full, _EXACT)


@njit(**_EXACT)
def tanh_fwd(x, out):
    """out = tanh(x) on flat float32 arrays (NumPy's float32 tanh is a scalar loop on AVX2 machines: 1M, 3.1 ms):
    an odd polynomial below |x| = 0.625 (Cephes' tanhf coefficients), where 1 - 2 / (exp(2|x|) + 1) would lose
    the small result's relative precision, that form above (exp(2|x|) = inf gives 1)."""
    for i in range(x.shape[0]):  # both forms for every element, one selected: branch-free, the loop vectorises
        v = x[i]
        a = abs(v)
        z = v * v
        p = f32(-5.70498872745e-3)
        p = p * z + f32(2.06390887954e-2)
        p = p * z - f32(5.37397155531e-2)
        p = p * z + f32(1.33314422036e-1)
        p = p * z - f32(3.33332819422e-1)
        small = v + v * (z * p)
        t = f32(1.0) - f32(2.0) / (_exp_full(a + a) + f32(1.0))
        big = t if v > f32(0.0) else -t
        r = small if a < f32(0.625) else big
        out[i] = r if a != f32(0.0) else v  # -0 stays -0


@njit(inline="always", **_OPTS)
def _erf(x):
    xc = min(max(x, f32(-4.0)), f32(4.0))
    z = xc * xc
    num = ((((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4) * z + _P5) * z + _P6) * xc
    den = (((((_Q0 * z + _Q1) * z + _Q2) * z + _Q3) * z + _Q4) * z + _Q5)
    v = min(max(num / den, f32(-1.0)), f32(1.0))
    return v if x == x else x


@njit(inline="always", **_OPTS)
def _sigmoid2(u):
    """(s, 1 - s) for s = sigmoid(2u) = (1 + tanh(u)) / 2: GELU's tanh form without the cancellation of
    1 + tanh(u) near -1."""
    e = _exp(f32(-2.0) * u)
    s = f32(1.0) / (f32(1.0) + e)
    oms = e * s if e < f32(np.inf) else f32(1.0)
    return s, oms


exp_block = _pointwise(_exp, _OPTS)
erf_block = _pointwise(_erf, _OPTS)


# ---- GELU (flat arrays; ``g`` of size 1 is a broadcast gradient) ---------------------------------


@njit(**_OPTS)
def gelu_fwd(x, out, approx_tanh):
    if approx_tanh:
        for i in range(x.shape[0]):
            v = x[i]
            s, _ = _sigmoid2(_SQRT_2_OVER_PI * (v + f32(0.044715) * v * v * v))
            out[i] = v * s
    else:
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = f32(0.5) * v * (f32(1.0) + _erf(v * _SQRT_HALF))


@njit(inline="always", **_OPTS)
def _gelu_d(v, approx_tanh):
    if approx_tanh:
        s, oms = _sigmoid2(_SQRT_2_OVER_PI * (v + f32(0.044715) * v * v * v))
        dinner = (v * v * f32(3 * 0.044715) + f32(1.0)) * _SQRT_2_OVER_PI
        return s + f32(2.0) * v * s * oms * dinner  # (1 + t) / 2 + x / 2 * (1 - t^2) * dinner
    return (_erf(v * _SQRT_HALF) + f32(1.0)) * f32(0.5) + v * (_exp(v * v * f32(-0.5)) * _INV_SQRT_2PI)


def _pointwise_bwd(derivative):
    """A compiled ``out = g * derivative(x, param)`` over 1-D arrays (g of size 1: a broadcast gradient, as
    ``sum()``'s), for a compiled ``derivative(v, param)``."""

    @njit(**_OPTS)
    def bwd(g, x, out, param):
        if g.size == 1:
            gv = g[0]
            for i in range(x.shape[0]):
                out[i] = gv * derivative(x[i], param)
        else:
            for i in range(x.shape[0]):
                out[i] = g[i] * derivative(x[i], param)

    return bwd


gelu_bwd = _pointwise_bwd(_gelu_d)


# ---- pointwise activations: forward (x, out, param) and backward (g, x, out, param); g of size 1 is a broadcast
# gradient (``sum()``'s). One pass each, where NumPy takes 3-5 (sigmoid of 1M: 1.44 -> 0.63 ms).


@njit(inline="always", **_OPTS)
def _sigmoid(v):
    return f32(1.0) / (f32(1.0) + _exp(-v))


@njit(**_OPTS)
def sigmoid_fwd(x, out, _):
    for i in range(x.shape[0]):
        out[i] = _sigmoid(x[i])


@njit(**_OPTS)
def silu_fwd(x, out, _):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v * _sigmoid(v)


@njit(inline="always", **_OPTS)
def _silu_d(v, _):
    s = _sigmoid(v)
    return s * (v * (f32(1.0) - s) + f32(1.0))


@njit(**_OPTS)
def leaky_fwd(x, out, slope):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v if v > f32(0.0) else v * slope


@njit(inline="always", **_OPTS)
def _leaky_d(v, slope):
    return f32(1.0) if v > f32(0.0) else slope


@njit(**_OPTS)
def hardswish_fwd(x, out, _):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v * min(max(v + f32(3.0), f32(0.0)), f32(6.0)) / f32(6.0)


@njit(inline="always", **_OPTS)
def _hardswish_d(v, _):
    # PyTorch: 0 up to -3, x / 3 + 1/2 strictly between -3 and 3, else 1 (nan and inf included)
    inner = v / f32(3.0) + f32(0.5)
    return f32(0.0) if v <= f32(-3.0) else (inner if v < f32(3.0) else f32(1.0))


silu_bwd = _pointwise_bwd(_silu_d)
leaky_bwd = _pointwise_bwd(_leaky_d)
hardswish_bwd = _pointwise_bwd(_hardswish_d)


# ---- softmax / log-softmax over the last dim of (R, C) arrays ------------------------------------


@njit(inline="always", **_OPTS)
def _row_max(xr):
    """max of a row; nan elements are skipped here (unless the first is one) but still make the row's sum nan
    downstream. Eight running maxima in locals, which the compiler keeps in one vector register: a single one is a
    serial chain, and an array of them went through memory (256 rows of 1000: 151 -> 65 us)."""
    C = xr.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = xr[0]
    nb = C // 8
    for j in range(nb):
        b = j * 8
        v = xr[b]
        a0 = v if v > a0 else a0
        v = xr[b + 1]
        a1 = v if v > a1 else a1
        v = xr[b + 2]
        a2 = v if v > a2 else a2
        v = xr[b + 3]
        a3 = v if v > a3 else a3
        v = xr[b + 4]
        a4 = v if v > a4 else a4
        v = xr[b + 5]
        a5 = v if v > a5 else a5
        v = xr[b + 6]
        a6 = v if v > a6 else a6
        v = xr[b + 7]
        a7 = v if v > a7 else a7
    a0 = a1 if a1 > a0 else a0
    a2 = a3 if a3 > a2 else a2
    a4 = a5 if a5 > a4 else a4
    a6 = a7 if a7 > a6 else a6
    a0 = a2 if a2 > a0 else a0
    a4 = a6 if a6 > a4 else a4
    m = a4 if a4 > a0 else a0
    for c in range(nb * 8, C):
        m = xr[c] if xr[c] > m else m
    return m


@njit(**_OPTS)
def softmax_fwd(x, out):
    for r in range(x.shape[0]):
        m = _row_max(x[r])
        s = f32(0.0)
        for c in range(x.shape[1]):
            e = _exp(x[r, c] - m)
            out[r, c] = e
            s += e
        inv = f32(1.0) / s
        for c in range(x.shape[1]):
            out[r, c] *= inv


@njit(**_OPTS)
def log_softmax_fwd(x, out):
    for r in range(x.shape[0]):
        m = _row_max(x[r])
        s = f32(0.0)
        for c in range(x.shape[1]):
            s += _exp(x[r, c] - m)
        lse = np.log(s)
        for c in range(x.shape[1]):
            out[r, c] = (x[r, c] - m) - lse


@njit(**_OPTS)
def softmax_bwd(g, y, out):
    """y * (g - sum(g * y)) per row."""
    C = y.shape[1]
    bcast = g.shape[0] == 1 and g.shape[1] == 1
    for r in range(y.shape[0]):
        if bcast:
            gv = g[0, 0]
            d = f32(0.0)
            for c in range(C):
                d += y[r, c]
            d *= gv
            for c in range(C):
                out[r, c] = y[r, c] * (gv - d)
        else:
            d = f32(0.0)
            for c in range(C):
                d += g[r, c] * y[r, c]
            for c in range(C):
                out[r, c] = y[r, c] * (g[r, c] - d)


@njit(**_OPTS)
def log_softmax_bwd(g, y, out):
    """g - exp(y) * sum(g) per row."""
    C = y.shape[1]
    bcast = g.shape[0] == 1 and g.shape[1] == 1
    for r in range(y.shape[0]):
        if bcast:
            gv = g[0, 0]
            d = gv * f32(C)
            for c in range(C):
                out[r, c] = gv - _exp(y[r, c]) * d
        else:
            d = f32(0.0)
            for c in range(C):
                d += g[r, c]
            for c in range(C):
                out[r, c] = g[r, c] - _exp(y[r, c]) * d


@njit(**_OPTS)
def exp_shifted_rows(x, e, m, s):
    """Cross-entropy's pieces: m = row max, e = exp(x - m), s = row sum of e. An ``e`` of no rows keeps no
    exponentials (no backward to come): m and s only."""
    for r in range(x.shape[0]):
        xr = x[r]
        mr = _row_max(xr)
        acc = f32(0.0)
        if e.shape[0] > 0:  # the branch outside the loops, which then vectorise (256 x 1000: 650 -> 320 us)
            er = e[r]
            for c in range(xr.shape[0]):
                v = _exp(xr[c] - mr)
                er[c] = v
                acc += v
        else:
            for c in range(xr.shape[0]):
                acc += _exp(xr[c] - mr)
        m[r] = mr
        s[r] = acc


@njit(**_OPTS)
def ce_bwd_rows(e, coef, target, picked, out):
    """Cross-entropy's input gradient from :func:`exp_shifted_rows`' ``e``: out = e * coef[r] (one factor per
    row), minus ``picked[r]`` at column ``target[r]``."""
    for r in range(e.shape[0]):
        k = coef[r]
        er, o = e[r], out[r]
        for c in range(er.shape[0]):
            o[c] = er[c] * k
        o[target[r]] -= picked[r]


# ---- layer / RMS / group norm over rows ------------------------------------------------------------
# x (N, G, C): N * G rows of C elements, each normalized on its own; w, b (G, C) (or size 0: absent), row
# (n, g) taking w[g], b[g]. Layer / RMS norm: G = 1. Group norm: a row is one group of one sample, with each
# channel's weight repeated over its positions.


@njit(**_OPTS)
def norm_fwd(x, w, b, eps, center, out, mean, rstd):
    """out = (x - mean) * rstd * w + b per row (no mean for RMS norm); mean, rstd (N, G)."""
    C = x.shape[2]
    has_w, has_b = w.size > 0, b.size > 0
    ones = np.ones(C, dtype=x.dtype)  # absent weight / bias as rows of 1 / 0: no branch in the loops below
    zeros = np.zeros(C, dtype=x.dtype)
    for n in range(x.shape[0]):
        for gi in range(x.shape[1]):
            xr, o = x[n, gi], out[n, gi]
            wr = w[gi] if has_w else ones
            br = b[gi] if has_b else zeros
            mu = f32(0.0)
            if center:
                for c in range(C):
                    mu += xr[c]
                mu /= f32(C)
            var = f32(0.0)
            for c in range(C):
                d = xr[c] - mu
                var += d * d
            inv = f32(1.0) / np.sqrt(var / f32(C) + eps)
            mean[n, gi] = mu
            rstd[n, gi] = inv
            for c in range(C):
                o[c] = (xr[c] - mu) * inv * wr[c] + br[c]


@njit(**_OPTS)
def norm_bwd(g, x, w, mean, rstd, center, dx, dw, db):
    """dx per row and this range's partial sums of dw (g * xhat) and db (g), both (G, C), into dw / db (size
    0: not wanted; dx of size 0: not wanted). ``g`` of shape (1, 1, 1) is a broadcast gradient. One pass over
    the row gathers dx's two sums and the parameter terms, a second writes dx. What is absent or not wanted is
    a row of ones (weight), of the broadcast value (gradient) or a scratch row (sums), so that the loops have no
    branch and vectorise (LayerNorm 256, 4096 rows: 1.4 -> 0.3 ms)."""
    C = x.shape[2]
    has_w = w.size > 0
    want_dx, want_dw, want_db = dx.size > 0, dw.size > 0, db.size > 0
    bcast = g.shape[0] == 1 and g.shape[1] == 1 and g.shape[2] == 1
    ones = np.ones(C, dtype=x.dtype)
    grow = np.full(C, g[0, 0, 0]) if bcast else ones
    scratch_w = np.zeros(C, dtype=x.dtype)
    scratch_b = np.zeros(C, dtype=x.dtype)
    for n in range(x.shape[0]):
        for gi in range(x.shape[1]):
            mu, inv = mean[n, gi], rstd[n, gi]
            xr = x[n, gi]
            gr = grow if bcast else g[n, gi]
            wr = w[gi] if has_w else ones
            dwr = dw[gi] if want_dw else scratch_w
            dbr = db[gi] if want_db else scratch_b
            s1 = f32(0.0)
            s2 = f32(0.0)
            for c in range(C):
                gv = gr[c]
                d = xr[c] - mu
                dwr[c] += gv * (d * inv)
                dbr[c] += gv
                gw = gv * wr[c]
                s1 += gw
                s2 += gw * d
            if want_dx:
                s1 /= f32(C)
                s2 = s2 * inv / f32(C)
                if not center:
                    s1 = f32(0.0)
                dxr = dx[n, gi]
                for c in range(C):
                    dxr[c] = inv * (gr[c] * wr[c] - s1 - (xr[c] - mu) * inv * s2)


# ---- group norm: x (N, G, Cg, L), each (sample, group) normalized over its Cg * L values -----------------
# w, b (G, Cg): one value per channel (size 0: absent), applied per channel run of L positions as one scale and
# shift (as PyTorch's kernel: y = x * (rstd * w) + (b - mean * rstd * w)); the backward takes per-channel sums of
# g and g * x, so no (G, Cg * L) rows of repeated parameters are read or accumulated.


@njit(**_OPTS)
def group_norm_fwd(x, w, b, eps, out, mean, rstd):
    """out = x * a + c per channel run, a = rstd * w, c = b - mean * a; mean, rstd (N, G)."""
    N, G, Cg, L = x.shape
    has_w, has_b = w.size > 0, b.size > 0
    cnt = f32(Cg * L)
    for n in range(N):
        for gi in range(G):
            xr = x[n, gi]
            mu = f32(0.0)
            for c in range(Cg):
                s = f32(0.0)
                for i in range(L):
                    s += xr[c, i]
                mu += s
            mu /= cnt
            var = f32(0.0)
            for c in range(Cg):
                s = f32(0.0)
                for i in range(L):
                    d = xr[c, i] - mu
                    s += d * d
                var += s
            inv = f32(1.0) / np.sqrt(var / cnt + eps)
            mean[n, gi] = mu
            rstd[n, gi] = inv
            o = out[n, gi]
            for c in range(Cg):
                a = inv * w[gi, c] if has_w else inv
                sh = (b[gi, c] if has_b else f32(0.0)) - mu * a
                for i in range(L):
                    o[c, i] = xr[c, i] * a + sh


@njit(**_OPTS)
def group_norm_bwd(g, x, w, mean, rstd, dx, dw, db):
    """dx like x (size 0: not wanted) and this range of samples' partial sums of dw and db (G, Cg) added into
    them (size 0: not wanted). ``g`` like x, or of shape (1, 1, 1, 1): a broadcast gradient. One pass gathers
    each channel's sums of g and g * x, a second writes dx = g * a + x * k + c with per-channel a and per-group k,
    c."""
    N, G, Cg, L = x.shape
    has_w = w.size > 0
    want_dx, want_dw, want_db = dx.size > 0, dw.size > 0, db.size > 0
    bcast = g.shape[0] == 1 and g.shape[1] == 1 and g.shape[2] == 1 and g.shape[3] == 1
    gv = g[0, 0, 0, 0]
    cnt = f32(Cg * L)
    for n in range(N):
        for gi in range(G):
            mu, inv = mean[n, gi], rstd[n, gi]
            xr = x[n, gi]
            s1 = f32(0.0)  # sum over the group of g * w
            s2 = f32(0.0)  # sum over the group of g * w * (x - mean)
            for c in range(Cg):
                sg = f32(0.0)
                sgx = f32(0.0)
                if bcast:
                    for i in range(L):
                        sgx += xr[c, i]
                    sg = gv * f32(L)
                    sgx *= gv
                else:
                    gr = g[n, gi, c]
                    for i in range(L):
                        sg += gr[i]
                        sgx += gr[i] * xr[c, i]
                gxm = sgx - mu * sg
                wc = w[gi, c] if has_w else f32(1.0)
                if want_dw:
                    dw[gi, c] += gxm * inv
                if want_db:
                    db[gi, c] += sg
                s1 += wc * sg
                s2 += wc * gxm
            if want_dx:
                m1 = s1 / cnt
                k = inv * inv * inv * s2 / cnt
                c0 = mu * k - inv * m1
                dxr = dx[n, gi]
                for c in range(Cg):
                    a = inv * w[gi, c] if has_w else inv
                    if bcast:
                        ga = gv * a + c0
                        for i in range(L):
                            dxr[c, i] = ga - xr[c, i] * k
                    else:
                        gr = g[n, gi, c]
                        for i in range(L):
                            dxr[c, i] = gr[i] * a - xr[c, i] * k + c0


@njit(**_OPTS)
def channel_sums(g, x, s1, s2, c0, c1):
    """Per channel c0..c1 of g, x (N, C, L): s1[c] = sum(g[:, c]), s2[c] = sum(g[:, c] * x[:, c]), accumulated
    in float64 (batch norm's backward statistics, one pass over both arrays). The float64 sums are reassociated
    so that they vectorise (strictly in order they ran at ~1 ns per element: 2.0 ms for 64 channels 32x32, b32);
    their order changes only the float64 rounding, far below the float32 results'."""
    for c in range(c0, c1):
        a = 0.0
        b = 0.0
        for n in range(g.shape[0]):
            gr, xr = g[n, c], x[n, c]
            for i in range(g.shape[2]):
                v = np.float64(gr[i])
                a += v
                b += v * np.float64(xr[i])
        s1[c] = a
        s2[c] = b


@njit(**_EXACT)
def channel_axpby(g, a, x, b, t, out):
    """out[n, c, :] = (g * a[c] + x * b[c]) + t[c] for g, x (N, C, L), each product and sum rounded as NumPy's
    passes in ``_lincomb`` (batch norm's input gradient)."""
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            ac, bc, tc = a[c], b[c], t[c]
            for i in range(g.shape[2]):
                out[n, c, i] = (g[n, c, i] * ac + x[n, c, i] * bc) + tc


# ---- relu's gradient ---------------------------------------------------------------------------------


@njit(**_EXACT)
def relu_grad(g, y, out):
    """out = g where y > 0 or y is nan, else +0 (PyTorch's threshold_backward), in one pass: NumPy's bitwise
    select takes three (2M float32: 1.32 ms there, 0.91 here)."""
    zero = out.dtype.type(0)
    for i in range(g.shape[0]):
        out[i] = zero if y[i] <= 0 else g[i]


# ---- tanh's gradient ---------------------------------------------------------------------------------


@njit(**_EXACT)
def tanh_grad(g, y, out, one):
    """out = g * (one - y * y) in one pass, rounded as NumPy's three (``one``: 1 in y's dtype, so that nothing
    is computed wider; ``g`` of one element: that value everywhere, the gradient of ``sum()`` when it is 1)."""
    if g.shape[0] == 1:
        g0 = g[0]
        if g0 == one:
            for i in range(y.shape[0]):
                out[i] = one - y[i] * y[i]
        else:
            for i in range(y.shape[0]):
                out[i] = (one - y[i] * y[i]) * g0
    else:
        for i in range(y.shape[0]):
            out[i] = (one - y[i] * y[i]) * g[i]


# ---- normalisation with known statistics -----------------------------------------------------------


@njit(**_EXACT)
def batch_norm_eval(x, mean, var, weight, bias, eps, out):
    """Batch norm of x (N, C, L) with given statistics (C,) in one call: per channel s = 1 / sqrt(var + eps) * weight
    and t = bias - mean * s (t = -(mean * s) where ``bias`` is empty, s without the product where ``weight`` is),
    then out = x * s + t; float32, each step rounded as in the NumPy path."""
    N, C, L = x.shape
    one = f32(1.0)
    for c in range(C):
        sc = one / np.sqrt(var[c] + eps)
        if weight.size:
            sc = sc * weight[c]
        tc = -(mean[c] * sc) if bias.size == 0 else bias[c] - mean[c] * sc
        for n in range(N):
            xr, o = x[n, c], out[n, c]
            for i in range(L):
                o[i] = xr[i] * sc + tc


@njit(**_EXACT)
def channel_affine(x, s, t, out):
    """out[n, c, :] = x[n, c, :] * s[m, c] + t[m, c] for x (N, C, L), with m = n, or 0 when s and t have one row
    (batch norm's folded inference formula). Rounded after the product and after the sum, as the NumPy path
    and PyTorch's kernel."""
    one = s.shape[0] == 1
    for n in range(x.shape[0]):
        m = 0 if one else n
        for c in range(x.shape[1]):
            sc, tc = s[m, c], t[m, c]
            for i in range(x.shape[2]):
                out[n, c, i] = x[n, c, i] * sc + tc


# ---- embedding gradient ---------------------------------------------------------------------------


@njit(**_OPTS)
def rows_add(index, values, out):
    """out[index[i]] += values[i] (rows; repeats accumulate in order)."""
    D = values.shape[1]
    for i in range(index.shape[0]):
        k = index[i]
        for d in range(D):
            out[k, d] += values[i, d]


@njit(**_EXACT)
def cumsum_rows(x, out):
    """out[r] = the running sums of float32 row x[r], accumulated in float64 and rounded once per element:
    PyTorch's CPU cumsum (its accumulator for float is double), in one pass."""
    for r in range(x.shape[0]):
        acc = 0.0
        xr, orow = x[r], out[r]
        for c in range(x.shape[1]):
            acc += xr[c]
            orow[c] = acc


@njit(inline="always", **_OPTS)
def _block_extreme(xr, c0, c1, largest):
    """(the largest / smallest value of xr[c0:c1] ignoring NaNs, whether it holds a NaN): a vectorised scan."""
    m = xr[c0]
    nan = False
    for c in range(c0, c1):
        v = xr[c]
        nan |= v != v
        if largest:
            m = v if v > m else m
        else:
            m = v if v < m else m
    return m, nan


@njit(**_EXACT)
def cum_extreme_rows(x, vals, idx, largest):
    """The running maximum (``largest``) or minimum of each row of x and where it was attained, as PyTorch's
    cummax / cummin: an equal value moves the index forward, a NaN takes over (and each later NaN moves the
    index). Blocks of 256 whose extreme cannot reach the running one (no NaN, strictly below it) are filled in
    vectorised passes; the others are walked element by element (a serial dependence: ~3 ns per element)."""
    n = x.shape[1]
    for r in range(x.shape[0]):
        xr, vr, ir = x[r], vals[r], idx[r]
        best = xr[0]
        at = 0
        for c0 in range(0, n, 256):
            c1 = min(c0 + 256, n)
            if c0 > 0 and best == best:
                m, nan = _block_extreme(xr, c0, c1, largest)
                if not nan and (m < best if largest else m > best):
                    for c in range(c0, c1):
                        vr[c] = best
                        ir[c] = at
                    continue
            for c in range(c0, c1):
                v = xr[c]
                if v != v or (best == best and (v >= best if largest else v <= best)):
                    best = v
                    at = c
                vr[c] = best
                ir[c] = at


# ---- grid sampling ----------------------------------------------------------------------------------


@njit(**_OPTS)
def taps_sum(rows_in, rows, w, out):
    """out[n, q] = the sum over taps t of w[n, q, t] * rows_in[rows[n, q, t]], in tap order: grid_sample's
    interpolation of channels-last rows (R, C) into (N, Q, C) in one pass (taps out of bounds point at a row of
    zeros). Four taps (bilinear 2-D) are read together, each output element one expression: 5x faster than a
    loop over the taps adding into the output row."""
    C = rows_in.shape[1]
    T = rows.shape[2]
    for n in range(rows.shape[0]):
        for q in range(rows.shape[1]):
            o = out[n, q]
            ix, wq = rows[n, q], w[n, q]
            if T == 4:
                r0, r1, r2, r3 = rows_in[ix[0]], rows_in[ix[1]], rows_in[ix[2]], rows_in[ix[3]]
                w0, w1, w2, w3 = wq[0], wq[1], wq[2], wq[3]
                for c in range(C):
                    o[c] = w0 * r0[c] + w1 * r1[c] + w2 * r2[c] + w3 * r3[c]
            else:
                for c in range(C):
                    o[c] = f32(0.0)
                for t in range(T):
                    r = rows_in[ix[t]]
                    wt = wq[t]
                    for c in range(C):
                        o[c] += wt * r[c]


@njit(**_OPTS)
def taps_dot(g, rows_in, rows, out):
    """out[n, q, t] = the dot product of g[n, q] (C) and rows_in[rows[n, q, t]]: each tap's value against the
    incoming gradient, for grid_sample's grid gradient."""
    C = rows_in.shape[1]
    for n in range(rows.shape[0]):
        for q in range(rows.shape[1]):
            gq = g[n, q]
            for t in range(rows.shape[2]):
                r = rows_in[rows[n, q, t]]
                acc = f32(0.0)
                for c in range(C):
                    acc += gq[c] * r[c]
                out[n, q, t] = acc


@njit(**_OPTS)
def taps_scatter(g, rows, w, out):
    """out[rows[n, q, t]] += w[n, q, t] * g[n, q] in order (repeats accumulate): grid_sample's input gradient in
    channels-last rows."""
    C = g.shape[2]
    for n in range(rows.shape[0]):
        for q in range(rows.shape[1]):
            gq = g[n, q]
            for t in range(rows.shape[2]):
                o = out[rows[n, q, t]]
                wt = w[n, q, t]
                for c in range(C):
                    o[c] += wt * gq[c]


@njit(**_EXACT)
def bag_sums(weight, idx, starts, ends, psw, pad, mean, out):
    """out[b] = the sum (``mean``: the mean) of rows weight[idx[j]] for j in starts[b]..ends[b], each scaled by
    psw[j] when psw is not empty, rows equal to ``pad`` left out (and not counted): embedding_bag's forward
    without its per-element rows, summed in order as PyTorch's CPU kernel; an empty bag gives zeros."""
    has_w = psw.size > 0
    D = weight.shape[1]
    for b in range(out.shape[0]):
        o = out[b]
        for c in range(D):
            o[c] = f32(0.0)
        count = 0
        for j in range(starts[b], ends[b]):
            k = idx[j]
            if k == pad:
                continue
            count += 1
            r = weight[k]
            if has_w:
                s = psw[j]
                for c in range(D):
                    o[c] += s * r[c]
            else:
                for c in range(D):
                    o[c] += r[c]
        if mean and count > 0:
            n = f32(count)
            for c in range(D):
                o[c] /= n


# ---- copies -----------------------------------------------------------------------------------------


@njit(nogil=True, cache=True, boundscheck=False)
def copy_tiles(a, out):
    """out[b] = a[b] for a (B, R, C) of any strides and out C-contiguous, in 32x32 tiles: a transposed view
    read along its rows strides by a whole row of its base, and NumPy's element-order copy then evicts its
    own cache lines at power-of-two strides (1024^2 float32: 7.8 ms; tiled 1.1)."""
    R, C = a.shape[1], a.shape[2]
    for b in range(a.shape[0]):
        for i0 in range(0, R, 32):
            i1 = min(i0 + 32, R)
            for j0 in range(0, C, 32):
                j1 = min(j0 + 32, C)
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        out[b, i, j] = a[b, i, j]
