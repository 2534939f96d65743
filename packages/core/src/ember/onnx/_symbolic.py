"""The one table from ember primitives to ONNX nodes.

Each entry is ``fn(ctx, node, *args, **kwargs)``: ``args`` are the primitive's recorded arguments
(traced ``Value`` where a tensor was passed) and the function returns the ONNX name of each output
(``None`` for an output that can't be used). ``ctx`` is an ``ExportContext``.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit._graph import Value
from .errors import OnnxExporterError

SYMBOLICS = {}
_NEEDS = {}  # primitive -> first opset with a mapping, where later than the oldest we export
_INT64_MAX = np.iinfo(np.int64).max


def requires_opset(kind, opset):
    need = _NEEDS.get(kind)
    return need if need is not None and need > opset else None


def symbolic(*kinds, opset=None):
    def register(fn):
        for k in kinds:
            SYMBOLICS[k] = fn
            if opset is not None:
                _NEEDS[k] = opset
        return fn

    return register


def _need(ctx, node, opset):
    if ctx.opset < opset:
        from .errors import UnsupportedOperatorError

        raise UnsupportedOperatorError(node.kind, ctx.opset, opset)


def _operand(ctx, x, dtype):
    """An ONNX name for a tensor Value or Python number ``x``, in ``dtype``."""
    if isinstance(x, Value):
        name = ctx.name(x)
        return name if x.dtype == dtype else ctx.op("Cast", [name], to=_elem(dtype))
    return ctx.scalar(x, dtype)


def _elem(dtype):
    from ._export import elem_type

    return elem_type(dtype)


def _out_dtype(node, i=0):
    return node.outputs[i].dtype


def _rank(ctx, v):
    return len(ctx.shape(v))


# -- elementwise -------------------------------------------------------------------------------------
def _binary(onnx_op):
    def fn(ctx, node, a, b, alpha=1):
        dt = _out_dtype(node)
        x, y = _operand(ctx, a, dt), _operand(ctx, b, dt)
        if alpha != 1:
            y = ctx.op("Mul", [y, ctx.scalar(alpha, dt)])
        return ctx.op(onnx_op, [x, y])

    return fn


for _k, _o in (("Add", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("Div", "Div"), ("Pow", "Pow"),
               ("Maximum", "Max"), ("Minimum", "Min")):
    SYMBOLICS[_k] = _binary(_o)

_UNARY = {
    "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal", "Sin": "Sin", "Cos": "Cos",
    "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Tanh": "Tanh", "Sigmoid": "Sigmoid",
    "Relu": "Relu", "Abs": "Abs", "Neg": "Neg", "Erf": "Erf", "Sign": "Sign", "Floor": "Floor",
    "Ceil": "Ceil", "Contiguous": "Identity", "Clone": "Identity",
}


def _unary(onnx_op):
    def fn(ctx, node, a, *rest):
        return ctx.op(onnx_op, [_operand(ctx, a, _out_dtype(node))])

    return fn


for _k, _o in _UNARY.items():
    SYMBOLICS[_k] = _unary(_o)


@symbolic("Rsqrt")
def _rsqrt(ctx, node, a):
    return ctx.op("Reciprocal", [ctx.op("Sqrt", [_operand(ctx, a, _out_dtype(node))])])


@symbolic("Round")
def _round(ctx, node, a, decimals=0):
    if decimals:
        raise OnnxExporterError("round(decimals != 0) has no ONNX mapping")
    return ctx.op("Round", [ctx.name(a)])


@symbolic("Where")
def _where(ctx, node, cond, a, b):
    dt = _out_dtype(node)
    c = _operand(ctx, cond, np.dtype(bool))
    return ctx.op("Where", [c, _operand(ctx, a, dt), _operand(ctx, b, dt)])


_COMPARE = {"equal": "Equal", "less": "Less", "less_equal": "LessOrEqual", "greater": "Greater",
            "greater_equal": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


_BITWISE = {"bitwise_and": ("And", "BitwiseAnd"), "bitwise_or": ("Or", "BitwiseOr"),
            "bitwise_xor": ("Xor", "BitwiseXor"), "invert": ("Not", "BitwiseNot")}


@symbolic("Compare")
def _compare(ctx, node, a, b, ufunc_name):
    if ufunc_name == "logical_not":
        return ctx.op("Not", [_operand(ctx, a, np.dtype(bool))])
    if ufunc_name in _BITWISE:
        boolean, integer = _BITWISE[ufunc_name]
        out = _out_dtype(node)
        if out.kind != "b":
            _need(ctx, node, 18)
        ins = [_operand(ctx, x, out) for x in ((a,) if b is None else (a, b))]
        return ctx.op(boolean if out.kind == "b" else integer, ins)
    values = [x for x in (a, b) if isinstance(x, Value)]
    dt = np.result_type(*[v.dtype for v in values])
    if any(isinstance(x, float) for x in (a, b)) and dt.kind in "biu":
        dt = np.dtype(np.float32)
    if ufunc_name.startswith("logical"):
        dt = np.dtype(bool)
    if ufunc_name == "not_equal":
        return ctx.op("Not", [ctx.op("Equal", [_operand(ctx, a, dt), _operand(ctx, b, dt)])])
    if ufunc_name not in _COMPARE:
        raise OnnxExporterError(f"the comparison {ufunc_name} has no ONNX mapping")
    return ctx.op(_COMPARE[ufunc_name], [_operand(ctx, a, dt), _operand(ctx, b, dt)])


@symbolic("MaskedFill")
def _masked_fill(ctx, node, a, mask, value):
    dt = _out_dtype(node)
    return ctx.op("Where", [_operand(ctx, mask, np.dtype(bool)), _operand(ctx, value, dt), ctx.name(a)])


@symbolic("Clamp")
def _clamp(ctx, node, a, lo, hi):
    dt = _out_dtype(node)
    return ctx.op("Clip", [_operand(ctx, a, dt), "" if lo is None else _operand(ctx, lo, dt),
                           "" if hi is None else _operand(ctx, hi, dt)])


@symbolic("ToCopy")
def _to_copy(ctx, node, a, device, np_dtype, non_blocking=False):
    return ctx.op("Identity" if np_dtype is None or np.dtype(np_dtype) == a.dtype else "Cast", [ctx.name(a)],
                  **({} if np_dtype is None or np.dtype(np_dtype) == a.dtype else {"to": _elem(np_dtype)}))


# -- activations -------------------------------------------------------------------------------------
def _x(ctx, x):
    return ctx.name(x)


@symbolic("Hardtanh")
def _hardtanh(ctx, node, x, lo, hi):
    dt = x.dtype
    return ctx.op("Clip", [_x(ctx, x), ctx.scalar(lo, dt), ctx.scalar(hi, dt)])


@symbolic("LeakyRelu")
def _leaky(ctx, node, x, slope, b=None):
    return ctx.op("LeakyRelu", [_x(ctx, x)], alpha=float(slope))


@symbolic("Elu")
def _elu(ctx, node, x, alpha, scale):
    if scale == 1.0:
        return ctx.op("Elu", [_x(ctx, x)], alpha=float(alpha))
    return ctx.op("Selu", [_x(ctx, x)], alpha=float(alpha), gamma=float(scale))


@symbolic("Celu")
def _celu(ctx, node, x, alpha, b=None):
    return ctx.op("Celu", [_x(ctx, x)], alpha=float(alpha))


@symbolic("Gelu")
def _gelu(ctx, node, x, approximate, b=None):
    if ctx.opset >= 20:
        return ctx.op("Gelu", [_x(ctx, x)], approximate=approximate)
    dt, xn = x.dtype, _x(ctx, x)
    if approximate == "tanh":
        x3 = ctx.op("Mul", [ctx.op("Mul", [xn, xn]), xn])
        inner = ctx.op("Mul", [ctx.op("Add", [xn, ctx.op("Mul", [x3, ctx.scalar(0.044715, dt)])]),
                               ctx.scalar(math.sqrt(2.0 / math.pi), dt)])
        cdf = ctx.op("Add", [ctx.op("Tanh", [inner]), ctx.scalar(1.0, dt)])
    else:
        cdf = ctx.op("Add", [ctx.op("Erf", [ctx.op("Mul", [xn, ctx.scalar(math.sqrt(0.5), dt)])]), ctx.scalar(1.0, dt)])
    return ctx.op("Mul", [ctx.op("Mul", [xn, cdf]), ctx.scalar(0.5, dt)])


@symbolic("Silu")
def _silu(ctx, node, x, a=None, b=None):
    xn = _x(ctx, x)
    return ctx.op("Mul", [xn, ctx.op("Sigmoid", [xn])])


@symbolic("Mish")
def _mish(ctx, node, x, a=None, b=None):
    xn = _x(ctx, x)
    return ctx.op("Mul", [xn, ctx.op("Tanh", [ctx.op("Softplus", [xn])])])


@symbolic("Hardswish", opset=14)
def _hardswish(ctx, node, x, a=None, b=None):
    _need(ctx, node, 14)
    return ctx.op("HardSwish", [_x(ctx, x)])


@symbolic("Hardsigmoid")
def _hardsigmoid(ctx, node, x, a=None, b=None):
    return ctx.op("HardSigmoid", [_x(ctx, x)], alpha=1.0 / 6.0, beta=0.5)


@symbolic("Softplus")
def _softplus(ctx, node, x, beta, threshold):
    dt, xn = x.dtype, _x(ctx, x)
    bx = xn if beta == 1.0 else ctx.op("Mul", [xn, ctx.scalar(beta, dt)])
    sp = ctx.op("Softplus", [bx])
    if beta != 1.0:
        sp = ctx.op("Div", [sp, ctx.scalar(beta, dt)])
    return ctx.op("Where", [ctx.op("Greater", [bx, ctx.scalar(threshold, dt)]), xn, sp])


@symbolic("LogSigmoid")
def _logsigmoid(ctx, node, x):
    return ctx.op("Neg", [ctx.op("Softplus", [ctx.op("Neg", [_x(ctx, x)])])])


@symbolic("Threshold")
def _threshold(ctx, node, x, threshold, value):
    dt, xn = x.dtype, _x(ctx, x)
    return ctx.op("Where", [ctx.op("Greater", [xn, ctx.scalar(threshold, dt)]), xn, ctx.scalar(value, dt)])


@symbolic("Softmax", "LogSoftmax")
def _softmax(ctx, node, x, dim, dtype):
    xn = _operand(ctx, x, _out_dtype(node))
    return ctx.op(node.kind, [xn], axis=int(dim) % max(_rank(ctx, x), 1))


@symbolic("_ScaleShift")
def _scale_shift(ctx, node, *args):
    raise OnnxExporterError("the model applies dropout in training mode (a random mask); call model.eval() "
                            "before ember.onnx.export")


# -- linear algebra ----------------------------------------------------------------------------------
@symbolic("Linear")
def _linear(ctx, node, x, w, b):
    if _rank(ctx, x) == 2:
        ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
        return ctx.op("Gemm", ins, transB=1)
    y = ctx.op("MatMul", [ctx.name(x), ctx.op("Transpose", [ctx.name(w)], perm=[1, 0])])
    return ctx.op("Add", [y, ctx.name(b)]) if b is not None else y


@symbolic("MatMul")
def _matmul(ctx, node, a, b):
    dt = _out_dtype(node)
    return ctx.op("MatMul", [_operand(ctx, a, dt), _operand(ctx, b, dt)])


@symbolic("Einsum")
def _einsum(ctx, node, equation, *operands):
    return ctx.op("Einsum", [ctx.name(o) for o in operands], equation=equation.replace(" ", ""))


@symbolic("Embedding")
def _embedding(ctx, node, weight, idx, padding_idx, scale_grad_by_freq, sparse=False):
    return ctx.op("Gather", [ctx.name(weight), ctx.name(idx)], axis=0)


# -- reductions --------------------------------------------------------------------------------------
def _reduce(ctx, op, x, axes, keepdim):
    axes = [int(a) for a in axes]
    if op == "ReduceSum" or ctx.opset >= 18:
        return ctx.op(op, [x, ctx.ints(axes)], keepdims=int(keepdim))
    return ctx.op(op, [x], axes=axes, keepdims=int(keepdim))


def _reduce_mean(ctx, x, axes):
    return _reduce(ctx, "ReduceMean", x, axes, True)


def _axes(ctx, x, axes):
    n = _rank(ctx, x)
    if axes is None:
        return list(range(n))
    axes = (axes,) if isinstance(axes, int) else axes
    return [int(a) % max(n, 1) for a in axes] or list(range(n))


@symbolic("Sum", "Mean", "Prod")
def _sum_mean(ctx, node, x, axes, keepdim, np_dtype):
    op = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Prod": "ReduceProd"}[node.kind]
    xn = _operand(ctx, x, _out_dtype(node))
    if not ctx.shape(x):
        return ctx.op("Identity", [xn])
    return _reduce(ctx, op, xn, _axes(ctx, x, axes), keepdim)


@symbolic("Amax")
def _amax(ctx, node, x, axes, keepdim, is_max):
    return _reduce(ctx, "ReduceMax" if is_max else "ReduceMin", ctx.name(x), _axes(ctx, x, axes), keepdim)


@symbolic("Max")
def _max_dim(ctx, node, x, dim, keepdim, is_max):
    d = int(dim) % max(_rank(ctx, x), 1)
    vals = _reduce(ctx, "ReduceMax" if is_max else "ReduceMin", ctx.name(x), [d], keepdim)
    idx = ctx.op("ArgMax" if is_max else "ArgMin", [ctx.name(x)], axis=d, keepdims=int(keepdim),
                 select_last_index=0)
    return [vals, idx]


@symbolic("CumSum")
def _cumsum(ctx, node, x, dim, np_dtype):
    xn = _operand(ctx, x, _out_dtype(node))
    return ctx.op("CumSum", [xn, ctx.const(np.asarray(int(dim), dtype=np.int64), "axis")])


# -- shapes, joining, indexing -----------------------------------------------------------------------
@symbolic("Reshape", "View")
def _reshape(ctx, node, x, shape):
    return ctx.op("Reshape", [ctx.name(x), ctx.shape_tensor(node.outputs[0], [x])])


@symbolic("Expand")
def _expand(ctx, node, x, shape):
    return ctx.op("Expand", [ctx.name(x), ctx.shape_tensor(node.outputs[0], [x])])


@symbolic("Permute")
def _permute(ctx, node, x, dims):
    n = _rank(ctx, x)
    return ctx.op("Transpose", [ctx.name(x)], perm=[int(d) % n for d in dims])


@symbolic("Flip")
def _flip(ctx, node, x, dims):
    dims = [int(d) % _rank(ctx, x) for d in dims]
    big = _INT64_MAX
    return ctx.op("Slice", [ctx.name(x), ctx.ints([-1] * len(dims)), ctx.ints([-big] * len(dims)), ctx.ints(dims),
                            ctx.ints([-1] * len(dims))])


@symbolic("Repeat")
def _repeat(ctx, node, x, reps):
    xn, n = ctx.name(x), _rank(ctx, x)
    if len(reps) > n:
        xn = ctx.op("Unsqueeze", [xn, ctx.ints(range(len(reps) - n))])
    return ctx.op("Tile", [xn, ctx.ints(reps)])


@symbolic("Cat")
def _cat(ctx, node, dim, *tensors):
    dt = _out_dtype(node)
    n = _rank(ctx, tensors[0])
    return ctx.op("Concat", [_operand(ctx, t, dt) for t in tensors], axis=int(dim) % n)


@symbolic("_ConstantPad")
def _pad(ctx, node, x, pads, value):
    pairs = list(pads)
    begins, ends = [p[0] for p in pairs], [p[1] for p in pairs]
    return ctx.op("Pad", [ctx.name(x), ctx.ints(begins + ends), ctx.scalar(value, x.dtype)], mode="constant")


@symbolic("Gather")
def _gather(ctx, node, x, dim, index):
    return ctx.op("GatherElements", [ctx.name(x), ctx.name(index)], axis=int(dim))


@symbolic("Index")
def _index(ctx, node, x, key):
    key = key if isinstance(key, tuple) else (key,)
    n = _rank(ctx, x)
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (n - used)
        else:
            expanded.append(k)
    out, dim = ctx.name(x), 0
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    arrays = []
    pos = 0  # position in the output before squeezing
    for k in expanded:
        if k is None:
            unsqueeze.append(pos)
            pos += 1
            continue
        if isinstance(k, slice):
            if k != slice(None):
                size = ctx.shape(x)[dim]
                start, stop, step = k.start, k.stop, k.step or 1
                starts.append(0 if start is None and step > 0 else (-1 if start is None else start))
                if stop is None:
                    stop = _INT64_MAX if step > 0 else -_INT64_MAX
                elif dim in ctx.dynamic_dims(x) and stop >= size:
                    stop = _INT64_MAX
                elif pos in ctx.dynamic_dims(node.outputs[0]) and step == 1 and (start or 0) >= 0 and stop >= 0:
                    # a static tensor cut to a dynamic length (positions[:seq_len]): the stop follows the axis
                    stop = ctx.op("Add", [ctx._dim_expr(node.outputs[0], pos, node.inputs() + ctx.graph_inputs), ctx.ints([start or 0])])
                ends.append(stop)
                axes.append(dim)
                steps.append(step)
            pos += 1
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            k = int(k)
            starts.append(k)
            ends.append(k + 1 if k != -1 else _INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif hasattr(k, "dtype") and k.dtype.kind in "iu" and k.ndim == 1:
            arrays.append((dim, k))
            pos += 1
        else:
            raise OnnxExporterError(f"indexing with {type(k).__name__} (boolean masks or several index arrays) has no "
                                    "ONNX mapping here")
        dim += 1
    if starts:
        if any(isinstance(e, str) for e in ends):
            ends = ctx.op("Concat", [e if isinstance(e, str) else ctx.ints([e]) for e in ends], axis=0)
        else:
            ends = ctx.ints(ends)
        out = ctx.op("Slice", [out, ctx.ints(starts), ends, ctx.ints(axes), ctx.ints(steps)])
    for d, arr in arrays:
        host = arr.get() if hasattr(arr, "get") else arr
        out = ctx.op("Gather", [out, ctx.const(np.asarray(host, dtype=np.int64), "index")], axis=d)
    if len(arrays) > 1:
        raise OnnxExporterError("indexing with several index arrays has no ONNX mapping here")
    if squeeze:
        out = ctx.op("Squeeze", [out, ctx.ints(squeeze)])
    if unsqueeze:
        out = ctx.op("Unsqueeze", [out, ctx.ints(unsqueeze)])
    return out


from . import _symbolic_nn  # noqa: E402,F401  (the layer primitives' entries)
from . import _symbolic_spectral  # noqa: E402  (signal processing, complex values)


def supported_ops():
    """The names of the primitives ``ember.onnx.export`` can translate."""
    return sorted(set(SYMBOLICS) | set(_symbolic_spectral.COMPLEX_SYMBOLICS))
