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
def _to_copy(ctx, node, a, device, np_dtype):
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
def _embedding(ctx, node, weight, idx, padding_idx, scale_grad_by_freq):
    return ctx.op("Gather", [ctx.name(weight), ctx.name(idx)], axis=0)


# -- convolution, pooling, normalization -------------------------------------------------------------
def _need4d(ctx, node, x):
    if _rank(ctx, x) != 4:
        raise OnnxExporterError(f"{node.kind} on a {_rank(ctx, x)}-D input (unbatched) has no ONNX mapping here; "
                                "export with a batch dimension")


@symbolic("Convolution")
def _conv(ctx, node, x, w, b, cfg, out_hw):
    _need4d(ctx, node, x)
    pads = [cfg.pads[0][0], cfg.pads[1][0], cfg.pads[0][1], cfg.pads[1][1]]
    ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
    return ctx.op("Conv", ins, strides=list(cfg.stride), pads=pads, dilations=list(cfg.dilation),
                  group=int(cfg.groups), kernel_shape=list(ctx.shape(w)[2:]))


@symbolic("ConvolutionBackwardInput")
def _conv_transpose(ctx, node, z, w, b, cfg, in_shape):
    _need4d(ctx, node, z)
    k = ctx.shape(w)[2:]
    ins_hw = ctx.shape(z)[2:]
    out_hw = ctx.shape(node.outputs[0])[2:]
    opad = [out_hw[i] - ((ins_hw[i] - 1) * cfg.stride[i] - cfg.pads[i][0] - cfg.pads[i][1]
                         + cfg.dilation[i] * (k[i] - 1) + 1) for i in range(2)]
    pads = [cfg.pads[0][0], cfg.pads[1][0], cfg.pads[0][1], cfg.pads[1][1]]
    ins = [ctx.name(z), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
    return ctx.op("ConvTranspose", ins, strides=list(cfg.stride), pads=pads, dilations=list(cfg.dilation),
                  group=int(cfg.groups), kernel_shape=list(k), output_padding=opad)


def _pool_attrs(geom):
    ceil = any(o != (n + 2 * p - d * (k - 1) - 1) // s + 1
               for o, n, p, d, k, s in ((geom.Ho, geom.H, geom.p[0], geom.d[0], geom.k[0], geom.s[0]),
                                        (geom.Wo, geom.W, geom.p[1], geom.d[1], geom.k[1], geom.s[1])))
    return dict(kernel_shape=list(geom.k), strides=list(geom.s), pads=[geom.p[0], geom.p[1], geom.p[0], geom.p[1]],
                ceil_mode=int(ceil))


@symbolic("MaxPool2dFn")
def _max_pool(ctx, node, x, geom, return_indices):
    _need4d(ctx, node, x)
    y = ctx.op("MaxPool", [ctx.name(x)], dilations=list(geom.d), **_pool_attrs(geom))
    return [y, None] if return_indices else y


@symbolic("AvgPool2dFn")
def _avg_pool(ctx, node, x, geom, count_include_pad, divisor_override):
    _need4d(ctx, node, x)
    if divisor_override is not None:
        raise OnnxExporterError("avg_pool2d with divisor_override has no ONNX mapping")
    return ctx.op("AveragePool", [ctx.name(x)], count_include_pad=int(bool(count_include_pad)), **_pool_attrs(geom))


def _adaptive(ctx, node, x, Oh, Ow, is_max):
    _need4d(ctx, node, x)
    H, W = ctx.shape(x)[2:]
    if (Oh, Ow) == (1, 1):
        return ctx.op("GlobalMaxPool" if is_max else "GlobalAveragePool", [ctx.name(x)])
    if H % Oh == 0 and W % Ow == 0:
        k = [H // Oh, W // Ow]
        return ctx.op("MaxPool" if is_max else "AveragePool", [ctx.name(x)], kernel_shape=k, strides=k)
    if is_max:
        raise OnnxExporterError(f"adaptive_max_pool2d from {H}x{W} to {Oh}x{Ow} (not a divisor) has no ONNX mapping")
    # each output cell averages a fixed window: one (H*W, Oh*Ow) matrix product
    P = np.zeros((H, W, Oh, Ow), dtype=x.dtype)
    for i in range(Oh):
        h0, h1 = (i * H) // Oh, -((-(i + 1) * H) // Oh)
        for j in range(Ow):
            w0, w1 = (j * W) // Ow, -((-(j + 1) * W) // Ow)
            P[h0:h1, w0:w1, i, j] = 1.0 / ((h1 - h0) * (w1 - w0))
    flat = ctx.op("Reshape", [ctx.name(x), ctx.ints([0, 0, H * W])])
    y = ctx.op("MatMul", [flat, ctx.const(P.reshape(H * W, Oh * Ow), "adaptive_pool")])
    return ctx.op("Reshape", [y, ctx.ints([0, 0, Oh, Ow])])


@symbolic("AdaptiveAvgPool2dFn")
def _adaptive_avg(ctx, node, x, Oh, Ow):
    return _adaptive(ctx, node, x, Oh, Ow, False)


@symbolic("AdaptiveMaxPool2dFn")
def _adaptive_max(ctx, node, x, Oh, Ow):
    return [_adaptive(ctx, node, x, Oh, Ow, True), None]


def _stat_input(ctx, arr, hint):
    return ctx.const(np.asarray(arr.get() if hasattr(arr, "get") else arr).reshape(-1), hint)


def _ones_or(ctx, v, n, dt, fill):
    return ctx.name(v) if v is not None else ctx.const(np.full(n, fill, dtype=dt), "norm_affine")


@symbolic("_Normalize")
def _normalize(ctx, node, x, w, b, spec):
    dt, xn, shape = x.dtype, ctx.name(x), ctx.shape(x)
    if len(spec.vshape) == 3 and spec.raxes == (0, 2) and spec.waxes == (1,):  # batch norm
        if spec.stats is None:
            raise OnnxExporterError("batch norm in training mode (batch statistics): call model.eval() before "
                                    "ember.onnx.export")
        C = spec.vshape[1]
        mean, var = (_param_or_const(ctx, a, "running_stat") for a in spec.stats)
        return ctx.op("BatchNormalization", [xn, _ones_or(ctx, w, C, dt, 1), _ones_or(ctx, b, C, dt, 0), mean, var],
                      epsilon=float(spec.eps))
    if len(spec.vshape) == 2 and spec.raxes == (1,):  # layer norm (or RMS norm) over trailing dims
        d, k, prod = spec.vshape[1], 0, 1
        while prod != d or k == 0:
            k += 1
            prod *= shape[-k]
        tail = list(shape[-k:])

        def affine(p):
            return ctx.name(p) if list(ctx.shape(p)) == tail else ctx.op("Reshape", [ctx.name(p), ctx.ints(tail)])

        if spec.center and ctx.opset >= 17:
            scale = affine(w) if w is not None else ctx.const(np.ones(tail, dtype=dt), "norm_affine")
            ins = [xn, scale] + ([affine(b)] if b is not None else [])
            return ctx.op("LayerNormalization", ins, axis=-k, epsilon=float(spec.eps))
        axes = list(range(len(shape) - k, len(shape)))
        cen = ctx.op("Sub", [xn, _reduce_mean(ctx, xn, axes)]) if spec.center else xn
        var = _reduce_mean(ctx, ctx.op("Mul", [cen, cen]), axes)
        y = ctx.op("Div", [cen, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.scalar(spec.eps, dt)])])])
        if w is not None:
            y = ctx.op("Mul", [y, affine(w)])
        return ctx.op("Add", [y, affine(b)]) if b is not None else y
    if len(spec.vshape) == 4 and spec.raxes == (2, 3) and spec.waxes == (1, 2):  # group norm
        G, C = spec.vshape[1], spec.vshape[1] * spec.vshape[2]
        grouped = ctx.op("Reshape", [xn, ctx.ints([0, G, -1])])
        cen = ctx.op("Sub", [grouped, _reduce_mean(ctx, grouped, [2])])
        var = _reduce_mean(ctx, ctx.op("Mul", [cen, cen]), [2])
        y = ctx.op("Div", [cen, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.scalar(spec.eps, dt)])])])
        y = ctx.op("Reshape", [y, ctx.op("Shape", [xn])])
        bshape = [C] + [1] * (len(shape) - 2)
        if w is not None:
            y = ctx.op("Mul", [y, ctx.op("Reshape", [ctx.name(w), ctx.ints(bshape)])])
        if b is not None:
            y = ctx.op("Add", [y, ctx.op("Reshape", [ctx.name(b), ctx.ints(bshape)])])
        return y
    raise OnnxExporterError(f"this normalization (statistics over axes {spec.raxes} of {spec.vshape}) has no ONNX "
                            "mapping here")


