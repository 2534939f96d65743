"""Loss functions (``ember.nn.functional``): PyTorch's signatures, defaults, reductions and errors.

``cross_entropy`` and ``nll_loss`` are fused primitives on raw arrays (a stable log-softmax and the
NLL gather in one pass; backward is ``(softmax - smoothed one-hot) * scale``). When a graph is being
built during backward (``create_graph=True``) their backward switches to Tensor ops, so they can be
differentiated twice. The other losses are short compositions of Tensor ops (or small elementwise
primitives with Tensor-op backwards), so they support double backward as well.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import BackwardNode, Primitive
from ..autograd.grad_mode import STATE
from .. import _fast
from .._parallel import run_spans
from ..tensor import Tensor
from . import _cuda_kernels as _cuda
from .distance import pairwise_distance
from ._common import checks_values, quiet_errors, xp_of
from .unary import scalar_type_name
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op


def _size(shape) -> str:
    return f"torch.Size({list(shape)})"


# ---- reductions ---------------------------------------------------------------------------------


def _legacy_get_string(size_average, reduce, emit_warning=True):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.", stacklevel=4)
    return ret


def _get_enum(reduction):
    """Validate ``reduction`` (PyTorch's ValueError); 'elementwise_mean' is the deprecated 'mean'."""
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=4)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _get_enum(reduction)


