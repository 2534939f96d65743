"""Table entries for the signal-processing primitives (framing, padding taps, FFTs, variance) and for
the primitives that see complex tensors.

ONNX Runtime has no complex element type, so a complex value travels as a float tensor with a trailing
dimension of 2 (real, imaginary), as ``view_as_real`` lays it out. Primitives that read or write complex
values go through ``COMPLEX_SYMBOLICS``, whose entries know that layout; a primitive that meets a
complex value and has no entry there is reported as unsupported.

The 1-D DFTs are matrix products with cos/sin bases built here in float64 (exact angles from integer
``k * j mod n``): one MatMul per transform, which every ONNX runtime runs, reloads into ember, and is
as accurate as the float32 FFT (no DFT/STFT op needed).
"""

from __future__ import annotations

import math

import numpy as np

from ..jit._graph import Value
from ._symbolic import SYMBOLICS, _elem, _need, _operand, _rank, _reduce, symbolic
from .errors import OnnxExporterError

COMPLEX_SYMBOLICS = {}


def complex_symbolic(*kinds):
    def register(fn):
        for k in kinds:
            COMPLEX_SYMBOLICS[k] = fn
        return fn

    return register


def is_complex(v) -> bool:
    return isinstance(v, Value) and v.dtype.kind == "c"


def _real_dtype(v):
    return np.dtype(np.float64) if v.dtype == np.complex128 else np.dtype(np.float32)


def _twin(ctx, node):
    """The node of the second trace (dynamic axes resized) recorded at ``node``'s place, or None."""
    return ctx.twins.get(id(node))


# -- logarithms not in the plain table ----------------------------------------------------------------
@symbolic("Log10", "Log2")
def _log_base(ctx, node, a):
    base = 10.0 if node.kind == "Log10" else 2.0
    dt = node.outputs[0].dtype
    return ctx.op("Div", [ctx.op("Log", [_operand(ctx, a, dt)]), ctx.scalar(math.log(base), dt)])


@symbolic("Log1p")
def _log1p(ctx, node, a):
    dt = node.outputs[0].dtype
    return ctx.op("Log", [ctx.op("Add", [_operand(ctx, a, dt), ctx.scalar(1.0, dt)])])


# -- variance (std, per-clip normalisation) ------------------------------------------------------------
@symbolic("_Var")
def _var(ctx, node, a, axes, keepdim, denom, whole=False):
    """mean of squared deviations over ``axes`` divided by ``N - correction``; N comes from the input's
    shape at run time when a reduced axis is dynamic."""
    dt, xn = node.outputs[0].dtype, ctx.name(a)
    axes = [int(ax) % max(_rank(ctx, a), 1) for ax in axes]
    dev = ctx.op("Sub", [xn, _reduce(ctx, "ReduceMean", xn, axes, True)])
    total = _reduce(ctx, "ReduceSum", ctx.op("Mul", [dev, dev]), axes, bool(keepdim))
    shape = ctx.shape(a)
    if not set(axes) & set(ctx.dynamic_dims(a)):
        return ctx.op("Div", [total, ctx.scalar(max(denom, 0), dt)])
    correction = math.prod(shape[ax] for ax in axes) - denom
    count = ctx.op("ReduceProd", [ctx.op("Gather", [ctx.op("Shape", [xn]), ctx.ints(axes)], axis=0)], keepdims=0)
    count = ctx.op("Cast", [count], to=_elem(dt))
    count = ctx.op("Max", [ctx.op("Sub", [count, ctx.scalar(correction, dt)]), ctx.scalar(0, dt)])
    return ctx.op("Div", [total, count])


@symbolic("_NormSqrt")
def _norm_sqrt(ctx, node, a):
    return ctx.op("Sqrt", [ctx.name(a)])


# -- framing and padding -------------------------------------------------------------------------------
@symbolic("_Frame")
def _frame(ctx, node, x, n, hop):
    """``x[..., L]`` -> ``[..., F, n]`` (F = 1 + (L - n) // hop) as one Gather along the last axis; the
    frame starts are computed from the input's length at run time when that length is dynamic."""
    r = _rank(ctx, x)
    offsets = np.arange(n, dtype=np.int64)
    if r - 1 not in ctx.dynamic_dims(x):
        frames = ctx.shape(node.outputs[0])[-2]
        idx = ctx.const(np.arange(frames, dtype=np.int64)[:, None] * hop + offsets[None, :], "frame_index")
    else:
        length = ctx.op("Gather", [ctx.op("Shape", [ctx.name(x)]), ctx.ints([r - 1])], axis=0)
        frames = ctx.op("Add", [ctx.op("Div", [ctx.op("Sub", [length, ctx.ints([n])]), ctx.ints([hop])]), ctx.ints([1])])
        frames = ctx.op("Squeeze", [frames, ctx.ints([0])])
        starts = ctx.op("Range", [ctx.scalar(0, np.int64), frames, ctx.scalar(1, np.int64)])
        starts = ctx.op("Unsqueeze", [ctx.op("Mul", [starts, ctx.scalar(hop, np.int64)]), ctx.ints([1])])
        idx = ctx.op("Add", [starts, ctx.const(offsets[None, :], "frame_offsets")])
    return ctx.op("Gather", [ctx.name(x), idx], axis=r - 1)


