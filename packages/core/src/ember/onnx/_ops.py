"""ONNX operators run with ember ops (for ``ember.onnx.load``): one function per op type.

Each entry is ``fn(inputs, attrs) -> tensor or tuple of tensors``: ``inputs`` are ember tensors
(``None`` for omitted optional inputs), ``attrs`` the node's attributes as Python values. Everything is
computed with differentiable ember ops, so a loaded graph can be fine-tuned.
"""

from __future__ import annotations

import numpy as np

from .. import creation, dtypes
from ..nn import functional as F
from ..ops import rnn as F_rnn
from ..ops.indexing import index_put
from ..ops.joining import cat, stack
from ..ops.linalg import einsum, matmul
from ..ops.selection import clamp, maximum, minimum, where
from .errors import OnnxImportError

OPS = {}
_INT64_MAX = np.iinfo(np.int64).max

DTYPES = {1: dtypes.float32, 2: dtypes.uint8, 3: dtypes.int8, 5: dtypes.int16, 6: dtypes.int32, 7: dtypes.int64,
          9: dtypes.bool_, 10: dtypes.float16, 11: dtypes.float64}


def onnx_op(*names):
    def register(fn):
        for n in names:
            OPS[n] = fn
        return fn

    return register


def _ints(t):
    return [int(v) for v in np.asarray(t.detach().cpu().numpy()).reshape(-1)]


# -- elementwise ---------------------------------------------------------------------------------------
_BINARY = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b if a.dtype.is_floating_point else a.div(b, rounding_mode="trunc"),
    "Pow": lambda a, b: a ** b, "Equal": lambda a, b: a == b, "Less": lambda a, b: a < b,
    "Greater": lambda a, b: a > b, "LessOrEqual": lambda a, b: a <= b, "GreaterOrEqual": lambda a, b: a >= b,
    "And": lambda a, b: a.logical_and(b), "Or": lambda a, b: a.logical_or(b), "Xor": lambda a, b: a.logical_xor(b),
}
for _name, _f in _BINARY.items():
    OPS[_name] = (lambda f: lambda ins, attrs: f(ins[0], ins[1]))(_f)

_UNARY = {
    "Relu": F.relu, "Sigmoid": lambda x: x.sigmoid(), "Tanh": lambda x: x.tanh(), "Exp": lambda x: x.exp(),
    "Log": lambda x: x.log(), "Sqrt": lambda x: x.sqrt(), "Reciprocal": lambda x: x.reciprocal(),
    "Neg": lambda x: -x, "Abs": lambda x: x.abs(), "Erf": lambda x: x.erf(), "Sin": lambda x: x.sin(),
    "Cos": lambda x: x.cos(), "Tan": lambda x: x.tan(), "Floor": lambda x: x.floor(), "Ceil": lambda x: x.ceil(),
    "Sign": lambda x: x.sign(), "Round": lambda x: x.round(), "Not": lambda x: x.logical_not(),
    "Identity": lambda x: x, "Softplus": F.softplus, "HardSwish": F.hardswish, "Asin": lambda x: x.asin(),
    "Acos": lambda x: x.acos(), "Atan": lambda x: x.atan(), "Sinh": lambda x: x.sinh(), "Cosh": lambda x: x.cosh(),
    "Asinh": lambda x: x.asinh(), "Acosh": lambda x: x.acosh(), "Atanh": lambda x: x.atanh(),
}
for _name, _f in _UNARY.items():
    OPS[_name] = (lambda f: lambda ins, attrs: f(ins[0]))(_f)


def _variadic(fn):
    def run(ins, attrs):
        out = ins[0]
        for t in ins[1:]:
            out = fn(out, t)
        return out

    return run


OPS["Max"], OPS["Min"], OPS["Sum"] = _variadic(maximum), _variadic(minimum), _variadic(lambda a, b: a + b)


@onnx_op("Clip")
def _clip(ins, attrs):
    lo = ins[1] if len(ins) > 1 else None
    hi = ins[2] if len(ins) > 2 else None
    return clamp(ins[0], None if lo is None else float(lo.item()), None if hi is None else float(hi.item()))


@onnx_op("Where")
def _where(ins, attrs):
    return where(ins[0], ins[1], ins[2])


@onnx_op("LeakyRelu")
def _leaky(ins, attrs):
    return F.leaky_relu(ins[0], attrs.get("alpha", 0.01))


@onnx_op("Elu")
def _elu(ins, attrs):
    return F.elu(ins[0], attrs.get("alpha", 1.0))


