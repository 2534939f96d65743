"""Fused float32 recurrent-cell kernels compiled by numba (the optional ``fast`` extra; see ``_fast.py``).

``lstm_cell`` does one LSTM step's whole pointwise part in one pass over the rows: the gate
pre-activations (recurrent GEMM result + input projection), their sigmoid / tanh, the new cell state,
its tanh and the new hidden state. NumPy needs about 15 passes for the same (each a call and a sweep
over the gates); written out, the exp-based activations vectorise. Imported only when numba is.
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import njit

from ._fast_kernels import _OPTS, _exp

f32 = np.float32
# tanh(x) = x + x^3 P(x^2) for |x| < 0.625 (Cephes' tanhf coefficients), where 1 - 2 / (exp(2x) + 1) cancels
_T0, _T1, _T2, _T3, _T4 = (f32(c) for c in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                             1.33314422036e-1, -3.33332819422e-1))


@njit(inline="always", **_OPTS)
def _sigmoid(x):
    return f32(1.0) / (f32(1.0) + _exp(-x))


@njit(inline="always", **_OPTS)
def _tanh(x):
    ax = abs(x)
    z = x * x
    small = ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z * x + x
    big = f32(1.0) - f32(2.0) / (_exp(f32(2.0) * ax) + f32(1.0))
    big = big if x >= f32(0.0) else -big
    return small if ax < f32(0.625) else big


@njit(inline="always", **_OPTS)
def _sigmoid_add_(x, b):
    for j in range(x.shape[0]):
        x[j] = _sigmoid(x[j] + b[j])


@njit(inline="always", **_OPTS)
def _tanh_add_(x, b):
    for j in range(x.shape[0]):
        x[j] = _tanh(x[j] + b[j])


@njit(inline="always", **_OPTS)
def _cell_into(i, f, gg, o, c, tc, h):
    for j in range(c.shape[0]):
        cn = f[j] * c[j] + i[j] * gg[j]
        c[j] = cn
        t = _tanh(cn)
        tc[j] = t
        h[j] = o[j] * t


@njit(**_OPTS)
def lstm_cell(g, xw, c, tc, h):
    """One LSTM step on (n, 4H) gates ``g`` (i, f, g, o; holding ``h_prev @ W_hh^T``, overwritten with the
    activated gates), adding ``xw`` (the step's input projection plus biases): ``c`` (n, H) is updated in
    place, ``tc`` receives tanh(c) and ``h`` the new hidden state o * tanh(c)."""
    n, H = c.shape
    for r in range(n):
        gr, xr = g[r], xw[r]
        # simple one-array loops: the compiler vectorises these (one loop over all four gates did not)
        _sigmoid_add_(gr[:2 * H], xr[:2 * H])
        _tanh_add_(gr[2 * H:3 * H], xr[2 * H:3 * H])
        _sigmoid_add_(gr[3 * H:], xr[3 * H:])
        _cell_into(gr[:H], gr[H:2 * H], gr[2 * H:3 * H], gr[3 * H:], c[r], tc[r], h[r])


@njit(**_OPTS)
def _activate_gates_t(g, xw, col, b):
    """Gates ``g`` (4H, n) activated in place (sigmoid, sigmoid, tanh, sigmoid) after adding the biases ``b`` and,
    unless ``xw`` is None (the input projection in ``g`` already), ``xw[:, col:col + n]``."""
    H = g.shape[0] // 4
    n = g.shape[1]
    for j in range(4 * H):
        bj = b[j]
        gj = g[j]
        if xw is None:
            if j < 2 * H or j >= 3 * H:
                for k in range(n):
                    gj[k] = _sigmoid(gj[k] + bj)
            else:
                for k in range(n):
                    gj[k] = _tanh(gj[k] + bj)
        else:
            xj = xw[j, col:col + n]
            if j < 2 * H or j >= 3 * H:
                for k in range(n):
                    gj[k] = _sigmoid(gj[k] + xj[k] + bj)
            else:
                for k in range(n):
                    gj[k] = _tanh(gj[k] + xj[k] + bj)


@njit(**_OPTS)
def _cell_t(g, c, h, tc):
    """c (H, n) updated in place from the activated gates ``g`` (4H, n), ``h`` receiving o * tanh(c) and ``tc``
    tanh(c) (None: not kept)."""
    H, n = c.shape
    for j in range(H):
        i, f, gg, o, cj, hj = g[j], g[H + j], g[2 * H + j], g[3 * H + j], c[j], h[j]
        if tc is None:
            for k in range(n):
                cn = f[k] * cj[k] + i[k] * gg[k]
                cj[k] = cn
                hj[k] = o[k] * _tanh(cn)
        else:
            tj = tc[j]
            for k in range(n):
                cn = f[k] * cj[k] + i[k] * gg[k]
                cj[k] = cn
                t = _tanh(cn)
                tj[k] = t
                hj[k] = o[k] * t


@njit(**_OPTS)
def lstm_cell_t(g, xw, col, b, c, h):
    """:func:`lstm_cell` on transposed arrays: gates ``g`` (4H, n) holding ``W_hh @ h_prev`` (overwritten with
    the activated gates), ``xw[:, col:col + n]`` the step's input projection (xw (4H, T*n) C-contiguous, so that
    its rows are unit-stride here), ``b`` (4H) the summed biases, ``c`` (H, n) updated in place, ``h`` (H, n)
    receiving o * tanh(c). With the batch as the inner axis the recurrent GEMM is ``W_hh @ h`` on the weight as
    it is stored (B 32, H 256: 97 -> 78 us per step)."""
    _activate_gates_t(g, xw, col, b)
    _cell_t(g, c, h, None)


# OpenBLAS's kernels whose sgemm multiplies matrices of M * N * K <= SMALL_SGEMM_MAX without packing them (its
# "small matrix" kernels: SkylakeX's, which Cooperlake and SapphireRapids use too)
_SMALL_SGEMM_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")
SMALL_SGEMM_MAX = 1000000


@njit(inline="always", **_OPTS)
def sgemm_block(small, n, per):
    """Columns per call for a GEMM of ``n`` columns of ``per`` (M * K) products each: where BLAS multiplies
    matrices of up to ``small`` (M * N * K, 0: none) products without packing them, blocks of a multiple of 16
    under that, else all ``n`` at once. An LSTM step's 32 x 384 @ 384 x 512 on one AVX-512 core took 137 us in one
    call, 119 in 64-column ones (the weight, 0.8 MB, is no longer copied into BLAS's packed layout at every step);
    the classifier's layer on two threads 35.0 -> 28.8 ms."""
    block = small // per // 16 * 16
    return n if block < 16 or block >= n else block


# slots of the step counters of lstm_part, one cache line (128 bytes) apart
SYNC_STRIDE = 16
_native = None


def c_function(fn, restype, *argtypes):
    """``fn`` (a ctypes function or its address) as a C function pointer of that signature, which numba kernels call
    without the GIL."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(fn, ctypes.c_void_p).value)


def native():
    """(sgemm, relax, pause, BLAS's integer dtype, small) for ``lstm_part``: NumPy's BLAS sgemm and the C
    library's ``abs`` and ``sched_yield`` as C function pointers numba calls; ``small``: the most products
    (M * N * K) that BLAS multiplies without packing the matrices, 0 if it always packs them (``sgemm_block``). None
    where one is not found."""
    global _native
    if _native is None:
        _native = (None,)
        try:
            from . import _parallel
            from .ops import _lapack_native

            found = _lapack_native.routines("gemm").get(np.dtype(np.float32))
            libc = ctypes.CDLL(None)
            if found is not None:
                gemm = c_function(found[0], None, *[ctypes.c_size_t] * 15)
                relax = c_function(libc.abs, ctypes.c_int, ctypes.c_int)
                pause = c_function(libc.sched_yield, ctypes.c_int)
                small = SMALL_SGEMM_MAX if (_parallel.blas_kernel() or "").lower() in _SMALL_SGEMM_KERNELS else 0
                _native = (gemm, relax, pause, np.int64 if found[1] is ctypes.c_int64 else np.int32, small)
        except (OSError, AttributeError, TypeError):
            pass
    return None if _native[0] is None else _native


@njit(inline="always", **_OPTS)
def _barrier(sync, part, parts, i, relax, pause):
    """The spin barrier of step ``i`` among ``parts`` threads: counts it in ``sync[part * SYNC_STRIDE]`` and waits
    until every part has. False when a part failed (``sync[parts * SYNC_STRIDE]`` nonzero): stop. ``relax`` (an
    opaque no-op call: the counters are read again each time, and the writes before the count stay before it) and
    ``pause`` (sched_yield, every 256 spins) are C functions; the memory order this relies on is x86's."""
    halt = parts * SYNC_STRIDE
    relax(0)
    sync[part * SYNC_STRIDE] = i + 1
    spins = 0
    while True:
        behind = False
        for p in range(parts):
            if sync[p * SYNC_STRIDE] <= i:
                behind = True
        if not behind or sync[halt] != 0:
            break
        spins += 1
        if spins % 256 == 0:
            pause()
        else:
            relax(spins)
    return sync[halt] == 0


@njit(**_OPTS)
def lstm_part(part, parts, gemm, relax, pause, small, w, b, x, hx, c, g, y, sync, j0, e0, e1, reverse, ints, save,
              gates, tanh_c, h_prev, c_prev):
    """One of ``parts`` threads of an LSTM layer's forward, all running at once: this one owns hidden units
    j0:j0 + H_k, and ``w`` (4 H_k, H + E) holds their rows of [W_hh | W_ih] (gates i, f, g, o), ``b`` their summed
    biases, ``c`` (H_k, B) their cell state. Each step is one one-thread GEMM ``w @ hx[s]`` (``gemm``: BLAS's
    Fortran sgemm taking addresses; in column blocks of under ``small`` products: ``sgemm_block``), where ``hx``
    (2, H + E, B) holds [h_{t-1}; x_t] (transposed, the batch inner)
    in alternate buffers, then the gates' pointwise part, writing this part's rows of h_t into the other buffer
    and into ``y`` (T, B, H), and its share e0:e1 of x_{t+1} there too. Then it counts the step in
    ``sync`` and waits until every part has (``_barrier``). ``ints`` (8) of BLAS's integer type.

    ``save``: also write what the backward keeps (``lstm_grad_part``), this part's columns of each step's activated
    gates ``gates`` (T, B, 4H), the cell state before ``c_prev``, its tanh after ``tanh_c`` and the hidden state
    before ``h_prev`` (T, B, H), in the layout of ``ops.rnn.LSTMLayer``'s one-thread forward."""
    T, B, E = x.shape
    H = hx.shape[1] - E
    Hk = c.shape[0]
    ints[0] = 78  # 'N'
    ints[1] = B
    ints[2] = 4 * Hk
    ints[3] = H + E
    scal = np.empty(2, np.float32)
    scal[0] = 1.0
    scal[1] = 0.0
    p_n, p_m, p_n2, p_k = ints.ctypes.data, ints[1:].ctypes.data, ints[2:].ctypes.data, ints[3:].ctypes.data
    p_one, p_zero = scal.ctypes.data, scal[1:].ctypes.data
    block = sgemm_block(small, 4 * Hk, B * (H + E))
    tcb = np.empty((Hk, B), np.float32)  # tanh(c) of the step, kept when ``save``
    for i in range(T):
        t = T - 1 - i if reverse else i
        cur, nxt = hx[i % 2], hx[(i + 1) % 2]
        for n0 in range(0, 4 * Hk, block):
            ints[2] = min(block, 4 * Hk - n0)
            # column-major: g^T[:, n0:] (B, n) = cur^T (B, H + E) @ w^T[:, n0:] (H + E, n)
            gemm(p_n, p_n, p_m, p_n2, p_k, p_one, cur.ctypes.data, p_m, w[n0:].ctypes.data, p_k, p_zero,
                 g[n0:].ctypes.data, p_m, 1, 1)
        h = nxt[j0:j0 + Hk]
        _activate_gates_t(g, None, 0, b)
        yt = y[t]
        # the (T, B, .) arrays are written a batch row at a time, this part's columns in order: a step's writes
        # down their columns (a stride of H or 4H) made the forward that saves 53 -> 70 ms, not 40
        if save:
            hpt, cpt = h_prev[t], c_prev[t]
            for k in range(B):
                for j in range(Hk):
                    cpt[k, j0 + j] = c[j, k]
                    hpt[k, j0 + j] = cur[j0 + j, k]
            _cell_t(g, c, h, tcb)
            gt, tt = gates[t], tanh_c[t]
            for k in range(B):
                for q in range(4):
                    for j in range(Hk):
                        gt[k, q * H + j0 + j] = g[q * Hk + j, k]
                for j in range(Hk):
                    tt[k, j0 + j] = tcb[j, k]
        else:
            _cell_t(g, c, h, None)
        for k in range(B):
            for j in range(Hk):
                yt[k, j0 + j] = h[j, k]
        if i + 1 < T:
            xn = x[T - 2 - i if reverse else i + 1]
            for e in range(e0, e1):
                row = nxt[H + e]
                for k in range(B):
                    row[k] = xn[k, e]
        if not _barrier(sync, part, parts, i, relax, pause):
            return


@njit(inline="always", **_OPTS)
def _cell_grad_row(i, f, gg, o, tc, cp, dh, dy, dc, di, df, dgg, do):
    for j in range(dc.shape[0]):
        dht = dh[j] + dy[j]
        t = tc[j]
        dct = dc[j] + dht * o[j] * (f32(1.0) - t * t)
        di[j] = dct * gg[j] * i[j] * (f32(1.0) - i[j])
        df[j] = dct * cp[j] * f[j] * (f32(1.0) - f[j])
        dgg[j] = dct * i[j] * (f32(1.0) - gg[j] * gg[j])
        do[j] = dht * t * o[j] * (f32(1.0) - o[j])
        dc[j] = dct * f[j]


@njit(**_OPTS)
def lstm_cell_grad(g, tc, cp, dh, dy, dc, dg):
    """One LSTM step of the backward on (n, H) rows: from the step's activated gates ``g`` (n, 4H; i, f, g, o),
    tanh of its cell state ``tc``, the previous cell state ``cp``, the hidden state's gradient ``dh`` (from the
    step after) and ``dy`` (from the output), ``dg`` (n, 4H) receives the gates' pre-activation gradients and
    ``dc`` is replaced by the previous cell state's. NumPy needs about 20 passes for the same."""
    n, H = dc.shape
    for r in range(n):
        gr, dgr = g[r], dg[r]
        _cell_grad_row(gr[:H], gr[H:2 * H], gr[2 * H:3 * H], gr[3 * H:], tc[r], cp[r], dh[r], dy[r], dc[r],
                       dgr[:H], dgr[H:2 * H], dgr[2 * H:3 * H], dgr[3 * H:])


@njit(**_OPTS)
def lstm_grad_part(part, parts, gemm, relax, pause, small, w, gates, tanh_c, c_prev, dy, dh, dc, dgates, sync, j0,
                   reverse, ints):
    """One of ``parts`` threads of an LSTM layer's backward through time, all running at once: this one owns
    hidden units j0:j0 + H_k, ``w`` (4H, H_k) holds their columns of W_hh, ``dh`` and ``dc`` (B, H_k) their state
    gradients (from the last step's in, the initial state's out). Each step, the last first: the cell gradients
    of its units (``_cell_grad_row``) into its columns of ``dgates`` (T, B, 4H); the barrier (``_barrier``: every
    part's columns written); then one one-thread GEMM dgates[t] @ w for its units' dh of the step before, which
    no other part reads. ``gates`` (T, B, 4H), ``tanh_c``, ``c_prev`` and ``dy`` (T, B, H) as ``lstm_part`` and
    ``ops.rnn.LSTMLayer``'s one-thread forward keep them; ``gemm``, ``relax``, ``pause``, ``small`` and ``ints`` as
    in ``lstm_part`` (here the GEMM's blocks are of units: 32 x 1024 @ 1024 x 128 in 103 us at once, 94 in 16-unit
    blocks)."""
    T, B, H4 = gates.shape
    H = H4 // 4
    Hk = dh.shape[1]
    j1 = j0 + Hk
    ints[0] = 78  # 'N'
    ints[1] = Hk
    ints[2] = B
    ints[3] = H4
    scal = np.empty(2, np.float32)
    scal[0] = 1.0
    scal[1] = 0.0
    p_n, p_hk, p_b, p_k, p_m = (ints.ctypes.data, ints[1:].ctypes.data, ints[2:].ctypes.data, ints[3:].ctypes.data,
                                ints[4:].ctypes.data)
    p_one, p_zero = scal.ctypes.data, scal[1:].ctypes.data
    block = sgemm_block(small, Hk, B * H4)
    wf, dhf = w.reshape(-1), dh.reshape(-1)
    for i in range(T):
        t = i if reverse else T - 1 - i
        g, dg, tc, cp, dyt = gates[t], dgates[t], tanh_c[t], c_prev[t], dy[t]
        for k in range(B):
            gk, dgk = g[k], dg[k]
            _cell_grad_row(gk[j0:j1], gk[H + j0:H + j1], gk[2 * H + j0:2 * H + j1], gk[3 * H + j0:3 * H + j1],
                           tc[k, j0:j1], cp[k, j0:j1], dh[k], dyt[k, j0:j1], dc[k], dgk[j0:j1], dgk[H + j0:H + j1],
                           dgk[2 * H + j0:2 * H + j1], dgk[3 * H + j0:3 * H + j1])
        if not _barrier(sync, part, parts, i, relax, pause):
            return
        for m0 in range(0, Hk, block):
            ints[4] = min(block, Hk - m0)
            # column-major: dh^T[m0:] (m, B) = w^T[m0:] (m, 4H) @ dg^T (4H, B)
            gemm(p_n, p_n, p_m, p_b, p_k, p_one, wf[m0:].ctypes.data, p_hk, dg.ctypes.data, p_k, p_zero,
                 dhf[m0:].ctypes.data, p_hk, 1, 1)
