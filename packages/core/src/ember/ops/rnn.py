"""Fused recurrent layers: one direction of one layer of an RNN, LSTM or GRU as a single primitive.

The input projection of the whole sequence is one GEMM, each step is one GEMM plus in-place gate
math, and the backward (BPTT) accumulates weight gradients as single GEMMs after the time loop.
Variable-length (packed) batches pass ``batch_sizes``: at step ``t`` only the first
``batch_sizes[t]`` rows (sequences sorted by decreasing length) are updated, which makes forward
and reverse directions skip padding exactly as PyTorch does. ``batch_sizes`` may also be a (B,) int
tensor of per-sequence lengths in any order (how a traced ``PackedSequence`` reaches the layer, so that
the lengths stay a graph value: ONNX's ``sequence_lens``); the layer then sorts the batch itself. Gate order is PyTorch's: LSTM
(i, f, g, o), GRU (r, z, n). The backward works on raw arrays (``once_differentiable``).
"""

from __future__ import annotations

import numpy as np

from .. import _fast
from ..autograd.function import Primitive, once_differentiable
from ..tensor import Tensor
from . import _lapack_native as _native
from ._common import xp_of


def _sigmoid_(xp, a):
    """In-place logistic sigmoid, written through tanh so it cannot overflow."""
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _rows(batch_sizes, t, B):
    return B if batch_sizes is None else int(batch_sizes[t])


def _input_projection(x, w_ih, b):
    T, B, _ = x.shape
    xp = xp_of(x)
    x2 = xp.ascontiguousarray(x.reshape(T * B, x.shape[2]))
    xw = None if b is None else _native.linear_bias(x2, w_ih, b)  # bias folded into the GEMM
    if xw is None:
        xw = x2 @ xp.ascontiguousarray(w_ih.T)  # (BLAS is faster on a contiguous W^T: 7.3 -> 6.1 ms at T*B 6400, 128 -> 1024)
        if b is not None:
            xw += b
    return xw.reshape(T, B, -1)


def _fast_cell(xw, gbuf, c):
    """The compiled fused LSTM cell (``ember[fast]``) when it applies to these float32 CPU arrays, else None."""
    if not _fast.usable(gbuf, xw, c) or not xw.flags.c_contiguous:
        return None
    from .. import _fast_rnn

    return _fast_rnn.lstm_cell


def _fast_cell_grad(gates, dy, dh, dc):
    """The compiled fused LSTM backward cell (``ember[fast]``) when it applies to these float32 CPU arrays, else
    None."""
    if not _fast.usable(gates, dy, dh, dc) or not dh.flags.c_contiguous:
        return None
    from .. import _fast_rnn

    return _fast_rnn.lstm_cell_grad


# columns (steps * batch) of input projections computed at a time by _inference_t, so that the cells read them
# from cache (LSTM classifier inference, B 32: 64-128 columns 34.5-35.8 ms, 256: 38-39, the whole sequence 42)
_SPAN_COLUMNS = 128