def _apply_reduction(loss, reduction):
    if reduction == "mean":
        if loss._data.size == 0:  # PyTorch: nan, without a warning
            return loss.sum() * float("nan")
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({_size(target.shape)}) that is different to the input size ({_size(input.shape)}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _hinge(z):
    """max(z, 0) whose gradient is 0 at z == 0: PyTorch's margin kernels count a term only where z > 0."""
    from .unary import relu

    return relu(z)


def _check_output_shape(input, target):
    """Losses whose output takes ``input``'s shape: ``target`` must broadcast to it (PyTorch's message)."""
    if tuple(target.shape) != tuple(input.shape):
        from .._errors import broadcast_error

        err = broadcast_error((input.shape, target.shape))
        if err is not None:
            raise err
        shape = list(_broadcast_shape(input.shape, target.shape))
        if shape != list(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {shape}")


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(x if y == 1 else y for x, y in zip(a, b))


def _broadcast_pair(input, target):
    """``input`` and ``target`` expanded to one shape, as PyTorch's pointwise losses do first (so a 0-d
    operand takes part in type promotion like any other)."""
    if tuple(target.shape) == tuple(input.shape):
        return input, target
    from .broadcast import broadcast_tensors

    return broadcast_tensors(input, target)


def _const(arr):
    return Tensor._make(arr)


# ---- class-index targets: shared checks and index arithmetic ------------------------------------


def _check_float_input(input, kernel="log_softmax_lastdim_kernel_impl"):
    if _np_kind(input._data.dtype) not in "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type_name(input._data.dtype)}'")


def _check_class_target(input, target, weight, fname):
    """PyTorch's shape / dtype checks of ``nll_loss_nd``; returns the batched input shape (N, C, *)."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{fname}(): argument 'target' (position 2) must be Tensor, not {type(target).__name__}")
    xs, ts = tuple(input.shape), tuple(target.shape)
    if len(xs) < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {len(xs)})")
    if len(xs) != 1 and len(ts) >= 1 and xs[0] != ts[0]:
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target batch_size ({ts[0]}).")
    tdt = target._data.dtype
    if tdt != np.int64 and tdt != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {scalar_type_name(tdt)}")
    if len(xs) <= 2:
        if len(ts) > 1 or (len(xs) == 2 and len(ts) == 0):
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if len(xs) == 1 and len(ts) == 1 and ts[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {ts[0]}")
    elif len(xs) == 4:
        if len(ts) != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {len(ts)}")
        if ts != xs[:1] + xs[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
    elif ts != xs[:1] + xs[2:]:
        raise RuntimeError(f"Expected target size {list(xs[:1] + xs[2:])}, got {list(ts)}")
    C = xs[1] if len(xs) > 1 else xs[0]
    if weight is not None:
        _check_weight(weight, C, input, "")
    return xs if len(xs) > 1 else (1, C)


def _check_weight(weight, C, input, prefix):
    if weight._data.ndim != 1 or weight._data.shape[0] != C:
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {C} classes or no classes but got weight "
            f"tensor of shape: {list(weight.shape)}"
        )


def _check_weight_dtype(weight, input, fname):
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(input._data.dtype)} but found {scalar_type_name(weight._data.dtype)}")
    if STATE.enabled and weight._requires_grad:
        raise RuntimeError(
            f"The function '{fname}' is not differentiable with respect to argument 'weight'. "
            "This input cannot have requires_grad True."
        )


def _targets(xp, t, ignore_index, C):
    """(valid mask or None when nothing is ignored, targets with ignored entries set to 0); bounds-checked."""
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    ignored = t == ignore_index
    if xp is not np:  # on a GPU both checks would wait for the device (PyTorch's CUDA kernels also only
        # check targets with an asynchronous device-side assert): always mask, never copy to the host
        return ~ignored, xp.where(ignored, 0, t)
    any_ignored = bool(ignored.any()) if t.size else False
    tt = xp.where(ignored, 0, t) if any_ignored else t
    bad = (tt < 0) | (tt >= C)
    if t.size and bool(bad.any()):
        raise IndexError(f"Target {int(tt[bad].ravel()[0])} is out of bounds.")
    return (~ignored if any_ignored else None), tt


def _flat_index(xp, shape, tt):
    """Positions of ``x[n, tt[n, *s], *s]`` in a C-contiguous array of ``shape`` (N, C, *s)."""
    N, C = shape[0], shape[1]
    D = math.prod(shape[2:])
    if D == 1:
        return xp.arange(N, dtype=np.int64) * C + tt.reshape(N)
    base = (xp.arange(N, dtype=np.int64) * (C * D))[:, None] + xp.arange(D, dtype=np.int64)[None, :]
    return (base + tt.reshape(N, D) * D).reshape(-1)


def _per_sample_weights(w, tt, valid, dt):
    """w[target] with ignored entries zeroed (None means all ones)."""
    if w is not None:
        wt = w[tt]
        return wt * valid if valid is not None else wt
    return valid.astype(dt) if valid is not None else None


def _wbroadcast(w, ndim):
    """A (C,) array viewed as (1, C, 1, ...) for an (N, C, *) array."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def _scale(xp, g, reduction, denom, sample_shape, valid=None):
    """d(output)/d(per-sample loss) times the incoming gradient, shaped like the samples (N, *).

    A mean over a total weight of 0 is 0/0 = nan, and so is its gradient at every counted sample
    (PyTorch's ``w[t] * (g / total)``); ignored samples (``valid`` False) get nothing back even then."""
    if reduction == "none":
        return g.reshape(sample_shape)
    if reduction == "mean":
        with quiet_errors():
            device_total = xp is not np and isinstance(denom, xp.ndarray)  # decide on the device, no sync
            g = g / denom
            if valid is not None and (device_total or denom == 0):
                g = xp.where(valid, g, xp.zeros((), g.dtype))
    return g


def _reduce_array(xp, loss, reduction, denom, out_shape):
    if reduction == "none":
        return loss.reshape(out_shape)
    total = loss.sum()
    if reduction == "mean":
        with quiet_errors():
            total = total / denom
    return xp.asarray(total, dtype=loss.dtype)


# ---- row-parallel softmax pieces (NumPy ufuncs release the GIL) --------------------------------

_MIN_PARALLEL = 1 << 16  # elements; smaller problems run on the calling thread
_CPUS = max(1, min(4, os.cpu_count() or 1))


def _nthreads():
    env = os.environ.get("EMBER_LOSS_THREADS")
    return max(1, int(env)) if env else _CPUS


def _run_rows(fn, n_rows, size, xp):
    """``fn(r0, r1)`` over row ranges covering ``range(n_rows)``, split over a few threads for big NumPy work."""
    n = _nthreads() if xp is np and size >= _MIN_PARALLEL else 1
    n = min(n, n_rows)
    if n <= 1:
        fn(0, n_rows)
        return
    step = -(-n_rows // n)
    spans = [(r, min(r + step, n_rows)) for r in range(0, n_rows, step)]
    run_spans(lambda r0, r1: _quietly(fn, r0, r1), spans)


def _quietly(fn, r0, r1):
    with quiet_errors():  # error states are per thread
        fn(r0, r1)


def _exp_shifted(xp, x, w, want_wsum, keep_e=True):
    """For (N, C, *) ``x``: e = exp(x - max) (a new C-ordered array), s = e.sum(1, keepdims) and, if
    ``want_wsum``, sum_c w_c (x_c - max) (the label-smoothing term; w None means all ones). ``keep_e``
    False (no backward): e may be None."""
    if x.ndim == 2 and not want_wsum and x.shape[1] and _cuda.usable(x):  # one fused kernel launch
        return (*_cuda.ce_exp_rows(x), None)
    N = x.shape[0]
    m = xp.empty((N, 1) + x.shape[2:], dtype=x.dtype)
    s = xp.empty_like(m)
    if x.ndim == 2 and not want_wsum and x.shape[1] and _fast.usable(x):  # one compiled pass per row
        e = xp.empty(x.shape if keep_e else (0, 0), dtype=x.dtype)  # no rows: the kernel keeps no exponentials
        _fast.run_rows(_fast.kernels().exp_shifted_rows, (x, e, m.reshape(-1), s.reshape(-1)),
                       (0, 1, 2, 3) if keep_e else (0, 2, 3))
        return (e if keep_e else None), m, s, None
    e = xp.empty(x.shape, dtype=x.dtype)
    ws = xp.empty((N,) + x.shape[2:], dtype=x.dtype) if want_wsum else None

    def rows(r0, r1):
        xr, er, mr = x[r0:r1], e[r0:r1], m[r0:r1]
        xp.copyto(mr, xr.max(axis=1, keepdims=True))
        xp.subtract(xr, mr, out=er)
        if ws is not None:
            ws[r0:r1] = er.sum(axis=1) if w is None else xp.tensordot(er, w, axes=([1], [0]))
        xp.exp(er, out=er)
        xp.copyto(s[r0:r1], er.sum(axis=1, keepdims=True))

    if x.size:
        _run_rows(rows, N, x.size, xp)
    return e, m, s, ws


# ---- cross entropy with class indices: one fused primitive --------------------------------------


class CrossEntropy(Primitive):
    """Stable log-softmax along dim 1 + (label-smoothed, weighted) NLL with ignore_index."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction, ignore_index, smoothing, shape):
        x = input._data
        xp = xp_of(x)
        dt = x.dtype
        x = xp.ascontiguousarray(x.reshape(shape))  # the flat target positions assume C order
        C = shape[1]
        sample_shape = shape[:1] + shape[2:]
        t = target._data.reshape(sample_shape)
        w = weight._data if weight is not None else None
        valid, tt = _targets(xp, t, ignore_index, C)
        idx = _flat_index(xp, shape, tt)
        with quiet_errors():
            e, m, s, ssum = _exp_shifted(xp, x, w, bool(smoothing), keep_e=ctx.needs_input_grad is not None)
            picked = x.reshape(-1)[idx].reshape(sample_shape) - m.reshape(sample_shape)  # x[t] - max
            lse = xp.log(s).reshape(sample_shape)
            wt = _per_sample_weights(w, tt, valid, dt)
            loss = lse - picked
            a = dt.type(1.0 - smoothing)
            if wt is not None:
                a = a * wt
            loss *= a
            wsum = dt.type(C) if w is None else w.sum(dtype=dt)
            b = dt.type(smoothing / C)
            denom = (wt.sum(dtype=dt) if wt is not None else dt.type(loss.size)) if reduction == "mean" else None
            split = None
            if smoothing:
                if valid is not None:
                    b = b * valid.astype(dt)
                smooth = b * (lse * wsum - ssum)
                if reduction == "mean" and (xp is not np or denom == 0):
                    # PyTorch divides the NLL and the smoothing sums by the total weight separately:
                    # over a total weight of 0 that is nan + inf = nan, not (0 + x) / 0 = inf
                    split = loss.sum() / denom + smooth.sum() / denom
                loss += smooth
        out_shape = () if input._data.ndim == 1 and target._data.ndim == 0 else sample_shape
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(input)
            ctx.e, ctx.s, ctx.idx, ctx.a, ctx.b, ctx.wsum, ctx.w = e, s, idx, a, b, wsum, w
            ctx.valid = valid
            ctx.info = (reduction, denom, shape, sample_shape, smoothing)
        out = _reduce_array(xp, loss, reduction, denom, out_shape)
        if split is not None:
            out = xp.asarray(split if xp is np else xp.where(denom != 0, out, split), dtype=dt)
        return out

    @staticmethod
    def backward(ctx, grad):
        reduction, denom, shape, sample_shape, smoothing = ctx.info
        a, b, wsum, w = ctx.a, ctx.b, ctx.wsum, ctx.w
        (input,) = ctx.saved_tensors
        xp = xp_of(input._data)
        nd = len(shape)
        if STATE.enabled:  # create_graph: differentiable in the input and in grad
            return _ce_backward_graph(input, grad, ctx), None, None, None, None, None, None
        e, s, idx = ctx.e, ctx.s, ctx.idx
        with quiet_errors():
            sc = _scale(xp, grad._data, reduction, denom, sample_shape, ctx.valid)
            coef = xp.expand_dims(xp.broadcast_to(sc * (a + b * wsum), sample_shape), 1) / s
            if nd == 2 and not smoothing and _cuda.usable(e) and coef.dtype == e.dtype:  # one fused launch
                gx = _cuda.ce_bwd_rows(e, coef, idx, sc * a)
                return Tensor._make(gx.reshape(input._data.shape)), None, None, None, None, None, None
            if nd == 2 and not smoothing and _fast.usable(e, coef):  # one compiled pass over the rows
                rows, C = e.shape
                coef = np.ascontiguousarray(np.broadcast_to(coef.reshape(-1), (rows,)))
                picked = np.ascontiguousarray(np.broadcast_to(sc * a, sample_shape), dtype=e.dtype)
                target = idx.reshape(-1) - np.arange(0, rows * C, C, dtype=np.int64)  # the flat index's column
                gx = np.empty_like(e)
                _fast.run_rows(_fast.kernels().ce_bwd_rows, (e, coef, target, picked, gx), (0, 1, 2, 3, 4))
                gx = gx if gx.shape == input._data.shape else gx.reshape(input._data.shape)
                return Tensor._make(gx), None, None, None, None, None, None
            sb = xp.expand_dims(xp.broadcast_to(sc * b, sample_shape), 1) if smoothing else None
            wb = _wbroadcast(w, nd) if w is not None else None
            gx = e * coef  # softmax * sum(q) * scale - q * scale, q = a * onehot + b * w
            if sb is not None:
                gx -= sb * wb if wb is not None else sb
            gflat = gx.reshape(-1)
            gflat[idx] -= xp.broadcast_to(sc * a, sample_shape).reshape(-1)
        # the array itself where the shapes agree: a fresh array that owns its memory becomes the leaf's .grad
        # without a copy (a reshaped view is copied)
        gx = gx if gx.shape == input._data.shape else gx.reshape(input._data.shape)
        return Tensor._make(gx), None, None, None, None, None, None


# PyTorch's cross_entropy ends in nll_loss: show the same grad_fn name
CrossEntropy._node_cls = type("NllLossBackward0", (BackwardNode,), {"__slots__": (), "_fn": CrossEntropy})


def _dense_q(xp, shape, idx, a, b, w, dt):
    """The (N, C, *) array ``a * onehot(target) + b * w`` (only used for double backward)."""
    sample_shape = shape[:1] + shape[2:]
    q = xp.zeros(shape, dtype=dt)
    if not (isinstance(b, np.generic) and b == 0):
        q += xp.expand_dims(xp.broadcast_to(b, sample_shape), 1) * (_wbroadcast(w, len(shape)) if w is not None else dt.type(1))
    q.reshape(-1)[idx] += xp.broadcast_to(a, sample_shape).reshape(-1)
    return q


def _scale_tensor(grad, reduction, denom, sample_shape, valid=None):
    """``_scale`` with Tensor ops (differentiable in ``grad``), shaped (N, 1, *)."""
    from .shape import reshape

    if reduction == "none":
        g = reshape(grad, sample_shape)
    else:
        zero_total = reduction == "mean" and bool(denom == 0)
        if reduction == "mean":
            with quiet_errors():
                g = grad / float(denom)
        else:
            g = grad
        g = reshape(g, (1,) * len(sample_shape))
        if zero_total and valid is not None:
            from .selection import where

            g = where(Tensor._make(valid), g, 0.0)
    return g.unsqueeze(1)


def _ce_backward_graph(input, grad, ctx):
    from .reduction import logsumexp
    from .unary import exp

    reduction, denom, shape, sample_shape, _ = ctx.info
    xp = xp_of(input._data)
    dt = input._data.dtype
    x = input.reshape(shape)
    p = exp(x - logsumexp(x, 1, keepdim=True))
    q = _dense_q(xp, shape, ctx.idx, ctx.a, ctx.b, ctx.w, dt)
    qsum = q.sum(axis=1, keepdims=True)
    sc = _scale_tensor(grad, reduction, denom, sample_shape, ctx.valid)
    gx = sc * (p * _const(qsum) - _const(q))
    if reduction == "mean" and bool(denom == 0):
        gx = gx + sc * 0.0  # a counted row is all nan (0 * inf at its target), as the fused path
    return gx.reshape(input.shape)


# ---- cross entropy with class probabilities -----------------------------------------------------


class CrossEntropyProb(Primitive):
    """-sum_c w_c * smooth(target)_c * log_softmax(input)_c, reduced over samples."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction, smoothing, shape):
        dt = dtypes.result_type(input, target).np
        x = input._data.astype(dt, copy=False).reshape(shape)
        T = target._data.astype(dt, copy=False).reshape(shape)
        xp = xp_of(x)
        C = shape[1]
        w = _wbroadcast(weight._data.astype(dt, copy=False), len(shape)) if weight is not None else None
        sample_shape = shape[:1] + shape[2:]
        with quiet_errors():
            logp = x - x.max(axis=1, keepdims=True) if x.size else x.copy()
            logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
            q = T * dt.type(1.0 - smoothing) + dt.type(smoothing / C) if smoothing else T
            if w is not None:
                q = q * w
            loss = -(q * logp).sum(axis=1)
        denom = dt.type(loss.size) if reduction == "mean" else None
        out_shape = () if input._data.ndim == 1 else sample_shape
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(input, target)
            ctx.logp, ctx.q, ctx.w = logp, q, w
            ctx.info = (reduction, denom, shape, sample_shape, smoothing)
        return _reduce_array(xp, loss, reduction, denom, out_shape)

    @staticmethod
    def backward(ctx, grad):
        reduction, denom, _, sample_shape, smoothing = ctx.info
        input, target = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        w = ctx.w
        if STATE.enabled:
            return _ce_prob_backward_graph(input, target, grad, ctx) + (None,) * 4
        logp = ctx.logp
        xp = xp_of(logp)
        dt = logp.dtype
        with quiet_errors():
            sc = xp.expand_dims(xp.broadcast_to(_scale(xp, grad._data.astype(dt, copy=False), reduction, denom, sample_shape), sample_shape), 1)
            gx = gt = None
            if need_x:
                q = ctx.q
                gx = xp.exp(logp)
                gx *= q.sum(axis=1, keepdims=True)
                gx -= q
                gx *= sc
                gx = Tensor._make(gx.reshape(input._data.shape))
            if need_t:
                f = sc * dt.type(-(1.0 - smoothing))
                if w is not None:
                    f = f * w
                gt = Tensor._make((logp * f).reshape(target._data.shape))
        return gx, gt, None, None, None, None


def _ce_prob_backward_graph(input, target, grad, ctx):
    from .reduction import logsumexp
    from .unary import exp

    reduction, denom, shape, sample_shape, smoothing = ctx.info
    dt = dtypes.result_type(input, target)
    x = input.reshape(shape).to(dt)
    T = target.reshape(shape).to(dt)
    w = _const(ctx.w) if ctx.w is not None else None
    logp = x - logsumexp(x, 1, keepdim=True)
    q = T * (1.0 - smoothing) + smoothing / shape[1] if smoothing else T
    if w is not None:
        q = q * w
    sc = _scale_tensor(grad.to(dt), reduction, denom, sample_shape)
    gx = gt = None
    if ctx.needs_input_grad[0]:
        gx = (sc * (exp(logp) * q.sum(1, keepdim=True) - q)).reshape(input.shape)
    if ctx.needs_input_grad[1]:
        f = sc * (-(1.0 - smoothing))
        gt = (f * w * logp if w is not None else f * logp).reshape(target.shape)
    return gx, gt


@autocast_op
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (N, C, *) or (C,) and class-index targets (N, *) or
    class-probability targets (same shape as ``input``); PyTorch's weighting, ignore_index and
    label-smoothing semantics."""
    reduction = _reduction(size_average, reduce, reduction)
    label_smoothing = float(label_smoothing)
    if not isinstance(input, Tensor):
        raise TypeError(f"cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._data.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if isinstance(target, Tensor) and tuple(target.shape) == tuple(input.shape):
        if _np_kind(target._data.dtype) != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got {scalar_type_name(target._data.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if not 0.0 <= label_smoothing <= 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        _check_float_input(input)
        shape = tuple(input.shape) if input._data.ndim > 1 else (1, input.shape[0])
        if weight is not None:
            _check_weight(weight, shape[1], input, "cross_entropy: ")
        return CrossEntropyProb.apply(input, target, weight, reduction, label_smoothing, shape)
    shape = _check_class_target(input, target, weight, "cross_entropy")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_float_input(input)
    if weight is not None:
        _check_weight_dtype(weight, input, "nll_loss_forward")
    smoothing = max(label_smoothing, 0.0)
    return CrossEntropy.apply(input, target, weight, reduction, int(ignore_index), smoothing, shape)


# ---- nll_loss -----------------------------------------------------------------------------------


class NllLoss(Primitive):
    """-w[target] * input[n, target[n]] with ignore_index, reduced (weighted mean)."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction, ignore_index, shape):
        x = input._data
        xp = xp_of(x)
        dt = x.dtype
        x = x.reshape(shape)
        sample_shape = shape[:1] + shape[2:]
        t = target._data.reshape(sample_shape)
        w = weight._data if weight is not None else None
        valid, tt = _targets(xp, t, ignore_index, shape[1])
        picked = xp.take_along_axis(x, xp.expand_dims(tt, 1), axis=1).reshape(sample_shape)
        wt = _per_sample_weights(w, tt, valid, dt)
        loss = -picked if wt is None else -(picked * wt)
        denom = (wt.sum(dtype=dt) if wt is not None else dt.type(loss.size)) if reduction == "mean" else None
        out_shape = () if input._data.ndim == 1 and target._data.ndim == 0 else sample_shape
        if ctx.needs_input_grad is not None:
            ctx.info = (reduction, denom, shape, sample_shape, tt, wt, dt, input._data.shape, valid)
        return _reduce_array(xp, loss, reduction, denom, out_shape)

    @staticmethod
    def backward(ctx, grad):
        reduction, denom, shape, sample_shape, tt, wt, dt, in_shape, valid = ctx.info
        xp = xp_of(grad._data)
        idx = _flat_index(xp, shape, tt)
        if STATE.enabled:
            a = -wt if wt is not None else xp.full(sample_shape, -1, dtype=dt)
            q = _dense_q(xp, shape, idx, a, dt.type(0), None, dt)
            sc = _scale_tensor(grad, reduction, denom, sample_shape, valid)
            gx = sc * _const(q)
            if reduction == "mean" and bool(denom == 0):  # nan at the targets only, as the fused path
                from .selection import where

                picked = xp.zeros(shape, dtype=bool)
                picked.reshape(-1)[idx] = True
                gx = where(Tensor._make(picked), gx, 0.0)
            return gx.reshape(in_shape), None, None, None, None, None
        with quiet_errors():
            sc = _scale(xp, grad._data, reduction, denom, sample_shape, valid)
            vals = -sc if wt is None else -(sc * wt)
            gx = xp.zeros(shape, dtype=dt)
            gx.reshape(-1)[idx] = xp.broadcast_to(vals, sample_shape).reshape(-1)
        return Tensor._make(gx.reshape(in_shape)), None, None, None, None, None


@autocast_op
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, *) or (C,) at class-index targets."""
    reduction = _reduction(size_average, reduce, reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"nll_loss_nd(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    shape = _check_class_target(input, target, weight, "nll_loss")
    if _np_kind(input._data.dtype) != "f":
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{scalar_type_name(input._data.dtype)}'")
    if weight is not None:
        _check_weight_dtype(weight, input, "nll_loss_forward")
    return NllLoss.apply(input, target, weight, reduction, int(ignore_index), shape)


# ---- regression losses --------------------------------------------------------------------------


def _check_pointwise_dtypes(input, target, kernel):
    if _np_kind(input._data.dtype) not in "fc" and _np_kind(target._data.dtype) not in "fc":
        dev = "cpu" if isinstance(input._data, np.ndarray) else "cuda"
        raise NotImplementedError(f"\"{kernel}_{dev}\" not implemented for '{scalar_type_name(input._data.dtype)}'")


def _weighted(loss, weight, input, reduction):
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum()


@autocast_op
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``; broadcasting targets of another size warn, as in PyTorch."""
    _warn_size(input, target)
    input, target = _broadcast_pair(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_pointwise_dtypes(input, target, "mse")
    d = input - target
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _apply_reduction(loss, reduction)


@autocast_op
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``."""
    _warn_size(input, target)
    input, target = _broadcast_pair(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _apply_reduction(loss, reduction)


def _smooth(d, threshold, quadratic_scale, linear_scale):
    """where(|d| < threshold, 0.5 d^2 * quadratic_scale, (|d| - 0.5 threshold) * linear_scale)."""
    from .selection import where

    ad = d.abs()
    small = ~(ad >= threshold)  # nan takes the quadratic branch: its gradient is nan, as PyTorch's
    dq = where(small, d, 0.0)  # the quadratic branch sees only small d: no inf * 0 in its gradient
    return where(small, (dq * dq) * (0.5 * quadratic_scale), (ad - 0.5 * threshold) * linear_scale)


@autocast_op
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: quadratic (0.5 d^2 / beta) below ``beta``, linear (|d| - beta/2) above."""
    _warn_size(input, target)
    input, target = _broadcast_pair(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    loss = d.abs() if beta == 0.0 else _smooth(d, beta, 1.0 / beta, 1.0)
    return _apply_reduction(loss, reduction)


@autocast_op
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: 0.5 d^2 below ``delta``, delta * (|d| - delta/2) above."""
    _warn_size(input, target)
    if target.dtype != input.dtype and target.is_floating_point() and input.is_floating_point():
        target = target.to(input.dtype)  # PyTorch computes (and returns) huber_loss in the input's dtype
    input, target = _broadcast_pair(input, target)
    reduction = _get_enum(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    loss = _smooth(input - target, delta, 1.0, delta)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        return _apply_reduction(loss * weight, reduction)
    return _apply_reduction(loss, reduction)


# ---- binary cross entropy -----------------------------------------------------------------------


class BinaryCrossEntropy(Primitive):
    """-(t log x + (1 - t) log(1 - x)), each log clamped to >= -100 as in PyTorch."""

    @staticmethod
    def forward(ctx, input, target):
        x, t = input._data, target._data
        xp = xp_of(x)
        with quiet_errors():
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
            loss = (t - 1) * l1x - t * lx
        ctx.save_for_backward(input, target)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from .unary import log

        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = grad * (x - t) / ((1 - x) * x).clamp_min(1e-12)
        if ctx.needs_input_grad[1]:
            gt = grad * (log(1 - x) - log(x))
        return gx, gt


@autocast_op
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (same shape)."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({_size(target.shape)}) that is different to the input size ({_size(input.shape)}) "
            "is deprecated. Please ensure they have the same size."
        )
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {scalar_type_name(target._data.dtype)} but expected {scalar_type_name(input._data.dtype)}")
    if _np_kind(input._data.dtype) != "f":
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{scalar_type_name(input._data.dtype)}'")
    x, t = input._data, target._data
    if x.size and checks_values(xp_of(x)) and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if t.size and checks_values(xp_of(x)) and bool(((t < 0) | (t > 1)).any()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        _check_broadcast(weight, input)
        loss = loss * weight
    return _apply_reduction(loss, reduction)


def _check_broadcast(weight, input):
    ws, xs = tuple(weight.shape), tuple(input.shape)
    if len(ws) > len(xs) or any(w != 1 and w != s for w, s in zip(ws[::-1], xs[::-1])):
        bad = next((i for i, (w, s) in enumerate(zip(ws[::-1], xs[::-1])) if w != 1 and w != s), 0)
        raise RuntimeError(
            f"Attempting to broadcast a dimension of length {ws[::-1][bad]} at {-1 - bad}! Mismatching argument at "
            f"index 1 had {_size(ws)}; but expected shape should be broadcastable to {list(xs)}"
        )


class BCEWithLogits(Primitive):
    """(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x), computed stably (weight applied outside)."""

    @staticmethod
    def forward(ctx, input, target, pos_weight):
        dt = dtypes.result_type(input, target) if pos_weight is None else dtypes.result_type(dtypes.result_type(input, target), pos_weight)
        x = input._data.astype(dt.np, copy=False)
        t = target._data.astype(dt.np, copy=False)
        xp = xp_of(x)
        with quiet_errors():
            ls = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))  # log_sigmoid(x)
            loss = (1 - t) * x
            if pos_weight is None:
                loss -= ls
            else:
                loss -= (1 + (pos_weight._data.astype(dt.np, copy=False) - 1) * t) * ls
        ctx.save_for_backward(input, target, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        from .unary import sigmoid

        x, t, pw = ctx.saved_tensors
        gx = gt = gp = None
        if ctx.needs_input_grad[0]:
            s = sigmoid(x)
            gx = grad * (s - t) if pw is None else grad * ((1 + (pw - 1) * t) * s - pw * t)
        if ctx.needs_input_grad[1] or (pw is not None and ctx.needs_input_grad[2]):
            ls = _log_sigmoid(x)
            if ctx.needs_input_grad[1]:
                gt = -grad * x if pw is None else -grad * (x + (pw - 1) * ls)
            if pw is not None and ctx.needs_input_grad[2]:
                gp = -grad * t * ls
        return gx, gt, gp


class LogSigmoid(Primitive):
    @staticmethod
    def forward(ctx, input):
        x = input._data
        xp = xp_of(x)
        ctx.save_for_backward(input)
        with quiet_errors():
            return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        from .unary import sigmoid

        (x,) = ctx.saved_tensors
        return grad * sigmoid(-x)


def _log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (private: F.logsigmoid lives in activation.py)."""
    if _np_kind(x._data.dtype) != "f":
        x = x.to(dtypes.get_default_dtype())
    return LogSigmoid.apply(x)


@autocast_op
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in one numerically stable expression; ``pos_weight`` weighs positives."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target.shape)}) must be the same as input size ({_size(input.shape)})")
    if _np_kind(input._data.dtype) != "f" or _np_kind(target._data.dtype) != "f":
        bad = input if _np_kind(input._data.dtype) != "f" else target
        raise RuntimeError(f"result type Float can't be cast to the desired output type {scalar_type_name(bad._data.dtype)}")
    if pos_weight is not None:
        _check_broadcast_to(pos_weight, input)
    loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        _check_broadcast_to(weight, input)
        loss = loss * weight
    return _apply_reduction(loss, reduction)


def _check_broadcast_to(other, input):
    from .broadcast import broadcast_shapes

    shape = broadcast_shapes(tuple(other.shape), tuple(input.shape))
    if tuple(shape) != tuple(input.shape):
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}")


# ---- divergences and likelihoods ----------------------------------------------------------------


@autocast_op
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with ``input`` given as log-probabilities; ``reduction='batchmean'`` divides the sum
    by the batch size (the mathematically correct KL)."""
    from .unary import exp, xlogy

    if size_average is not None or reduce is not None:
        red = _legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        red = "sum" if reduction == "batchmean" else _get_enum(reduction)
    if _np_kind(input._data.dtype) not in "f" or _np_kind(target._data.dtype) not in "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    loss = exp(target) * (target - input) if log_target else xlogy(target, target) - target * input
    out = _apply_reduction(loss, red)
    if reduction == "batchmean" and input._data.ndim != 0:
        out = out / input.shape[0]
    return out


@autocast_op
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (log_input) or
    ``input - target * log(input + eps)``; ``full`` adds the Stirling term for targets > 1."""
    from .selection import where
    from .unary import exp, log

    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        big = target > 1
        ts = where(big, target, 1.0)
        stirling = ts * log(ts) - ts + 0.5 * log(2 * math.pi * ts)
        loss = loss + where(big, stirling, 0.0)
    return _apply_reduction(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 (log var + (input - target)^2 / var)``; ``var`` may have
    one dimension fewer (or one singleton dimension) for the homoscedastic case; clamped to ``eps``."""
    from .unary import log

    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor._make(xp_of(input._data).full(input._data.shape, var, dtype=input._data.dtype))
    elif checks_values(xp_of(var._data)) and bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    vs, xs = tuple(var.shape), tuple(input.shape)
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif len(xs) == len(vs) and sum(y for x, y in zip(xs, vs) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # clamp the value, but let the gradient through unchanged (PyTorch clamps a clone under no_grad)
    clamped = xp_of(var._data).maximum(var._data, eps) if _np_kind(var._data.dtype) == "f" else var._data
    var = var + _const(clamped - var._data)
    d = input - target
    loss = 0.5 * (log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


# ---- margin / embedding losses ------------------------------------------------------------------


@autocast_op
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_size(input1.shape)}, input2: {_size(input2.shape)}, target: {_size(target.shape)} "
        )
    return _apply_reduction((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@autocast_op
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where target is -1."""
    from .selection import where

    reduction = _reduction(size_average, reduce, reduction)
    loss = where(target != 1, (margin - input).clamp_min(0), 0.0) + where(target != -1, input, 0.0)
    return _apply_reduction(loss, reduction)


@autocast_op
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))``."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_output_shape(input, target)
    if target.requires_grad and STATE.enabled:
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
            "This input cannot have requires_grad True."
        )
    if target.dtype != input.dtype and target.is_floating_point() and input.is_floating_point():
        target = target.to(input.dtype)  # computed in the input's dtype, as PyTorch's kernel
    return _apply_reduction(-_log_sigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """One-versus-all logistic loss averaged over the C classes (last dim) of each sample."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    # -(t log s(x) + (1 - t) log s(-x)) == (1 - t) x - log s(x)
    loss = (1 - target) * input - _log_sigmoid(input)
    if weight is not None:
        loss = loss * weight
    C = input.shape[input.dim() - 1]
    loss = loss.sum(dim=input.dim() - 1) / C
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


@autocast_op
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where target is -1."""
    from .selection import where

    reduction = _reduction(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(
            f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    if td == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(
            f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12
    prod = (input1 * input2).sum(td)
    m1 = (input1 * input1).sum(td) + eps
    m2 = (input2 * input2).sum(td) + eps
    cos = prod / (m1 * m2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _apply_reduction(loss, reduction)


@autocast_op
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])^p * w[y] / C`` per sample."""
    from .indexing import gather

    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    xs = tuple(input.shape)
    if not (len(xs) == 1 and xs[0] > 0 or len(xs) == 2 and xs[1] > 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(xs)}")
    N = 1 if len(xs) == 1 else xs[0]
    C = xs[-1]
    if target.dim() > 1 or target.numel() != N:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{N}], but got {list(target.shape)}. Input has shape {list(xs)}."
        )
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {scalar_type_name(target._data.dtype)}")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"inconsistent weight size, expected {C} but got {list(weight.shape)}")
    t = target._data.reshape(N)
    if t.size and checks_values(xp_of(t)) and bool(((t < 0) | (t >= C)).any()):
        raise RuntimeError("target out of range")
    xp = xp_of(input._data)
    x = input.reshape(N, C)
    idx = _const(t.reshape(N, 1))
    z = _hinge(margin - gather(x, 1, idx) + x)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _const(weight._data[t].reshape(N, 1)) if not weight._requires_grad else z * weight[idx.reshape(N)].reshape(N, 1)
    notself = xp.ones((N, C), dtype=input._data.dtype)
    notself[xp.arange(N), t] = 0
    loss = (z * _const(notself)).sum(1) / C
    if len(xs) == 1:
        loss = loss.reshape(())
    return _apply_reduction(loss, reduction)


@autocast_op
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
    """``max(0, d(a, p) - d(a, n) + margin)`` with the p-norm pairwise distance (``swap``: use the
    smaller of d(a, n) and d(p, n))."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    da, dp, dn = anchor.dim(), positive.dim(), negative.dim()
    if not (da == dp == dn):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but "
            f"got: anchor {da}D, positive {dp}D, and negative {dn}D inputs"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _apply_reduction((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
    """Triplet loss with a custom ``distance_function`` (default: pairwise L2 distance)."""
    reduction = _get_enum(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin} instead")
    da, dp, dn = anchor.dim(), positive.dim(), negative.dim()
    if not (da == dp == dn):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but "
            f"got: anchor {da}D, positive {dp}D, and negative {dn}D inputs"
        )
    dist = distance_function if distance_function is not None else (lambda a, b: pairwise_distance(a, b, 2.0, 1e-6))
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _apply_reduction((margin + d_pos - d_neg).clamp_min(0), reduction)


@autocast_op
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: targets are class indices padded with -1 (the first -1 ends the list);
    ``sum_{j in targets, i not in targets} max(0, 1 - (x[j] - x[i])) / C`` per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    xs = tuple(input.shape)
    if not (len(xs) == 1 and xs[0] > 0 or len(xs) == 2 and xs[1] > 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(xs)}")
    if tuple(target.shape) != xs:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(xs)}")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {scalar_type_name(target._data.dtype)}")
    xp = xp_of(input._data)
    N, C = (1, xs[0]) if len(xs) == 1 else xs
    t = target._data.reshape(N, C)
    live = xp.cumprod(t >= 0, axis=1).astype(bool)  # entries before the first negative
    if checks_values(xp) and bool((live & (t >= C)).any()):
        raise RuntimeError("target out of range")
    # counts[n, c]: how often class c is listed (a repeated target counts again, as in PyTorch)
    counts = ((t[:, :, None] == xp.arange(C)) & live[:, :, None]).sum(1).astype(input._data.dtype)
    x = input.reshape(N, C)
    # pair (j, i): j a target class (times its count), i a non-target class
    pair = counts[:, :, None] * (counts == 0)[:, None, :]
    margins = _hinge((1 - x.unsqueeze(2)) + x.unsqueeze(1))  # PyTorch's order: z > 0 decides the gradient
    loss = (margins * _const(pair)).sum((1, 2)) / C
    if len(xs) == 1:
        loss = loss.reshape(())
    return _apply_reduction(loss, reduction)


from .ctc import ctc_loss  # noqa: E402  (its own file: the alpha/beta recursions)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
