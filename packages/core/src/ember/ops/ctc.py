"""Connectionist Temporal Classification loss (``F.ctc_loss``), values and gradients as PyTorch's.

The target of length L is extended with blanks to 2L+1 states. The forward (alpha) recursion runs in log
space over time only; each step is vectorised over the batch and all states, and a sample past its input
length keeps its alphas frozen. Backward runs the beta recursion the same way, then gathers the state
occupations onto the classes with one batched matmul. As in PyTorch, the gradient returned for
``log_probs`` is ``exp(log_probs) - occupation`` (the gradient of the logits under a log_softmax), not the
plain derivative; check gradients through a ``log_softmax``.
"""

from __future__ import annotations

import numpy

from .. import backend
from ..autograd.function import Primitive, once_differentiable
from ..tensor import Tensor
from ._common import xp_of
from .unary import not_implemented
from ..autograd.autocast import autocast_op

_NEG_INF = -numpy.inf
_CHECK = " (while checking arguments for ctc_loss_allocate_outputs)"


def _shift(xp, a, k):
    """``a`` moved k states up along the last axis (the vacated states are -inf)."""
    out = xp.full(a.shape, _NEG_INF, dtype=a.dtype)
    out[..., k:] = a[..., :-k]
    return out


class _CTC(Primitive):
    """Per-sample negative log-likelihoods ``[N]`` of ``log_probs [T, N, C]`` given extended labels."""

    @staticmethod
    def forward(ctx, log_probs, labels, skip, in_len, tgt_len, zero_infinity):
        lp = log_probs._data
        xp = xp_of(lp)
        T, N, _ = lp.shape
        S = labels.shape[1]
        with numpy.errstate(all="ignore"):
            emit = lp[:, xp.arange(N)[:, None], labels]  # [T, N, S]
            alphas = xp.full((T, N, S), _NEG_INF, dtype=lp.dtype)
            alpha = xp.full((N, S), _NEG_INF, dtype=lp.dtype)
            alpha[:, 0] = emit[0, :, 0]
            if S > 1:
                alpha[:, 1] = emit[0, :, 1]
            alpha = xp.where((in_len > 0)[:, None], alpha, _NEG_INF)
            alphas[0] = alpha
            for t in range(1, T):
                prev2 = xp.where(skip, _shift(xp, alpha, 2), _NEG_INF)
                new = xp.logaddexp(xp.logaddexp(alpha, _shift(xp, alpha, 1)), prev2) + emit[t]
                alpha = xp.where((t < in_len)[:, None], new, alpha)
                alphas[t] = alpha
            last = 2 * tgt_len
            end = alpha[xp.arange(N), last]
            end_prev = xp.where(tgt_len > 0, alpha[xp.arange(N), xp.maximum(last - 1, 0)], _NEG_INF)
            nll = -xp.logaddexp(end, end_prev)
        inf = xp.isinf(nll)
        if zero_infinity:
            nll = xp.where(inf, 0, nll)
        ctx.state = (labels, skip, in_len, tgt_len, emit, alphas, nll, inf, zero_infinity)
        ctx.save_for_backward(log_probs)
        return nll

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        labels, skip, in_len, tgt_len, emit, alphas, nll, inf, zero_infinity = ctx.state
        lp = log_probs._data
        xp = xp_of(lp)
        T, N, C = lp.shape
        S = labels.shape[1]
        last = 2 * tgt_len
        states = xp.arange(S)[None, :]
        final = (states == last[:, None]) | ((states == last[:, None] - 1) & (tgt_len > 0)[:, None])
        skip_up = _shift_down(xp, skip, 2, False)  # may state s jump to s + 2
        with numpy.errstate(all="ignore"):
            beta = xp.full((N, S), _NEG_INF, dtype=lp.dtype)
            log_occ = xp.empty((T, N, S), dtype=lp.dtype)
            for t in range(T - 1, -1, -1):
                nxt2 = xp.where(skip_up, _shift_down(xp, beta, 2, _NEG_INF), _NEG_INF)
                rec = xp.logaddexp(xp.logaddexp(beta, _shift_down(xp, beta, 1, _NEG_INF)), nxt2) + emit[t]
                beta = xp.where((t == in_len - 1)[:, None], xp.where(final, emit[t], _NEG_INF),
                                xp.where((t < in_len - 1)[:, None], rec, _NEG_INF))
                log_occ[t] = alphas[t] + beta
            # sum the occupations of the states of each class: exp(log_occ - m) @ one-hot(labels), per sample
            m = log_occ.max(axis=2, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            onehot = (labels[:, :, None] == xp.arange(C)[None, None, :]).astype(lp.dtype)  # [N, S, C]
            occ = xp.matmul(xp.exp(log_occ - m).transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # [T, N, C]
            log_cls = xp.log(occ) + m
            g = xp.exp(lp) - xp.exp(log_cls + nll[None, :, None] - lp)
        valid = (xp.arange(T)[:, None] < in_len[None, :])[:, :, None]
        if zero_infinity:
            valid = valid & ~inf[None, :, None]
        g = xp.where(valid, g, 0) * grad._data[None, :, None]
        return Tensor._make(g.astype(lp.dtype, copy=False)), None, None, None, None, None


def _shift_down(xp, a, k, fill):
    """``a`` moved k states down along the last axis (state s gets state s + k)."""
    out = xp.full(a.shape, fill, dtype=a.dtype)
    out[..., :-k] = a[..., k:]
    return out


def _lengths(value, name, xp, device):
    if isinstance(value, Tensor):
        arr = backend.to_device(value._data, device).astype("int64").reshape(-1)
    else:
        arr = xp.asarray([int(v) for v in (value if isinstance(value, (list, tuple)) else [value])], dtype="int64")
    return arr


@autocast_op
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The Connectionist Temporal Classification loss.

    ``log_probs``: ``[T, N, C]`` (or ``[T, C]``) log-probabilities; ``targets``: padded ``[N, S]`` or the
    concatenated 1-D targets; ``input_lengths``/``target_lengths``: ``[N]`` tensors or tuples of ints.
    ``reduction='mean'`` divides each loss by its target length, then averages over the batch.
    """
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss(): log_probs and targets must be Tensors")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    lp_arr = log_probs._data
    if lp_arr.dtype.kind != "f" or lp_arr.dtype.itemsize == 2:
        raise not_implemented("ctc_loss", lp_arr)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.ndim == 1:
            targets = targets.unsqueeze(0)
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss(): expected log_probs to be 2-D or 3-D, but got {log_probs.ndim}-D")
    xp = xp_of(log_probs._data)
    dev = log_probs.device
    T, N, C = log_probs._data.shape
    in_len = _lengths(input_lengths, "input_lengths", xp, dev)
    tgt_len = _lengths(target_lengths, "target_lengths", xp, dev)
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    if in_len.shape[0] != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tgt_len.shape[0] != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    il, tl = backend.to_device(in_len, backend.CPU), backend.to_device(tgt_len, backend.CPU)
    if N and int(tl.min()) < 0:
        raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {int(tl.min())}" + _CHECK)
    if N and int(il.min()) < 0:
        raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {int(il.min())}" + _CHECK)
    if N and int(il.max()) > T:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {int(il.max())}" + _CHECK)
    max_l = int(tl.max()) if N else 0
    tg = backend.to_device(targets._data, dev).astype("int64")
    if tg.ndim == 1:  # concatenated targets
        total = int(tl.sum())
        if tg.shape[0] < total:
            raise RuntimeError(
                f"Expected tensor to have size {total} at dimension 0, but got size {tg.shape[0]} for argument #2 "
                "'targets'" + _CHECK
            )
        offsets = xp.cumsum(tgt_len) - tgt_len
        idx = offsets[:, None] + xp.arange(max_l)[None, :]
        inside = xp.arange(max_l)[None, :] < tgt_len[:, None]
        padded = xp.where(inside, tg[xp.where(inside, idx, 0)] if tg.shape[0] else 0, blank)
    else:
        if tg.shape[1] < max_l:
            raise RuntimeError(
                f"Expected tensor to have size at least {max_l} at dimension 1, but got size {tg.shape[1]} for "
                "argument #2 'targets'" + _CHECK
            )
        inside = xp.arange(max_l)[None, :] < tgt_len[:, None]
        padded = xp.where(inside, tg[:, :max_l], blank)
    labels = xp.full((N, 2 * max_l + 1), blank, dtype="int64")
    labels[:, 1::2] = padded
    skip = xp.zeros(labels.shape, dtype=bool)
    skip[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
    nll = _CTC.apply(log_probs, labels, skip, in_len, tgt_len, bool(zero_infinity))
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    denom = Tensor._make(xp.maximum(tgt_len, 1).astype(log_probs._data.dtype))
    return (nll / denom).mean()


__all__ = ["ctc_loss"]