def _pad_indices(mode, n, lo, hi):
    """The source index of each output position when an axis of size ``n`` is padded by (lo, hi)."""
    pos = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        pos = np.abs(pos) % period
        return np.where(pos >= n, period - pos, pos)
    if mode == "edge":
        return np.clip(pos, 0, n - 1)
    return pos % n  # wrap


def _pad_pattern(idx, n):
    """(ONNX Pad mode, lo, hi) when the index vector ``idx`` pads an axis of size ``n`` by reflection,
    replication or wrapping (torch's reflect / replicate / circular), else None."""
    idx = np.asarray(idx)
    extra = idx.size - n
    if extra < 0 or n < 1:
        return None
    for mode in ("reflect", "edge", "wrap"):
        if mode == "reflect":
            lo = int(idx[0]) if n > 1 else 0
        elif mode == "edge":
            lo = int(np.argmax(idx != 0)) - 1 if (idx != 0).any() else 0
        else:
            lo = int((-idx[0]) % n)
        for cand in {lo, max(lo, 0)}:
            if 0 <= cand <= extra and np.array_equal(_pad_indices(mode, n, cand, extra - cand), idx):
                return mode, cand, extra - cand
    return None


@symbolic("_AxisTaps")
def _axis_taps(ctx, node, x, axis, taps, in_size):
    """Non-constant padding (reflect / replicate / circular) as ONNX ``Pad``; other index taps (weighted
    interpolation taps included) as Gathers of constant indices along an axis whose size is fixed."""
    r = _rank(ctx, x)
    axis = int(axis) % r
    host = [(np.asarray(i.get() if hasattr(i, "get") else i), w) for i, w in taps]
    if len(host) == 1 and host[0][1] is None:
        found = _pad_pattern(host[0][0], in_size)
        twin = _twin(ctx, node)
        if found is not None and twin is not None:
            idx2 = twin.args[2][0][0]
            found2 = _pad_pattern(np.asarray(idx2.get() if hasattr(idx2, "get") else idx2), twin.args[3])
            found = found if found2 == found else None
        if found is not None:
            mode, lo, hi = found
            if mode == "wrap":
                _need(ctx, node, 19)
            pads = [0] * (2 * r)
            pads[axis], pads[r + axis] = lo, hi
            return ctx.op("Pad", [ctx.name(x), ctx.ints(pads)], mode=mode)
    if axis in ctx.dynamic_dims(x) or axis in ctx.dynamic_dims(node.outputs[0]):
        raise OnnxExporterError(f"{node.kind} (index taps along axis {axis}: an interpolation or padding that is "
                                "not reflect/replicate/circular) along a dynamic axis has no ONNX mapping here")
    dt = node.outputs[0].dtype
    out = None
    for idx, w in host:
        t = ctx.op("Gather", [ctx.name(x), ctx.const(idx.astype(np.int64), "tap_index")], axis=axis)
        if w is not None:
            w = np.asarray(w.get() if hasattr(w, "get") else w).astype(dt).reshape((-1,) + (1,) * (r - 1 - axis))
            t = ctx.op("Mul", [t, ctx.const(w, "tap_weight")])
        out = t if out is None else ctx.op("Add", [out, t])
    return out


# -- DFTs as matrix products --------------------------------------------------------------------------
def _scale(n, norm, forward):
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    return 1.0 / n if (norm == "forward") == forward else 1.0


def _angles(n_in, n_out, n):
    """2*pi*j*k/n for j < n_in (rows), k < n_out (columns), reduced mod n in integers first."""
    j, k = np.arange(n_in, dtype=np.int64)[:, None], np.arange(n_out, dtype=np.int64)[None, :]
    return 2.0 * np.pi * ((j * k) % n) / n


def _r2c_basis(n, norm, dtype):
    """(n, 2m) real matrix: x @ W is the onesided DFT of x, bins interleaved (re, im)."""
    m = n // 2 + 1
    a, s = _angles(n, m, n), _scale(n, norm, True)
    w = np.stack([np.cos(a), -np.sin(a)], axis=-1).reshape(n, 2 * m) * s
    return w.astype(dtype)