def _inference_t(x, h0, c0, w_ih, w_hh, b, reverse):
    """An LSTM layer's inference (no state kept for a backward, no packed lengths, no projection) with the batch
    as the inner axis: the projections are ``W_ih @ x^T`` and ``W_hh @ h`` on the weights as stored (BLAS's
    faster order here, with no transposed weight copy), and the compiled cell works on (4H, B) gates. (y, h, c),
    or None where it does not apply (no numba, not float32 CPU arrays, small layers)."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    g = np.empty((4 * H, B), dtype=np.float32)
    if T == 0 or not _fast.usable(g, x, h0, c0, w_ih, w_hh, *(() if b is None else (b,))):
        return None
    from .. import _fast_rnn

    bias = np.zeros(4 * H, dtype=np.float32) if b is None else b
    h, c = np.ascontiguousarray(h0.T), np.ascontiguousarray(c0.T)
    y = np.empty((T, B, H), dtype=np.float32)
    span = max(1, min(T, _SPAN_COLUMNS // B))
    xw = np.empty((4 * H, span * B), dtype=np.float32)
    for i, t in enumerate(_steps(T, reverse)):
        if i % span == 0:  # the next span of steps' input projections: W_ih @ x^T, in cache when the cells read it
            t0, t1 = (max(0, t - span + 1), t + 1) if reverse else (t, min(T, t + span))
            np.matmul(w_ih, x[t0:t1].reshape((t1 - t0) * B, -1).T, out=xw[:, :(t1 - t0) * B])
        np.matmul(w_hh, h, out=g)
        _fast_rnn.lstm_cell_t(g, xw, (t - t0) * B, bias, c, h)
        y[t] = h.T
    return y, np.ascontiguousarray(h.T), np.ascontiguousarray(c.T)


# hidden units per thread from which an LSTM layer is shared out by hidden units (_parts)
_PART_MIN_HIDDEN = 64


def _together(H, T, *arrays):
    """(threads, sgemm, relax, pause, BLAS's integer dtype, small: ``_fast_rnn.native()``) for a layer of ``H``
    hidden units over ``T`` steps shared out by units at once, or None where that does not apply (no steps, the
    compiled kernels not ``_fast.usable`` on ``arrays``, fewer than two threads free, few hidden units, no native
    sgemm)."""
    if T == 0 or not _fast.usable(*arrays):
        return None
    parts = _fast.together_threads(H // _PART_MIN_HIDDEN)
    if parts < 2:
        return None
    from .. import _fast_rnn

    native = _fast_rnn.native()
    return None if native is None else (parts,) + native


def _run_parts(run, parts):
    """``run(p, sync)`` for each of ``parts`` parts at once (``_fast.run_together``), ``sync`` their barrier's step
    counters; a part that fails stops the others, which would wait for it at the barrier."""
    from .. import _fast_rnn

    sync = np.zeros(_fast_rnn.SYNC_STRIDE * (parts + 1), dtype=np.int64)

    def part(p):
        try:
            run(p, sync)
        except BaseException:
            sync[parts * _fast_rnn.SYNC_STRIDE] = 1
            raise

    _fast.run_together(part, parts)
    if sync[parts * _fast_rnn.SYNC_STRIDE]:
        raise RuntimeError("LSTM: a thread of the layer stopped")


def _parts(x, h0, c0, w_ih, w_hh, b, reverse, save=False):
    """An LSTM layer (no packed lengths, no projection) on several threads at once, each owning a share of the hidden
    units: per step one one-thread GEMM on its rows of [W_hh | W_ih] (kept in its core's cache) and their gates,
    then a spin barrier (``_fast_rnn.lstm_part``). BLAS's own two threads per step's GEMM, plus span-wise
    projections (``_inference_t``), ran the LSTM classifier's layer (b32, T 200, E 128, H 256) in 40-43 ms after
    idle spells; this, 32-33; its training forward 50-53 -> 45 ms. ``b`` the summed biases or None. (y, h, c) and,
    ``save``, the states the backward keeps (gates (T, B, 4H); tanh(c), h before, c before (T, B, H)); None where
    it does not apply (fewer than two threads free, no numba, not float32 CPU arrays, few hidden units)."""
    T, B, E = x.shape
    H = w_hh.shape[1]
    together = _together(H, T, np.empty((4 * H, B), dtype=np.float32), x, h0, c0, w_ih, w_hh,
                         *(() if b is None else (b,)))
    if together is None:
        return None
    from .. import _fast_rnn

    parts, gemm, relax, pause, itype, small = together
    if b is None:
        b = np.zeros(4 * H, dtype=np.float32)
    hx = np.empty((2, H + E, B), dtype=np.float32)  # [h_{t-1}; x_t] per step, the batch inner, in turns
    hx[0, :H] = h0.T
    hx[0, H:] = x[T - 1 if reverse else 0].T
    y = np.empty((T, B, H), dtype=np.float32)
    c = np.ascontiguousarray(c0.T)
    hb = [H * p // parts for p in range(parts + 1)]
    eb = [E * p // parts for p in range(parts + 1)]
    if save:
        saved = (np.empty((T, B, 4 * H), dtype=np.float32),) + tuple(np.empty((T, B, H), dtype=np.float32)
                                                                     for _ in range(3))
    else:
        saved = (np.empty((0, 0, 0), dtype=np.float32),) * 4

    def part(p, sync):
        j0, j1 = hb[p], hb[p + 1]
        Hk = j1 - j0
        w = np.empty((4 * Hk, H + E), dtype=np.float32)  # its units' i, f, g, o rows of [W_hh | W_ih]
        wq = w.reshape(4, Hk, H + E)  # (slices: NumPy's row gathers and a concatenate cost 2x)
        wq[:, :, :H] = w_hh.reshape(4, H, H)[:, j0:j1]
        wq[:, :, H:] = w_ih.reshape(4, H, E)[:, j0:j1]
        g = np.empty((4 * Hk, B), dtype=np.float32)
        bp = np.ascontiguousarray(b.reshape(4, H)[:, j0:j1]).reshape(-1)
        _fast_rnn.lstm_part(p, parts, gemm, relax, pause, small, w, bp, x, hx, c[j0:j1], g, y, sync, j0, eb[p],
                            eb[p + 1], reverse, np.empty(8, dtype=itype), save, *saved)

    _run_parts(part, parts)
    out = (y, np.ascontiguousarray(hx[T % 2, :H].T), np.ascontiguousarray(c.T))
    return out + saved if save else out


def _grad_parts(gates, tanh_c, c_prev, dy, dh, dc, w_hh, reverse):
    """An LSTM layer's backward through time (no packed lengths, no projection) on several threads at once, each
    owning a share of the hidden units (``_fast_rnn.lstm_grad_part``): per step the cell gradients of its units,
    a spin barrier, and one one-thread GEMM for its units' dh. The states (gates (T, B, 4H), tanh(c) and c before
    (T, B, H)) as either forward keeps them, ``dy`` (T, B, H), ``dh`` and ``dc`` (B, H). The cell on one thread and
    each step's (B, 4H) @ (4H, H) GEMM on BLAS's two threads took 31 ms at B 32, T 200, H 256; this, 28.
    (dgates (T, B, 4H), dh, dc), or None where it does not apply (as ``_parts``)."""
    T, B, H4 = gates.shape
    H = H4 // 4
    together = _together(H, T, gates, tanh_c, c_prev, dy, dh, dc, w_hh)
    if together is None:
        return None
    from .. import _fast_rnn

    parts, gemm, relax, pause, itype, small = together
    dy = np.ascontiguousarray(dy)  # (a bidirectional layer's is a strided half of the output's)
    dgates = np.empty_like(gates)
    hb = [H * p // parts for p in range(parts + 1)]
    dhs = [np.ascontiguousarray(dh[:, hb[p]:hb[p + 1]]) for p in range(parts)]
    dcs = [np.ascontiguousarray(dc[:, hb[p]:hb[p + 1]]) for p in range(parts)]

    def part(p, sync):
        w = np.ascontiguousarray(w_hh[:, hb[p]:hb[p + 1]])  # its units' columns, in its core's cache
        _fast_rnn.lstm_grad_part(p, parts, gemm, relax, pause, small, w, gates, tanh_c, c_prev, dy, dhs[p], dcs[p],
                                 dgates, sync, hb[p], reverse, np.empty(8, dtype=itype))

    _run_parts(part, parts)
    return dgates, np.concatenate(dhs, axis=1), np.concatenate(dcs, axis=1)


def _arr(t):
    return None if t is None else t._data


def _wrap(a):
    return None if a is None else Tensor._make(a)


def _forward_by_lengths(cls, ctx, args, at, n_states):
    """``cls.forward`` where ``args[at]`` (batch_sizes) is a (B,) tensor of lengths in any order: the batch
    is sorted by decreasing length, run with the matching batch sizes, and put back in its order."""
    args = list(args)
    x = args[0]._data
    xp = xp_of(x)
    lengths = args[at]._data
    lengths = np.asarray(lengths.get() if hasattr(lengths, "get") else lengths, dtype=np.int64)  # a plan, on the host
    if lengths.shape != (x.shape[1],):
        raise RuntimeError(f"{cls.__name__}: expected lengths of shape ({x.shape[1]},), got {tuple(lengths.shape)}")
    order = np.argsort(-lengths, kind="stable")
    args[at] = tuple(int(n) for n in (lengths[order][None, :] > np.arange(x.shape[0])[:, None]).sum(axis=1))
    order = xp.asarray(order)
    inverse = order.argsort()
    args[0] = Tensor._make(x[:, order])
    for k in range(1, 1 + n_states):
        args[k] = Tensor._make(args[k]._data[order])
    y, *finals = cls.forward(ctx, *args)
    if ctx.needs_input_grad is not None:
        ctx.order = (order, inverse)
    return (y[:, inverse], *(f[inverse] for f in finals))


def _backward_by_lengths(backward, ctx, grads, n_states):
    """``backward`` of a layer run by ``_forward_by_lengths``: the same permutation on the gradients."""
    order, inverse = ctx.order
    dy, *dfinals = grads
    res = list(backward(ctx, Tensor._make(dy._data[:, order]), *(Tensor._make(g._data[order]) for g in dfinals)))
    res[0] = Tensor._make(res[0]._data[:, inverse])
    for k in range(1, 1 + n_states):
        res[k] = Tensor._make(res[k]._data[inverse])
    return tuple(res)


def _bias_sum(b_ih, b_hh):
    if b_ih is None:
        return None
    return b_ih + b_hh


def _lstm_grads(dgates, xa, wih, h_prev, has_bias, dh, dc, dwhr):
    """An LSTM layer's gradients from its gates' pre-activation gradients ``dgates`` (T, B, 4H) at every step: the
    input's, the weights' and the biases' (one GEMM each), with those of the initial states ``dh``, ``dc`` and of
    the projection ``dwhr``."""
    T, B, H4 = dgates.shape
    flat = dgates.reshape(T * B, H4)
    dx = _fast.matmul_2d(flat, wih).reshape(xa.shape)
    dwih = _fast.matmul_2d(flat.T, xa.reshape(T * B, -1))
    dwhh = _fast.matmul_2d(flat.T, h_prev.reshape(T * B, -1))
    db = flat.sum(axis=0) if has_bias else None
    return (_wrap(dx), _wrap(dh), _wrap(dc), _wrap(dwih), _wrap(dwhh), _wrap(db), _wrap(db), _wrap(dwhr))


class LSTMLayer(Primitive):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse):
        if isinstance(batch_sizes, Tensor):
            return _forward_by_lengths(LSTMLayer, ctx, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse), 8, 2)
        save = ctx.needs_input_grad is not None  # inference keeps no per-step state at all
        if batch_sizes is None and w_hr is None:
            args = (x._data, h0._data, c0._data, w_ih._data, w_hh._data, _bias_sum(_arr(b_ih), _arr(b_hh)), reverse)
            done = _parts(*args, save=save)
            if done is not None and save:
                y, h, c, *states = done
                ctx.saved = (x._data, w_ih._data, w_hh._data, None, *states, None, reverse, b_ih is not None)
                return y, h, c
            if done is None and not save:  # one thread: the batch-inner loop
                done = _inference_t(*args)
            if done is not None:
                return done
        xa, h, c = x._data, h0._data.copy(), c0._data.copy()
        wih, whh, whr = w_ih._data, w_hh._data, _arr(w_hr)
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[1] if whr is None else whr.shape[1]
        P = h.shape[1]
        xw = _input_projection(xa, wih, _bias_sum(_arr(b_ih), _arr(b_hh)))
        # BLAS multiplies by a contiguous W^T faster than by the transposed view (126 -> 91 us per
        # step at B 32, H 256); the copy costs one pass over the weight
        whh_t = xp.ascontiguousarray(whh.T)
        whr_t = None if whr is None else xp.ascontiguousarray(whr.T)
        if save:
            gates_all = xp.empty((T, B, 4 * H), dtype=xa.dtype)
            tanh_c_all = xp.zeros((T, B, H), dtype=xa.dtype)
            h_prev_all = xp.zeros((T, B, P), dtype=xa.dtype)
            c_prev_all = xp.zeros((T, B, H), dtype=xa.dtype)
        y = xp.zeros((T, B, P), dtype=xa.dtype)
        gbuf = xp.empty((B, 4 * H), dtype=xa.dtype)
        tbuf = xp.empty((B, H), dtype=xa.dtype)
        rbuf = None if whr is None else xp.empty((B, H), dtype=xa.dtype)  # o * tanh(c) before the projection
        cell = _fast_cell(xw, gbuf, c)
        for t in _steps(T, reverse):
            n = _rows(batch_sizes, t, B)
            hp, cp = h[:n], c[:n]
            if save:
                h_prev_all[t, :n] = hp
                c_prev_all[t, :n] = cp
            g, tc = gbuf[:n], tbuf[:n]
            xp.matmul(hp, whh_t, out=g)
            hn = h[:n] if whr is None else rbuf[:n]
            if cell is not None:  # one fused pass: gates, c (in place), tanh(c) and h
                cell(g, xw[t, :n], cp, tc, hn)
            else:
                g += xw[t, :n]
                _sigmoid_(xp, g[:, : 2 * H])
                xp.tanh(g[:, 2 * H : 3 * H], out=g[:, 2 * H : 3 * H])
                _sigmoid_(xp, g[:, 3 * H :])
                cp *= g[:, H : 2 * H]
                xp.multiply(g[:, :H], g[:, 2 * H : 3 * H], out=tc)
                cp += tc
                xp.tanh(cp, out=tc)
                xp.multiply(g[:, 3 * H :], tc, out=hn)
            if save:
                gates_all[t, :n] = g
                tanh_c_all[t, :n] = tc
            if whr is not None:
                xp.matmul(hn, whr_t, out=h[:n])
            y[t, :n] = h[:n]
        if save:
            ctx.saved = (xa, wih, whh, whr, gates_all, tanh_c_all, h_prev_all, c_prev_all, batch_sizes, reverse,
                         b_ih is not None)
        return y, h, c

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, dc_n):
        if getattr(ctx, "order", None) is not None:
            return _backward_by_lengths(LSTMLayer._backward, ctx, (dy, dh_n, dc_n), 2)
        return LSTMLayer._backward(ctx, dy, dh_n, dc_n)

    @staticmethod
    def _backward(ctx, dy, dh_n, dc_n):
        xa, wih, whh, whr, gates_all, tanh_c_all, h_prev_all, c_prev_all, batch_sizes, reverse, has_bias = ctx.saved
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[0] // 4
        dh = dh_n._data.copy()
        dc = dc_n._data.copy()
        dyd = dy._data
        done = None
        if whr is None and batch_sizes is None:
            done = _grad_parts(gates_all, tanh_c_all, c_prev_all, dyd, dh, dc, whh, reverse)
        if done is not None:
            return _lstm_grads(done[0], xa, wih, h_prev_all, has_bias, done[1], done[2], None)
        dgates = xp.zeros_like(gates_all)
        dwhr = xp.zeros_like(whr) if whr is not None else None
        cell_grad = _fast_cell_grad(gates_all, dyd, dh, dc) if whr is None else None
        if cell_grad is not None:
            dyd = xp.ascontiguousarray(dyd)  # (a bidirectional layer's is a strided half of the output's)
        for t in reversed(list(_steps(T, reverse))):
            n = _rows(batch_sizes, t, B)
            if cell_grad is not None:  # one fused pass (LSTM classifier step, b32 T200 H256: 144 -> 134 ms)
                cell_grad(gates_all[t, :n], tanh_c_all[t, :n], c_prev_all[t, :n], dh[:n], dyd[t, :n], dc[:n],
                          dgates[t, :n])
                xp.matmul(dgates[t, :n], whh, out=dh[:n])
                continue
            g = gates_all[t, :n]
            i, f, gg, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
            dh_t = dh[:n] + dyd[t, :n]
            if whr is not None:
                h_raw = o * tanh_c_all[t, :n]
                dwhr += dh_t.T @ h_raw
                dh_t = dh_t @ whr
            tc = tanh_c_all[t, :n]
            dct = dc[:n] + dh_t * o * (1.0 - tc * tc)
            dg = dgates[t, :n]
            dg[:, :H] = dct * gg * i * (1.0 - i)
            dg[:, H : 2 * H] = dct * c_prev_all[t, :n] * f * (1.0 - f)
            dg[:, 2 * H : 3 * H] = dct * i * (1.0 - gg * gg)
            dg[:, 3 * H :] = dh_t * tc * o * (1.0 - o)
            dc[:n] = dct * f
            dh[:n] = dg @ whh
        return _lstm_grads(dgates, xa, wih, h_prev_all, has_bias, dh, dc, dwhr)


class GRULayer(Primitive):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse):
        if isinstance(batch_sizes, Tensor):
            return _forward_by_lengths(GRULayer, ctx, (x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse), 6, 1)
        xa, h = x._data, h0._data.copy()
        wih, whh, bhh = w_ih._data, w_hh._data, _arr(b_hh)
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[1]
        xw = _input_projection(xa, wih, _arr(b_ih))
        r_all = xp.zeros((T, B, H), dtype=xa.dtype)
        z_all = xp.zeros((T, B, H), dtype=xa.dtype)
        n_all = xp.zeros((T, B, H), dtype=xa.dtype)
        hwn_all = xp.zeros((T, B, H), dtype=xa.dtype)
        h_prev_all = xp.zeros((T, B, H), dtype=xa.dtype)
        y = xp.zeros((T, B, H), dtype=xa.dtype)
        for t in _steps(T, reverse):
            k = _rows(batch_sizes, t, B)
            hp = h[:k]
            h_prev_all[t, :k] = hp
            hw = hp @ whh.T
            if bhh is not None:
                hw += bhh
            rz = xw[t, :k, : 2 * H] + hw[:, : 2 * H]
            _sigmoid_(xp, rz)
            r, z = rz[:, :H], rz[:, H:]
            nn = xp.tanh(xw[t, :k, 2 * H :] + r * hw[:, 2 * H :])
            hn = nn + z * (hp - nn)
            r_all[t, :k], z_all[t, :k], n_all[t, :k], hwn_all[t, :k] = r, z, nn, hw[:, 2 * H :]
            h[:k] = hn
            y[t, :k] = hn
        if ctx.needs_input_grad is not None:
            ctx.saved = (xa, wih, whh, r_all, z_all, n_all, hwn_all, h_prev_all, batch_sizes, reverse, b_ih is not None, bhh is not None)
        return y, h

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n):
        if getattr(ctx, "order", None) is not None:
            return _backward_by_lengths(GRULayer._backward, ctx, (dy, dh_n), 1)
        return GRULayer._backward(ctx, dy, dh_n)

    @staticmethod
    def _backward(ctx, dy, dh_n):
        xa, wih, whh, r_all, z_all, n_all, hwn_all, h_prev_all, batch_sizes, reverse, has_bih, has_bhh = ctx.saved
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[1]
        dh = dh_n._data.copy()
        dyd = dy._data
        dxw = xp.zeros((T, B, 3 * H), dtype=xa.dtype)
        dhw = xp.zeros((T, B, 3 * H), dtype=xa.dtype)
        for t in reversed(list(_steps(T, reverse))):
            k = _rows(batch_sizes, t, B)
            r, z, nn, hwn, hp = r_all[t, :k], z_all[t, :k], n_all[t, :k], hwn_all[t, :k], h_prev_all[t, :k]
            dht = dh[:k] + dyd[t, :k]
            dn = dht * (1.0 - z) * (1.0 - nn * nn)
            dz = dht * (hp - nn) * z * (1.0 - z)
            dr = dn * hwn * r * (1.0 - r)
            dxw[t, :k, :H], dxw[t, :k, H : 2 * H], dxw[t, :k, 2 * H :] = dr, dz, dn
            dhw[t, :k, :H], dhw[t, :k, H : 2 * H], dhw[t, :k, 2 * H :] = dr, dz, dn * r
            dh[:k] = dht * z + dhw[t, :k] @ whh
        fx, fh = dxw.reshape(T * B, 3 * H), dhw.reshape(T * B, 3 * H)
        dx = (fx @ wih).reshape(xa.shape)
        dwih = fx.T @ xa.reshape(T * B, -1)
        dwhh = fh.T @ h_prev_all.reshape(T * B, -1)
        dbih = fx.sum(axis=0) if has_bih else None
        dbhh = fh.sum(axis=0) if has_bhh else None
        return (_wrap(dx), _wrap(dh), _wrap(dwih), _wrap(dwhh), _wrap(dbih), _wrap(dbhh))


class RNNLayer(Primitive):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity):
        if isinstance(batch_sizes, Tensor):
            return _forward_by_lengths(RNNLayer, ctx, (x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity), 6, 1)
        xa, h = x._data, h0._data.copy()
        wih, whh = w_ih._data, w_hh._data
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[1]
        xw = _input_projection(xa, wih, _bias_sum(_arr(b_ih), _arr(b_hh)))
        h_all = xp.zeros((T, B, H), dtype=xa.dtype)
        h_prev_all = xp.zeros((T, B, H), dtype=xa.dtype)
        relu = nonlinearity == "relu"
        for t in _steps(T, reverse):
            k = _rows(batch_sizes, t, B)
            h_prev_all[t, :k] = h[:k]
            pre = xw[t, :k] + h[:k] @ whh.T
            hn = xp.maximum(pre, 0) if relu else xp.tanh(pre)
            h[:k] = hn
            h_all[t, :k] = hn
        if ctx.needs_input_grad is not None:
            ctx.saved = (xa, wih, whh, h_all, h_prev_all, batch_sizes, reverse, relu, b_ih is not None)
        return h_all.copy(), h

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n):
        if getattr(ctx, "order", None) is not None:
            return _backward_by_lengths(RNNLayer._backward, ctx, (dy, dh_n), 1)
        return RNNLayer._backward(ctx, dy, dh_n)

    @staticmethod
    def _backward(ctx, dy, dh_n):
        xa, wih, whh, h_all, h_prev_all, batch_sizes, reverse, relu, has_bias = ctx.saved
        xp = xp_of(xa)
        T, B, _ = xa.shape
        H = whh.shape[1]
        dh = dh_n._data.copy()
        dpre = xp.zeros((T, B, H), dtype=xa.dtype)
        for t in reversed(list(_steps(T, reverse))):
            k = _rows(batch_sizes, t, B)
            ht = h_all[t, :k]
            dht = dh[:k] + dy._data[t, :k]
            dp = dht * (ht > 0) if relu else dht * (1.0 - ht * ht)
            dpre[t, :k] = dp
            dh[:k] = dp @ whh
        flat = dpre.reshape(T * B, H)
        dx = (flat @ wih).reshape(xa.shape)
        dwih = flat.T @ xa.reshape(T * B, -1)
        dwhh = flat.T @ h_prev_all.reshape(T * B, -1)
        db = flat.sum(axis=0) if has_bias else None
        return (_wrap(dx), _wrap(dh), _wrap(dwih), _wrap(dwhh), _wrap(db), _wrap(db))


class GatherRows(Primitive):
    """``x[index]`` along dim 0 for unique indices (packing); backward scatters back into zeros."""

    @staticmethod
    def forward(ctx, x, index, n_rows):
        ctx.shape = x._data.shape
        ctx.index = index
        return x._data[index]

    @staticmethod
    def backward(ctx, grad):
        return scatter_rows(grad, ctx.index, ctx.shape[0]), None, None


class ScatterRows(Primitive):
    """A (n_rows, ...) array of zeros with ``x`` written at rows ``index`` (unique); the inverse of GatherRows."""

    @staticmethod
    def forward(ctx, x, index, n_rows, padding_value=0.0):
        ctx.index = index
        xp = xp_of(x._data)
        out = xp.full((n_rows,) + x._data.shape[1:], padding_value, dtype=x._data.dtype)
        out[index] = x._data
        return out

    @staticmethod
    def backward(ctx, grad):
        return GatherRows.apply(grad, ctx.index, None), None, None, None


def gather_rows(x, index, n_rows=None):
    return GatherRows.apply(x, index, n_rows)


def scatter_rows(x, index, n_rows, padding_value=0.0):
    return ScatterRows.apply(x, index, n_rows, padding_value)


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None, reverse=False):
    """One LSTM direction over a time-major (T, B, I) input; returns (output, h_n, c_n)."""
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse)


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    """One GRU direction over a time-major (T, B, I) input; returns (output, h_n)."""
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False, nonlinearity="tanh"):
    """One Elman-RNN direction (tanh or relu) over a time-major (T, B, I) input; returns (output, h_n)."""
    return RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity)


__all__: list = []