@onnx_op("Selu")
def _selu(ins, attrs):
    alpha, gamma = attrs.get("alpha", 1.67326319217681884765625), attrs.get("gamma", 1.05070102214813232421875)
    x = ins[0]
    return where(x > 0, x, (x.exp() - 1) * alpha) * gamma


@onnx_op("Celu")
def _celu(ins, attrs):
    return F.celu(ins[0], attrs.get("alpha", 1.0))


@onnx_op("HardSigmoid")
def _hardsigmoid(ins, attrs):
    return clamp(ins[0] * attrs.get("alpha", 0.2) + attrs.get("beta", 0.5), 0.0, 1.0)


@onnx_op("Gelu")
def _gelu(ins, attrs):
    return F.gelu(ins[0], approximate=attrs.get("approximate", "none"))


OPS["Softmax"] = lambda ins, attrs: ins[0].softmax(attrs.get("axis", -1))
OPS["LogSoftmax"] = lambda ins, attrs: ins[0].log_softmax(attrs.get("axis", -1))


@onnx_op("Dropout")
def _dropout(ins, attrs):
    return ins[0]


@onnx_op("Cast")
def _cast(ins, attrs):
    to = attrs["to"]
    if to not in DTYPES:
        raise OnnxImportError(f"Cast to ONNX element type {to} is not supported by ember")
    return ins[0].to(DTYPES[to])


# -- linear algebra ----------------------------------------------------------------------------------
@onnx_op("Gemm")
def _gemm(ins, attrs):
    a, b = ins[0], ins[1]
    if attrs.get("transA", 0):
        a = a.t()
    if attrs.get("transB", 0):
        b = b.t()
    y = matmul(a, b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha != 1.0:
        y = y * alpha
    if len(ins) > 2 and ins[2] is not None:
        y = y + (ins[2] if beta == 1.0 else ins[2] * beta)
    return y


OPS["MatMul"] = lambda ins, attrs: matmul(ins[0], ins[1])
OPS["Einsum"] = lambda ins, attrs: einsum(attrs["equation"], *ins)


# -- convolution, pooling, normalization ---------------------------------------------------------------
def _spatial_pads(attrs, nd, kernel=None, name=""):
    auto = attrs.get("auto_pad", "NOTSET")
    if auto not in ("NOTSET", "VALID"):
        raise OnnxImportError(f"{name} with auto_pad={auto} is not supported by ember.onnx.load")
    pads = list(attrs.get("pads", [0] * (2 * nd))) if auto == "NOTSET" else [0] * (2 * nd)
    return pads[:nd], pads[nd:]


def _symmetric(x, begins, ends, value=0.0):
    """(x padded where the pads differ at the two ends, the symmetric padding left for the op)."""
    if begins == ends:
        return x, begins
    extra = []
    for b, e in reversed(list(zip(begins, ends))):
        m = min(b, e)
        extra += [b - m, e - m]
    return F.pad(x, extra, value=value), [min(b, e) for b, e in zip(begins, ends)]


@onnx_op("Conv")
def _conv(ins, attrs):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    nd = w.dim() - 2
    if nd not in (1, 2):
        raise OnnxImportError(f"Conv with {nd} spatial dimensions is not supported by ember.onnx.load")
    x, pad = _symmetric(x, *_spatial_pads(attrs, nd, name="Conv"))
    fn = F.conv1d if nd == 1 else F.conv2d
    return fn(x, w, b, stride=attrs.get("strides", [1] * nd), padding=pad, dilation=attrs.get("dilations", [1] * nd),
              groups=attrs.get("group", 1))


@onnx_op("ConvTranspose")
def _conv_transpose(ins, attrs):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    nd = w.dim() - 2
    begins, ends = _spatial_pads(attrs, nd, name="ConvTranspose")
    if begins != ends or "output_shape" in attrs:
        raise OnnxImportError("ConvTranspose with asymmetric pads or output_shape is not supported by ember.onnx.load")
    fn = F.conv_transpose1d if nd == 1 else F.conv_transpose2d
    return fn(x, w, b, stride=attrs.get("strides", [1] * nd), padding=begins,
              output_padding=attrs.get("output_padding", [0] * nd), groups=attrs.get("group", 1),
              dilation=attrs.get("dilations", [1] * nd))


def _pool(ins, attrs, is_max):
    x = ins[0]
    k = attrs["kernel_shape"]
    nd = len(k)
    if nd not in (1, 2):
        raise OnnxImportError(f"pooling over {nd} dimensions is not supported by ember.onnx.load")
    begins, ends = _spatial_pads(attrs, nd, name="pooling")
    stride = attrs.get("strides", [1] * nd)
    ceil = bool(attrs.get("ceil_mode", 0))
    if is_max:
        x, pad = _symmetric(x, begins, ends, value=float("-inf"))
        fn = F.max_pool1d if nd == 1 else F.max_pool2d
        return fn(x, k, stride, pad, attrs.get("dilations", [1] * nd), ceil_mode=ceil)
    if begins != ends:
        raise OnnxImportError("AveragePool with asymmetric pads is not supported by ember.onnx.load")
    fn = F.avg_pool1d if nd == 1 else F.avg_pool2d
    return fn(x, k, stride, begins, ceil_mode=ceil, count_include_pad=bool(attrs.get("count_include_pad", 0)))


OPS["MaxPool"] = lambda ins, attrs: _pool(ins, attrs, True)
OPS["AveragePool"] = lambda ins, attrs: _pool(ins, attrs, False)
OPS["GlobalAveragePool"] = lambda ins, attrs: ins[0].mean(tuple(range(2, ins[0].dim())), keepdim=True)
OPS["GlobalMaxPool"] = lambda ins, attrs: ins[0].amax(tuple(range(2, ins[0].dim())), keepdim=True)


@onnx_op("BatchNormalization")
def _batch_norm(ins, attrs):
    if attrs.get("training_mode", 0):
        raise OnnxImportError("BatchNormalization with training_mode=1 is not supported by ember.onnx.load")
    x, scale, bias, mean, var = ins[:5]
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=attrs.get("epsilon", 1e-5))