def _c2c_basis(n, norm, forward, dtype):
    """(2n, 2n) real matrix acting on interleaved (re, im) pairs: the complex DFT (or its inverse)."""
    a, s = _angles(n, n, n), _scale(n, norm, forward)
    c, si = np.cos(a) * s, (-np.sin(a) if forward else np.sin(a)) * s
    w = np.empty((n, 2, n, 2))
    w[:, 0, :, 0], w[:, 0, :, 1] = c, si  # re(x_j) contributes re: cos, im: sin
    w[:, 1, :, 0], w[:, 1, :, 1] = -si, c  # im(x_j) contributes re: -sin, im: cos
    return w.reshape(2 * n, 2 * n).astype(dtype)


def _c2r_basis(m, n, norm, dtype):
    """(2m, n) real matrix: onesided spectrum (m bins, interleaved) -> real signal of length n (irfft).
    Bins past n // 2 are ignored; the others except 0 and n / 2 stand for their mirrored conjugate too."""
    used = min(m, n // 2 + 1)
    a, s = _angles(used, n, n), _scale(n, norm, False)
    weight = np.full((used, 1), 2.0)
    weight[0] = 1.0
    if n % 2 == 0 and used == n // 2 + 1:
        weight[-1] = 1.0
    w = np.zeros((m, 2, n))
    w[:used, 0], w[:used, 1] = np.cos(a) * weight * s, -np.sin(a) * weight * s
    return w.reshape(2 * m, n).astype(dtype)


def _single_axis(ctx, node, axes, rank):
    if len(axes) != 1:
        raise OnnxExporterError(f"{node.kind} over {len(axes)} axes (an n-dimensional FFT) has no ONNX mapping "
                                "here; only 1-D transforms are exported")
    return int(axes[0]) % rank


def _to_last(ctx, name, axis, rank, extra=0):
    """``name`` with complex-rank axis ``axis`` moved last (before ``extra`` trailing axes), and the
    permutation that moves it back."""
    if axis == rank - 1:
        return name, None
    perm = [d for d in range(rank) if d != axis] + [axis] + list(range(rank, rank + extra))
    back = list(np.argsort(perm))
    return ctx.op("Transpose", [name], perm=perm), [int(p) for p in back]


def _keep_leading(rank, tail):
    """A Reshape target that keeps the first ``rank`` dimensions (0 = copy) and sets the tail."""
    return [0] * rank + list(tail)


@complex_symbolic("_R2C")
@symbolic("_R2C")
def _r2c(ctx, node, x, axes, norm):
    r = _rank(ctx, x)
    axis = _single_axis(ctx, node, axes, r)
    n = ctx.shape(x)[axis]
    xn, back = _to_last(ctx, ctx.name(x), axis, r)
    y = ctx.op("MatMul", [xn, ctx.const(_r2c_basis(n, norm, x.dtype), "rfft_basis")])
    y = ctx.op("Reshape", [y, ctx.ints(_keep_leading(r - 1, [n // 2 + 1, 2]))])
    return y if back is None else ctx.op("Transpose", [y], perm=back + [r])


def _complex_matmul(ctx, node, x, axes, basis, name):
    """Complex x (its (re, im) pair axis last) with its single transformed axis moved last and flattened with
    the pairs, times ``basis(n)`` for that axis's length n: (product, rank, n, the permutation back or None)."""
    r = _rank(ctx, x)
    axis = _single_axis(ctx, node, axes, r)
    n = ctx.shape(x)[axis]
    xn, back = _to_last(ctx, ctx.name(x), axis, r, extra=1)
    y = ctx.op("Reshape", [xn, ctx.ints(_keep_leading(r - 1, [2 * n]))])
    return ctx.op("MatMul", [y, ctx.const(basis(n), name)]), r, n, back


@complex_symbolic("_C2C")
def _c2c(ctx, node, x, axes, norm, forward):
    y, r, n, back = _complex_matmul(ctx, node, x, axes,
                                    lambda n: _c2c_basis(n, norm, forward, _real_dtype(x)), "dft_basis")
    y = ctx.op("Reshape", [y, ctx.ints(_keep_leading(r - 1, [n, 2]))])
    return y if back is None else ctx.op("Transpose", [y], perm=back)


@complex_symbolic("_C2R")
def _c2r(ctx, node, x, axes, norm, n):
    y, _, _, back = _complex_matmul(ctx, node, x, axes,
                                    lambda m: _c2r_basis(m, n, norm, _real_dtype(x)), "irfft_basis")
    return y if back is None else ctx.op("Transpose", [y], perm=back[:-1])  # no pair axis on the real output


# -- complex values in the (..., 2) layout ------------------------------------------------------------
def _with_pair(ctx, shape_name):
    return ctx.op("Concat", [shape_name, ctx.ints([2])], axis=0)


@complex_symbolic("Reshape", "View")
def _c_reshape(ctx, node, x, shape):
    return ctx.op("Reshape", [ctx.name(x), _with_pair(ctx, ctx.shape_tensor(node.outputs[0], [x]))])


@complex_symbolic("Expand")
def _c_expand(ctx, node, x, shape):
    return ctx.op("Expand", [ctx.name(x), _with_pair(ctx, ctx.shape_tensor(node.outputs[0], [x]))])


@complex_symbolic("Permute")
def _c_permute(ctx, node, x, dims):
    n = _rank(ctx, x)
    return ctx.op("Transpose", [ctx.name(x)], perm=[int(d) % n for d in dims] + [n])


@complex_symbolic("Contiguous", "Clone", "ViewAsReal", "ViewAsComplex")
def _c_identity(ctx, node, x, *rest):
    return ctx.op("Identity", [ctx.name(x)])


@complex_symbolic("Index", "Cat", "Flip")
def _c_leading(ctx, node, *args):
    # these index, join or flip leading axes only (numbered in the complex rank): the pair axis rides along
    return SYMBOLICS[node.kind](ctx, node, *args)


@complex_symbolic("_ConstantPad")
def _c_pad(ctx, node, x, pads, value):
    if value != 0:
        raise OnnxExporterError(f"padding a complex tensor with {value!r} has no ONNX mapping here (only 0)")
    pairs = list(pads) + [(0, 0)]
    return ctx.op("Pad", [ctx.name(x), ctx.ints([p[0] for p in pairs] + [p[1] for p in pairs])], mode="constant")


@complex_symbolic("Real", "Imag")
def _c_part(ctx, node, x):
    return ctx.op("Gather", [ctx.name(x), ctx.const(np.asarray(0 if node.kind == "Real" else 1, np.int64), "part")],
                  axis=-1)


@complex_symbolic("Abs")
def _c_abs(ctx, node, x):
    return _reduce(ctx, "ReduceL2", ctx.name(x), [_rank(ctx, x)], False)


@complex_symbolic("ToCopy")
def _c_to_copy(ctx, node, a, device, np_dtype, non_blocking=False):
    out = node.outputs[0]
    if is_complex(a) and (np_dtype is None or is_complex(out)):
        if out.dtype == a.dtype:
            return ctx.op("Identity", [ctx.name(a)])
        return ctx.op("Cast", [ctx.name(a)], to=_elem(_real_dtype(out)))
    if is_complex(a):
        raise OnnxExporterError(f"casting a complex tensor to {out.dtype} has no ONNX mapping here")
    real = _operand(ctx, a, _real_dtype(out))  # a real tensor made complex: imaginary part 0
    pads = [0] * (2 * (_rank(ctx, a) + 1))
    pads[-1] = 1
    return ctx.op("Pad", [ctx.op("Unsqueeze", [real, ctx.ints([_rank(ctx, a)])]), ctx.ints(pads)], mode="constant")


def _real_operand(ctx, v, dt):
    """A real operand of a complex product, broadcast over the pair axis."""
    if isinstance(v, Value):
        if is_complex(v):
            raise OnnxExporterError("the product or quotient of two complex tensors has no ONNX mapping here")
        name = _operand(ctx, v, dt)
        return ctx.op("Unsqueeze", [name, ctx.ints([_rank(ctx, v)])]) if _rank(ctx, v) else name
    if isinstance(v, complex):
        raise OnnxExporterError("multiplying a complex tensor by a complex Python number has no ONNX mapping here")
    return ctx.scalar(v, dt)


@complex_symbolic("Mul", "Div")
def _c_scale(ctx, node, a, b, alpha=1):
    dt = _real_dtype(node.outputs[0])
    if node.kind == "Div" and not is_complex(a):
        raise OnnxExporterError("dividing by a complex tensor has no ONNX mapping here")
    if is_complex(a) and is_complex(b):
        raise OnnxExporterError(f"{node.kind} of two complex tensors has no ONNX mapping here")
    c, r = (a, b) if is_complex(a) else (b, a)
    return ctx.op(node.kind, [ctx.name(c), _real_operand(ctx, r, dt)])


@complex_symbolic("Add", "Sub")
def _c_add(ctx, node, a, b, alpha=1):
    if not (is_complex(a) and is_complex(b)):
        raise OnnxExporterError(f"{node.kind} of a complex and a real tensor has no ONNX mapping here")
    other = ctx.name(b) if alpha == 1 else ctx.op("Mul", [ctx.name(b), ctx.scalar(alpha, _real_dtype(b))])
    return ctx.op(node.kind, [ctx.name(a), other])


__all__ = ["COMPLEX_SYMBOLICS", "is_complex"]