def _param_or_const(ctx, arr, hint):
    """A running statistic: the initializer of the buffer it views when there is one."""
    base = arr
    while getattr(base, "base", None) is not None:
        base = base.base
    for name, t in ctx.named.items():
        if t._data is base or t._data is arr:
            ref = ctx.param_initializer(name)
            return ref if t._data.shape == (arr.size,) else ctx.op("Reshape", [ref, ctx.ints([-1])])
    return _stat_input(ctx, arr, hint)


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
                elif ctx.shapes[x.name][dim] != ctx.shapes2[x.name][dim] and stop >= size:
                    stop = _INT64_MAX
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
        out = ctx.op("Slice", [out, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes), ctx.ints(steps)])
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


# -- attention ---------------------------------------------------------------------------------------
@symbolic("SDPA")
def _sdpa(ctx, node, q, k, v, bias, scale, keep, keep_scale, return_weights):
    if keep is not None:
        raise OnnxExporterError("attention dropout in training mode: call model.eval() before ember.onnx.export")
    dt, n = q.dtype, _rank(ctx, k)
    perm = list(range(n - 2)) + [n - 1, n - 2]
    scores = ctx.op("MatMul", [ctx.name(q), ctx.op("Transpose", [ctx.name(k)], perm=perm)])
    scores = ctx.op("Mul", [scores, ctx.scalar(scale, dt)])
    if isinstance(bias, Value):
        scores = ctx.op("Add", [scores, _operand(ctx, bias, dt)])
    elif bias is not None:
        host = bias.get() if hasattr(bias, "get") else np.asarray(bias)
        scores = ctx.op("Add", [scores, ctx.const(host.astype(dt), "attn_bias")])
    weights = ctx.op("Softmax", [scores], axis=-1)
    out = ctx.op("MatMul", [weights, ctx.name(v)])
    return [out, weights] if return_weights else out