@onnx_op("LayerNormalization")
def _layer_norm(ins, attrs):
    x, scale = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    axis = attrs.get("axis", -1) % x.dim()
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, attrs.get("epsilon", 1e-5))


@onnx_op("InstanceNormalization")
def _instance_norm(ins, attrs):
    return F.instance_norm(ins[0], weight=ins[1], bias=ins[2], eps=attrs.get("epsilon", 1e-5))


# -- shapes ------------------------------------------------------------------------------------------
@onnx_op("Shape")
def _shape(ins, attrs):
    shape = list(ins[0].shape)
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return creation.tensor(shape[start:end], dtype=dtypes.int64)


@onnx_op("Reshape")
def _reshape(ins, attrs):
    x, shape = ins[0], _ints(ins[1])
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


@onnx_op("Flatten")
def _flatten(ins, attrs):
    x = ins[0]
    axis = attrs.get("axis", 1) % max(x.dim(), 1) if attrs.get("axis", 1) != x.dim() else x.dim()
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(lead, -1)


@onnx_op("Transpose")
def _transpose(ins, attrs):
    x = ins[0]
    perm = attrs.get("perm", list(reversed(range(x.dim()))))
    return x.permute(*perm)


def _axes_input(ins, attrs, i=1):
    if len(ins) > i and ins[i] is not None:
        return _ints(ins[i])
    return attrs.get("axes")


@onnx_op("Squeeze")
def _squeeze(ins, attrs):
    x, axes = ins[0], _axes_input(ins, attrs)
    if axes is None:
        return x.squeeze()
    keep = [s for i, s in enumerate(x.shape) if i not in {a % x.dim() for a in axes}]
    return x.reshape(keep)


@onnx_op("Unsqueeze")
def _unsqueeze(ins, attrs):
    x, axes = ins[0], _axes_input(ins, attrs)
    n = x.dim() + len(axes)
    for a in sorted(a % n for a in axes):
        x = x.unsqueeze(a)
    return x


@onnx_op("Concat")
def _concat(ins, attrs):
    return cat([t for t in ins if t is not None], attrs["axis"])


