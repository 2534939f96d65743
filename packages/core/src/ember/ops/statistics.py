"""Order statistics and data summaries: quantile, nanquantile, nanmedian, cov, corrcoef, histc, histogram,
bincount."""

from __future__ import annotations

import math
import warnings

from .. import return_types
from ..tensor import Tensor
from ._common import bind, fused_msub, wrap_dim, xp_of
from .reduction import _return_type
from .unary import not_implemented

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    from .indexing import gather
    from .sorting import sort

    name = "nanquantile()" if ignore_nan else "quantile()"
    arr = input._data
    xp = xp_of(arr)
    if arr.dtype.kind != "f":
        raise RuntimeError(f"{name} input tensor must be either float or double dtype")
    if arr.size == 0:
        raise RuntimeError(f"{name} input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name} interpolation must be one of linear, lower, higher, midpoint or nearest, but got {interpolation}"
        )
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{name} q must be a scalar or 1D tensor")
        if q._data.dtype != arr.dtype:
            raise RuntimeError(f"{name} q tensor must be same dtype as the input tensor")
        qa = q._data.astype(arr.dtype)
        scalar_q = q._data.ndim == 0
        if not bool(((qa >= 0) & (qa <= 1)).all()):
            raise RuntimeError(f"{name} q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name} q must be in the range [0, 1] but got {q}")
        qa, scalar_q = xp.asarray(q, dtype=arr.dtype), True
    qa = qa.reshape(-1)
    ndim = arr.ndim
    x = input.reshape(-1) if dim is None else (input.reshape(1) if ndim == 0 else input)
    d = 0 if dim is None else wrap_dim(dim, max(ndim, 1))
    xs = sort(x.movedim(d, -1), -1).values  # nans sort last
    n = xs._data.shape[-1]
    nan_count = xp.isnan(xs._data).sum(-1, keepdims=True)
    if ignore_nan:
        last = xp.maximum(n - nan_count - 1, 0)
    else:  # any nan makes the slice's quantiles nan: point at the last (a nan) element
        last = xp.full(nan_count.shape, n - 1)
    rank = qa * last.astype(arr.dtype)
    if not ignore_nan:
        rank = xp.where(nan_count > 0, float(n - 1), rank)
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)
    lo = xp.floor(rank).astype("int64")
    hi = xp.ceil(rank).astype("int64")
    v_lo = gather(xs, -1, Tensor._make(lo))
    if interpolation in ("lower", "higher", "nearest"):
        out = v_lo
    else:
        v_hi = gather(xs, -1, Tensor._make(hi))
        w = xp.full(rank.shape, 0.5, arr.dtype) if interpolation == "midpoint" else rank - lo
        out = v_lo + (v_hi - v_lo) * Tensor._make(xp.where(lo == hi, 0.0, w).astype(arr.dtype))
    out = out.movedim(-1, 0)  # (Q, ...rest)
    if keepdim:
        if dim is None:
            out = out.reshape([out._data.shape[0]] + [1] * ndim)
        elif ndim:
            out = out.unsqueeze(d + 1)
    return out[0] if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` (all elements, or along ``dim``); nan if a slice holds a nan."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """:func:`quantile` ignoring nan values (nan only where a slice is all nan)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring nans (of all elements, or ``(values, indices)`` along ``dim``)."""
    from .indexing import gather
    from .sorting import sort

    xp = xp_of(input._data)
    x = input.reshape(-1) if dim is None else (input.reshape(1) if input._data.ndim == 0 else input)
    d = 0 if dim is None else wrap_dim(dim, max(input._data.ndim, 1))
    if dim is None and input._data.size == 0:
        return Tensor._make(xp.asarray(math.nan, dtype=input._data.dtype))
    if input._data.size == 0 and input._data.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    vals, idx = sort(x, d)
    valid = (~xp.isnan(vals._data)).sum(d, keepdims=True) if vals._data.dtype.kind == "f" else None
    k = xp.full([1 if i == d else s for i, s in enumerate(vals._data.shape)], (vals._data.shape[d] - 1) // 2)
    if valid is not None:  # an all-nan slice answers like median: nan at the middle position
        k = xp.where(valid == 0, k, xp.maximum(valid - 1, 0) // 2)
    kt = Tensor._make(k.astype("int64"))
    v, i = gather(vals, d, kt), gather(idx, d, kt)
    if dim is None:
        return v.reshape(())
    if not keepdim or input._data.ndim == 0:
        v, i = v.squeeze(d), i.squeeze(d)
        if input._data.ndim == 0:
            v, i = v.reshape(()), i.reshape(())
    return return_types.nanmedian(v, i)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the columns)."""
    from .reduction import sum as _sum

    if input._data.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input._data.ndim} dimensions"
        )
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    if not x.is_floating_point() and not x.is_complex():
        x = x.float()
    n_obs = x._data.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt._data.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                               f"{wt._data.ndim} dimensions")
        if wt._data.size != n_obs:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                               f"input but got {wt._data.size} != {n_obs}")
        if name == "fweights" and wt._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype but got fweights with "
                               f"{wt.dtype} dtype")
        if name == "aweights" and wt._data.dtype.kind != "f":
            raise RuntimeError("cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{wt.dtype} dtype")
        if bool((wt._data < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = wt if w is None else w * wt
    if w is None:
        w_sum = float(n_obs)
        avg = _sum(x, 1) / w_sum  # (nan without a warning for no observations, as PyTorch)
    else:
        w = w.to(x.dtype)
        w_sum = _sum(w)
        if bool(w_sum == 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = _sum(x * w, 1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * _sum(w * aweights.to(x.dtype)) / w_sum
    if (bool(norm <= 0) if isinstance(norm, Tensor) else norm <= 0):  # (PyTorch reads the value too)
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = norm.clamp(min=0) if isinstance(norm, Tensor) else max(norm, 0.0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw @ (xm.conj() if xm.is_complex() else xm).transpose(0, 1)
    c = c / norm
    return c.squeeze()  # as PyTorch: one variable (a 1-D input or a single row) gives a 0-d result


def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of ``input``."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    sd = c.diagonal().sqrt()
    c = c / sd.unsqueeze(1) / sd.unsqueeze(0)
    return c if c.is_complex() else c.clamp(-1, 1)


def _check_float(arr, kernel):
    if arr.dtype.kind != "f":
        raise not_implemented(kernel, arr)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of ``input`` with ``bins`` equal bins over ``[min, max]`` (the data's range if both are 0)."""
    arr = input._data
    xp = xp_of(arr)
    _check_float(arr, "histogram")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and arr.size:
        lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    flat = arr.reshape(-1)
    keep = (flat >= lo) & (flat <= hi)
    # PyTorch's linear interpolation, in the input's dtype and its order of operations (a value near a bin
    # boundary lands where PyTorch puts it)
    lo_a, hi_a = xp.asarray(lo, arr.dtype), xp.asarray(hi, arr.dtype)
    pos = ((flat[keep] - lo_a) * xp.asarray(bins, arr.dtype) / (hi_a - lo_a)).astype("int64")
    pos = xp.minimum(pos, bins - 1)
    return Tensor._make(xp.bincount(pos, minlength=bins).astype(arr.dtype))


def _torch_linspace(xp, lo, hi, steps, dtype):
    """PyTorch's CPU linspace in ``dtype`` bit for bit (a value on a bin edge must fall in the same bin): the
    first half counted up from ``lo``, the second down from ``hi``, each point one fused multiply-add."""
    start, end = xp.asarray(lo, dtype), xp.asarray(hi, dtype)
    step = (end - start) / xp.asarray(max(steps - 1, 1), dtype)
    i = xp.arange(steps)
    up = fused_msub(start, -step, i.astype(dtype))
    down = fused_msub(end, step, (steps - 1 - i).astype(dtype))
    return xp.where(i < steps // 2, up, down).astype(dtype)


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """``(hist, bin_edges)``: a histogram of ``input`` (``bins`` a count, or a 1-D tensor of increasing edges)."""
    arr = input._data
    xp = xp_of(arr)
    _check_float(arr, "histogram")
    flat = arr.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data.astype(arr.dtype)
        if edges.ndim != 1 or edges.size < 2:
            raise RuntimeError("torch.histogram(): bins tensor should have one dimension and at least 2 elements")
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {lo} max {hi} "
                                   "for dimension 0")
        else:
            lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 1.0)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo}, {hi}] is not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _torch_linspace(xp, lo, hi, bins + 1, arr.dtype)
    n_bins = edges.size - 1
    keep = (flat >= edges[0]) & (flat <= edges[-1])
    vals = flat[keep]
    pos = xp.searchsorted(edges, vals, side="right") - 1
    pos = xp.minimum(pos, n_bins - 1)  # the last edge belongs to the last bin
    wts = None
    if weight is not None:
        if tuple(weight._data.shape) != tuple(arr.shape):
            raise RuntimeError("torch.histogram(): if weight tensor is provided, it should have the same shape as "
                               "the input tensor")
        wts = weight._data.reshape(-1)[keep]
    hist = xp.bincount(pos, weights=wts, minlength=n_bins).astype(arr.dtype)
    if density:
        widths = xp.diff(edges)
        hist = (hist / (hist.sum() * widths)).astype(arr.dtype)
    return _return_type("histogram", ("hist", "bin_edges"))(Tensor._make(hist), Tensor._make(edges))


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-D ``input`` (summing ``weights`` if given)."""
    arr = input._data
    xp = xp_of(arr)
    if arr.dtype.kind == "f" or arr.dtype.kind == "c":
        raise not_implemented("bincount", arr)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if arr.ndim != 1 or (arr.size and int(arr.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._make(xp.bincount(arr.astype("int64"), minlength=minlength).astype("int64"))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != arr.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dtype = w.dtype if w.dtype.kind == "f" else "float64"
    return Tensor._make(xp.bincount(arr.astype("int64"), weights=w, minlength=minlength).astype(out_dtype))


bind(quantile=quantile, nanquantile=nanquantile, nanmedian=nanmedian, histc=histc, histogram=histogram,
     bincount=bincount, cov=cov, corrcoef=corrcoef)

__all__ = ["quantile", "nanquantile", "nanmedian", "cov", "corrcoef", "histc", "histogram", "bincount"]
