"""IIR/FIR filtering of torchaudio.functional: ``lfilter``, ``biquad`` and friends, pre/de-emphasis.

``lfilter`` is differentiable with respect to the waveform and both coefficient sets. The FIR part is a
grouped ``conv1d``; the recursive part is one autograd Function whose forward runs the recursion in
blocks of time steps: within a block the output is the input convolved with the filter's impulse response
(one matmul with a Toeplitz matrix) plus the free response to the state carried in from the previous
block (a second matmul), which is exact and vectorised over batch and channels.
"""

from __future__ import annotations

import math

import ember
import ember.nn.functional as F
from ember.autograd import Function, once_differentiable

__all__ = ["lfilter", "biquad", "highpass_biquad", "lowpass_biquad", "preemphasis", "deemphasis"]

_BLOCK = 128


def _xp(arr):
    return ember.backend.array_module(arr)


def _block_matrices(xp, a, block):
    """For normalised ``a`` (C, p+1): impulse-response Toeplitz (C, B, B) and state response (C, p, B) matrices."""
    c, order = a.shape[0], a.shape[1] - 1
    # impulse response h[n] of 1/A(z) for n < block, and free responses to the p previous outputs
    h = xp.zeros((c, block + order), dtype=a.dtype)
    h[:, order] = 1.0
    free = xp.zeros((c, order, block + order), dtype=a.dtype)
    for j in range(order):  # free[:, j] starts from state y[-1-j] = 1
        free[:, j, order - 1 - j] = 1.0
    for n in range(order, block + order):
        acc = -(a[:, 1:] * h[:, n - order:n][:, ::-1]).sum(1)
        h[:, n] = acc + (1.0 if n == order else 0.0)
        free[:, :, n] = -(a[:, None, 1:] * free[:, :, n - order:n][:, :, ::-1]).sum(2)
    h = h[:, order:]
    idx = xp.arange(block)
    lag = idx[:, None] - idx[None, :]  # row: output n, col: input m
    toe = xp.where(lag[None] >= 0, h[:, xp.clip(lag, 0, block - 1)], 0.0).astype(a.dtype)
    return toe, free[:, :, order:]


def _iir(xp, x, a):
    """Run y[n] = x[n] - sum_k a[k] y[n-k] for x (N, C, T) and normalised a (C, p+1)."""
    n, c, t = x.shape
    order = a.shape[1] - 1
    if order == 0 or t == 0:
        return x.copy()
    block = min(_BLOCK, t)
    toe, free = _block_matrices(xp, a, block)
    y = xp.empty_like(x)
    state = xp.zeros((n, c, order), dtype=x.dtype)  # state[..., j] = y[start - 1 - j]
    for s in range(0, t, block):
        e = min(s + block, t)
        m = e - s
        # (C, n, m) @ (C, m, m)^T : out[n, i] = sum_j x[n, j] toe[i, j]
        xb = x[:, :, s:e].transpose(1, 0, 2)
        yb = xp.matmul(xb, toe[:, :m, :m].transpose(0, 2, 1)) + xp.matmul(state.transpose(1, 0, 2), free[:, :, :m])
        y[:, :, s:e] = yb.transpose(1, 0, 2)
        if m >= order:
            state = y[:, :, e - order:e][:, :, ::-1].copy()
        else:
            state = xp.concatenate([y[:, :, s:e][:, :, ::-1], state[:, :, : order - m]], axis=2)
    return y


class _IIR(Function):
    @staticmethod
    def forward(ctx, waveform, a):
        xp = _xp(waveform._data)
        y = _iir(xp, waveform._data, a._data)
        out = ember.Tensor._make(y)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        a, y = ctx.saved_tensors
        xp = _xp(y._data)
        g = _iir(xp, xp.ascontiguousarray(dy._data[:, :, ::-1]), a._data)[:, :, ::-1]
        order = a.shape[1]
        da = None
        if ctx.needs_input_grad[1]:
            t = y.shape[2]
            ypad = xp.concatenate([xp.zeros(y.shape[:2] + (order - 1,), dtype=y._data.dtype), y._data], axis=2)
            # da[c, k] = -sum_{n,t} g[n,c,t] * y[n,c,t-k]
            da = xp.stack([-(g * ypad[:, :, order - 1 - k: order - 1 - k + t]).sum(axis=(0, 2)) for k in range(order)], axis=1)
            da = ember.Tensor._make(da)
        return ember.Tensor._make(xp.ascontiguousarray(g)), da