@onnx_op("Slice")
def _slice(ins, attrs):
    x = ins[0]
    starts, ends = _ints(ins[1]), _ints(ins[2])
    axes = _ints(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = _ints(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    key = [slice(None)] * x.dim()
    flips = []
    for s, e, a, st in zip(starts, ends, axes, steps):
        a %= x.dim()
        n = x.shape[a]
        if st > 0:
            key[a] = slice(max(min(s, n), -n), None if e >= n else max(e, -n), st)
        else:  # a negative step: take the forward slice, then flip
            s = s + n if s < 0 else min(s, n - 1)
            e = e + n if e < 0 and e > -n - 1 and abs(e) < _INT64_MAX else (-1 if e < 0 else e)
            idx = list(range(s, e, st))
            key[a] = slice(idx[-1], idx[0] + 1, -st) if idx else slice(0, 0)
            flips.append(a)
    out = x[tuple(key)]
    return out.flip(flips) if flips else out


@onnx_op("Gather")
def _gather(ins, attrs):
    x, idx = ins[0], ins[1]
    axis = attrs.get("axis", 0) % x.dim()
    flat = idx.reshape(-1)
    flat = where(flat < 0, flat + x.shape[axis], flat)
    out = x.index_select(axis, flat)
    return out.reshape(list(x.shape[:axis]) + list(idx.shape) + list(x.shape[axis + 1:]))


@onnx_op("GatherElements")
def _gather_elements(ins, attrs):
    return ins[0].gather(attrs.get("axis", 0), ins[1])


@onnx_op("Expand")
def _expand(ins, attrs):
    x = ins[0]
    shape = np.broadcast_shapes(tuple(x.shape), tuple(_ints(ins[1])))
    return x.expand(*shape)


@onnx_op("Tile")
def _tile(ins, attrs):
    return ins[0].repeat(*_ints(ins[1]))


_PAD_MODES = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@onnx_op("Pad")
def _pad(ins, attrs):
    mode = attrs.get("mode", "constant")
    if mode != "constant" and mode not in _PAD_MODES:
        raise OnnxImportError(f"Pad with mode={mode} is not supported by ember.onnx.load")
    x, pads = ins[0], _ints(ins[1])
    if len(ins) > 3 and ins[3] is not None:
        raise OnnxImportError("Pad with an axes input is not supported by ember.onnx.load")
    n = x.dim()
    torch_pads = []
    for d in reversed(range(n)):
        torch_pads += [pads[d], pads[n + d]]
    if mode == "constant":
        value = float(ins[2].item()) if len(ins) > 2 and ins[2] is not None else 0.0
        return F.pad(x, torch_pads, value=value)
    while len(torch_pads) > 2 and not any(torch_pads[-2:]):  # ember pads the trailing 1-3 axes of a batch
        torch_pads = torch_pads[:-2]
    k = len(torch_pads) // 2
    if n not in (k + 1, k + 2):
        out = F.pad(x.reshape((-1,) + tuple(x.shape[n - k:]))[None], torch_pads, _PAD_MODES[mode])
        return out.reshape(tuple(x.shape[: n - k]) + tuple(out.shape[2:]))
    return F.pad(x, torch_pads, _PAD_MODES[mode])


@onnx_op("Range")
def _range(ins, attrs):
    start, limit, delta = (t.reshape(()) for t in ins)
    return creation.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


@onnx_op("ScatterND")
def _scatter_nd(ins, attrs):
    data, idx, updates = ins
    if attrs.get("reduction", "none") != "none":
        raise OnnxImportError("ScatterND with a reduction is not supported by ember.onnx.load")
    k = idx.shape[-1]
    flat = idx.reshape(-1, k)
    return index_put(data, tuple(flat[:, j] for j in range(k)), updates.reshape((-1,) + tuple(data.shape[k:])))


@onnx_op("ConstantOfShape")
def _constant_of_shape(ins, attrs):
    value = attrs.get("value")
    arr = np.zeros(1, dtype=np.float32) if value is None else value
    return creation.full(_ints(ins[0]), arr.reshape(-1)[0].item(), dtype=dtypes._FROM_NP[arr.dtype])


# -- reductions --------------------------------------------------------------------------------------
def _reduce(name):
    def run(ins, attrs):
        x = ins[0]
        axes = _axes_input(ins, attrs)
        keep = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        axes = tuple(a % x.dim() for a in axes)
        if name == "ReduceSum":
            return x.sum(axes, keepdim=keep)
        if name == "ReduceMean":
            return x.mean(axes, keepdim=keep)
        if name == "ReduceMax":
            return x.amax(axes, keepdim=keep)
        if name == "ReduceMin":
            return x.amin(axes, keepdim=keep)
        if name == "ReduceL2":
            return (x * x).sum(axes, keepdim=keep).sqrt()
        out = x
        for a in sorted(axes, reverse=True):
            out = out.prod(a, keepdim=keep)
        return out

    return run


for _name in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2"):
    OPS[_name] = _reduce(_name)


def _arg(is_max):
    def run(ins, attrs):
        if attrs.get("select_last_index", 0):
            raise OnnxImportError("ArgMax/ArgMin with select_last_index=1 is not supported by ember.onnx.load")
        fn = ins[0].argmax if is_max else ins[0].argmin
        return fn(attrs.get("axis", 0), keepdim=bool(attrs.get("keepdims", 1)))

    return run


OPS["ArgMax"], OPS["ArgMin"] = _arg(True), _arg(False)


@onnx_op("CumSum")
def _cumsum(ins, attrs):
    if attrs.get("exclusive", 0) or attrs.get("reverse", 0):
        raise OnnxImportError("CumSum with exclusive or reverse is not supported by ember.onnx.load")
    return ins[0].cumsum(int(ins[1].item()))


# -- recurrent layers --------------------------------------------------------------------------------
def _chunks(w, order):
    """Rows of ``w`` regrouped from ONNX's gate order into PyTorch's (``order``: ONNX chunk per torch gate)."""
    H = w.shape[0] // len(order)
    return cat([w[i * H:(i + 1) * H] for i in order], 0)


def _recurrent(kind, ins, attrs):
    x, W, R = ins[0], ins[1], ins[2]
    B = ins[3] if len(ins) > 3 else None
    seq = ins[4] if len(ins) > 4 else None
    h0 = ins[5] if len(ins) > 5 else None
    c0 = ins[6] if len(ins) > 6 else None
    if attrs.get("layout", 0):
        raise OnnxImportError(f"{kind} with layout=1 is not supported by ember.onnx.load")
    for name in ("activations", "clip", "input_forget"):
        if name in attrs and not (name == "activations" and kind == "RNN") and not (name == "input_forget" and attrs[name] == 0):
            raise OnnxImportError(f"{kind} with attribute {name} is not supported by ember.onnx.load")
    T, N = x.shape[0], x.shape[1]
    batch_sizes = None
    if seq is not None and any(v != T for v in _ints(seq)):
        lens = _ints(seq)
        if min(lens) < 1 or max(lens) > T:
            raise OnnxImportError(f"{kind} with sequence_lens {lens}: each length must be between 1 and the "
                                  f"sequence length {T}")
        batch_sizes = seq.to(dtype=dtypes.int64)  # per-sequence lengths, in any order (see ember.ops.rnn)
    H = attrs["hidden_size"]
    direction = attrs.get("direction", "forward")
    dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[direction]
    order = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}[kind]
    if kind == "GRU" and not attrs.get("linear_before_reset", 0):
        raise OnnxImportError("GRU with linear_before_reset=0 is not supported by ember.onnx.load")
    nonlin = "tanh"
    if kind == "RNN":
        acts = [a.decode() if isinstance(a, bytes) else a for a in attrs.get("activations", ["Tanh"])]
        nonlin = {"Tanh": "tanh", "Relu": "relu"}.get(acts[0])
        if nonlin is None:
            raise OnnxImportError(f"RNN activation {acts[0]} is not supported by ember.onnx.load")
    zeros = creation.zeros(N, H, dtype=x.dtype, device=x.device)
    ys, hs, cs = [], [], []
    for d, reverse in enumerate(dirs):
        w_ih, w_hh = _chunks(W[d], order), _chunks(R[d], order)
        b_ih = b_hh = None
        if B is not None:
            g = len(order) * H
            b_ih, b_hh = _chunks(B[d][:g], order), _chunks(B[d][g:], order)
        h = h0[d] if h0 is not None else zeros
        if kind == "LSTM":
            y, hn, cn = F_rnn.lstm_layer(x, h, c0[d] if c0 is not None else zeros, w_ih, w_hh, b_ih, b_hh, None, batch_sizes,
                                         reverse)
            cs.append(cn)
        elif kind == "GRU":
            y, hn = F_rnn.gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)
        else:
            y, hn = F_rnn.rnn_layer(x, h, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlin)
        ys.append(y)
        hs.append(hn)
    outs = (stack(ys, 1), stack(hs, 0))
    return outs + (stack(cs, 0),) if kind == "LSTM" else outs


OPS["LSTM"] = lambda ins, attrs: _recurrent("LSTM", ins, attrs)
OPS["GRU"] = lambda ins, attrs: _recurrent("GRU", ins, attrs)
OPS["RNN"] = lambda ins, attrs: _recurrent("RNN", ins, attrs)


@onnx_op("GridSample")
def _grid_sample(ins, attrs):
    mode = {"linear": "bilinear", "cubic": "bicubic"}.get(attrs.get("mode", "bilinear"), attrs.get("mode", "bilinear"))
    return F.grid_sample(ins[0], ins[1], mode=mode, padding_mode=attrs.get("padding_mode", "zeros"),
                         align_corners=bool(attrs.get("align_corners", 0)))