# -- recurrent layers --------------------------------------------------------------------------------
def _gate_weights(ctx, node, tensors, order, hint):
    """Weights of one direction in ONNX's gate order, shaped (1, gates * H, K): constants when they are
    parameters (the usual case), else reordered with Split/Concat."""
    out = []
    for t in tensors:
        arr = ctx.constant_value(t)
        if arr is None:
            raise OnnxExporterError(f"{node.kind}: weights computed inside the model have no ONNX mapping here")
        H = arr.shape[0] // len(order)
        out.append(np.concatenate([arr[i * H:(i + 1) * H] for i in order])[None])
    return out


def _rnn_common(ctx, node, x, states, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, order, op, **attrs):
    W, R = _gate_weights(ctx, node, [w_ih, w_hh], order, "W")
    H = R.shape[2]
    ins = [ctx.name(x), ctx.const(W, "W"), ctx.const(R, "R")]
    if b_ih is not None:
        bi, bh = _gate_weights(ctx, node, [b_ih, b_hh], order, "B")
        ins.append(ctx.const(np.concatenate([bi, bh], axis=1), "B"))
    else:
        ins.append("")
    if batch_sizes is None:
        ins.append("")  # sequence_lens: full length for every batch entry
    else:  # a PackedSequence: each (sorted) batch entry's length, as recorded when tracing
        B = ctx.shape(x)[1]
        lens = [sum(1 for bs in batch_sizes if bs > b) for b in range(B)]
        ins.append(ctx.const(np.asarray(lens, dtype=np.int32), "sequence_lens"))
    for s in states:
        ins.append(ctx.op("Unsqueeze", [ctx.name(s), ctx.ints([0])]))
    outs = ctx.op(op, ins, outputs=1 + len(states), hidden_size=H,
                  direction="reverse" if reverse else "forward", **attrs)
    y = ctx.op("Squeeze", [outs[0], ctx.ints([1])])
    return [y] + [ctx.op("Squeeze", [o, ctx.ints([0])]) for o in outs[1:]]


def _host_index(index):
    return np.asarray(index.get() if hasattr(index, "get") else index, dtype=np.int64)


@symbolic("GatherRows")
def _gather_rows(ctx, node, x, index, n_rows):
    return ctx.op("Gather", [ctx.name(x), ctx.const(_host_index(index), "rows")], axis=0)


@symbolic("ScatterRows")
def _scatter_rows(ctx, node, x, index, n_rows, padding_value=0.0):
    out = ctx.shape(node.outputs[0])
    base = ctx.const(np.full(out, padding_value, dtype=x.dtype), "padding")
    return ctx.op("ScatterND", [base, ctx.const(_host_index(index)[:, None], "rows"), ctx.name(x)])


@symbolic("LSTMLayer")
def _lstm(ctx, node, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse):
    if w_hr is not None:
        raise OnnxExporterError("LSTM with proj_size > 0 has no ONNX LSTM mapping")
    return _rnn_common(ctx, node, x, [h0, c0], w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, (0, 3, 1, 2), "LSTM")


@symbolic("GRULayer")
def _gru(ctx, node, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse):
    return _rnn_common(ctx, node, x, [h0], w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, (1, 0, 2), "GRU",
                       linear_before_reset=1)


@symbolic("RNNLayer")
def _rnn(ctx, node, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity):
    return _rnn_common(ctx, node, x, [h0], w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, (0,), "RNN",
                       activations=["Relu" if nonlinearity == "relu" else "Tanh"])


def supported_ops():
    """The names of the primitives ``ember.onnx.export`` can translate."""
    return sorted(SYMBOLICS)