def _fir(waveform, b):
    order, channels = b.shape[1], b.shape[0]
    padded = F.pad(waveform, (order - 1, 0))
    return F.conv1d(padded, b.flip(1).unsqueeze(1), groups=channels)


def lfilter(waveform, a_coeffs, b_coeffs, clamp: bool = True, batching: bool = True):
    """Filter ``waveform`` (..., time) with the difference equation of ``a_coeffs`` / ``b_coeffs``.

    Coefficients are 1-D ``(order + 1,)`` or 2-D ``(num_filters, order + 1)``, lowest delay first. With 2-D
    coefficients and ``batching=True`` the waveform's second-to-last axis must equal ``num_filters``;
    with ``batching=False`` every filter is applied to the whole waveform (output ``(..., num_filters, time)``).
    """
    if tuple(a_coeffs.shape) != tuple(b_coeffs.shape):
        raise ValueError(f"Expected coeffs to be the same size.Found: a_coeffs size: {a_coeffs.shape}, b_coeffs size: {b_coeffs.shape}")
    if a_coeffs.ndim > 2:
        raise ValueError(f"Expected coeffs to have greater than 1 dimension. Found: {a_coeffs.ndim}")
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim <= 0:
                raise ValueError(f"Expected waveform to have a positive number of dimensions.Found: {waveform.ndim}")
            if waveform.ndim < 2 or waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError("Expected number of batches in waveform and coeffs to be the same."
                                 f"Found: coeffs batches: {a_coeffs.shape[0]}, waveform batches: "
                                 f"{waveform.shape[-2] if waveform.ndim >= 2 else None}")
        else:
            waveform = ember.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs, b_coeffs = a_coeffs.unsqueeze(0), b_coeffs.unsqueeze(0)
    shape = waveform.shape
    x = waveform.reshape(-1, a_coeffs.shape[0], shape[-1])
    a0 = a_coeffs[:, 0:1]
    out = _IIR.apply(_fir(x, b_coeffs / a0), a_coeffs / a0)
    if clamp:
        out = ember.clamp(out, min=-1.0, max=1.0)
    return out.reshape(tuple(shape[:-1]) + (out.shape[-1],))


def _coef(v, like):
    return (v if isinstance(v, ember.Tensor) else ember.tensor(float(v))).to(device=like.device, dtype=like.dtype).reshape(1)


def biquad(waveform, b0, b1, b2, a0, a1, a2):
    """Biquad filter ``(b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2)`` with zero initial conditions."""
    c = [_coef(v, waveform) for v in (a0, a1, a2, b0, b1, b2)]
    return lfilter(waveform, ember.cat(c[:3]), ember.cat(c[3:]))


def _w0_alpha(waveform, sample_rate, cutoff_freq, Q):
    cutoff = ember.as_tensor(cutoff_freq, dtype=waveform.dtype, device=waveform.device)
    Q = ember.as_tensor(Q, dtype=waveform.dtype, device=waveform.device)
    w0 = 2 * math.pi * cutoff / sample_rate
    return w0, ember.sin(w0) / 2.0 / Q


def highpass_biquad(waveform, sample_rate: int, cutoff_freq: float, Q: float = 0.707):
    """Biquad high-pass filter (SoX's design)."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 + cos) / 2
    return biquad(waveform, b0, -1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def lowpass_biquad(waveform, sample_rate: int, cutoff_freq: float, Q: float = 0.707):
    """Biquad low-pass filter (SoX's design)."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 - cos) / 2
    return biquad(waveform, b0, 1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def preemphasis(waveform, coeff: float = 0.97):
    """``y[i] = x[i] - coeff * x[i - 1]`` along the last axis."""
    return ember.cat([waveform[..., :1], waveform[..., 1:] - coeff * waveform[..., :-1]], dim=-1)


def deemphasis(waveform, coeff: float = 0.97):
    """``y[i] = x[i] + coeff * y[i - 1]`` along the last axis (inverse of :func:`preemphasis`)."""
    a = ember.tensor([1.0, -coeff], dtype=waveform.dtype, device=waveform.device)
    b = ember.tensor([1.0, 0.0], dtype=waveform.dtype, device=waveform.device)
    return lfilter(waveform, a_coeffs=a, b_coeffs=b)
