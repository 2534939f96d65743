"""Table entries for the layer primitives: convolution, pooling, normalization, attention, recurrent
layers (registered into ``_symbolic.SYMBOLICS`` on import)."""

from __future__ import annotations

import numpy as np

from ..jit._graph import Value
from ._symbolic import _need, _operand, _rank, _reduce_mean, symbolic
from .errors import OnnxExporterError

# -- convolution, pooling, normalization -------------------------------------------------------------
def _need4d(ctx, node, x):
    if _rank(ctx, x) != 4:
        raise OnnxExporterError(f"{node.kind} on a {_rank(ctx, x)}-D input (unbatched) has no ONNX mapping here; "
                                "export with a batch dimension")


@symbolic("Convolution")
def _conv(ctx, node, x, w, b, cfg, out_hw):
    ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
    if _rank(ctx, x) == 3:  # conv1d: the primitive's unit-height 2-D config, as ONNX's 1-D Conv
        return ctx.op("Conv", ins, strides=[cfg.stride[1]], pads=list(cfg.pads[1]), dilations=[cfg.dilation[1]],
                      group=int(cfg.groups), kernel_shape=list(ctx.shape(w)[2:]))
    _need4d(ctx, node, x)
    pads = [cfg.pads[0][0], cfg.pads[1][0], cfg.pads[0][1], cfg.pads[1][1]]
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


def _pool_attrs(geom, first=0):
    """ONNX pooling attributes for an N-d pooling geometry, from its axis ``first`` on (1: a 1-D pooling run as
    unit-height 2-D), ceil_mode when an output size needs it."""
    dims = [tuple(v)[first:] for v in (geom.out, geom.size, geom.p, geom.d, geom.k, geom.s)]
    ceil = any(o != (n + 2 * p - d * (k - 1) - 1) // s + 1 for o, n, p, d, k, s in zip(*dims))
    return dict(kernel_shape=list(dims[4]), strides=list(dims[5]), pads=list(dims[2]) * 2, ceil_mode=int(ceil))


def _need_batched_pool(ctx, node, x, geom, one_d=False):
    if _rank(ctx, x) != 2 + len(geom.k) - one_d:
        raise OnnxExporterError(f"{node.kind} on a {_rank(ctx, x)}-D input (unbatched) has no ONNX mapping here; "
                                "export with a batch dimension")
    twin = ctx.twins.get(id(node))
    if twin is not None:
        g2 = twin.args[1]
        if (g2.k, g2.s, g2.p, g2.d) != (geom.k, geom.s, geom.p, geom.d):
            raise OnnxExporterError(
                f"{node.kind} at {node.where or 'the model'}: its window (kernel {list(geom.k)} in the example, "
                f"{list(g2.k)} with the dynamic axes resized) follows a dynamic axis, e.g. avg_pool1d(x, "
                "x.shape[-1]); the file would keep the example's window. Use an adaptive pool "
                "(adaptive_avg_pool1d(x, 1)) or a mean over the axis, or export without that dynamic axis")


@symbolic("MaxPool2dFn")
def _max_pool(ctx, node, x, geom, return_indices, one_d=False):
    _need_batched_pool(ctx, node, x, geom, one_d)
    y = ctx.op("MaxPool", [ctx.name(x)], dilations=list(geom.d)[int(one_d):], **_pool_attrs(geom, int(one_d)))
    return [y, None] if return_indices else y


@symbolic("AvgPool2dFn")
def _avg_pool(ctx, node, x, geom, count_include_pad, divisor_override, one_d=False):
    _need_batched_pool(ctx, node, x, geom, one_d)
    if divisor_override is not None:
        raise OnnxExporterError("avg_pool2d with divisor_override has no ONNX mapping")
    return ctx.op("AveragePool", [ctx.name(x)], count_include_pad=int(bool(count_include_pad)),
                  **_pool_attrs(geom, int(one_d)))


def _adaptive(ctx, node, x, Oh, Ow, is_max):
    _need4d(ctx, node, x)
    H, W = ctx.shape(x)[2:]
    if (Oh, Ow) == (1, 1):
        return ctx.op("GlobalMaxPool" if is_max else "GlobalAveragePool", [ctx.name(x)])
    if set(ctx.dynamic_dims(x)) & {2, 3}:
        raise OnnxExporterError(f"adaptive pooling to {Oh}x{Ow} along a dynamic axis has no ONNX mapping here (the "
                                "windows depend on the input size); only output size 1 (a global pool) does")
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
    elif isinstance(batch_sizes, Value):  # a traced PackedSequence: the lengths tensor, in batch order
        known = ctx.constant_value(batch_sizes)
        ins.append(ctx.const(known.astype(np.int32), "sequence_lens") if known is not None
                   else ctx.op("Cast", [ctx.name(batch_sizes)], to=ctx.onnx.TensorProto.INT32))
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


# -- grid sampling -----------------------------------------------------------------------------------
@symbolic("_GridSampler", opset=16)
def _grid_sampler(ctx, node, x, grid, mode, padding, align):
    """ONNX GridSample: 4-D from opset 16 (mode names bilinear/bicubic), N-d from opset 20 (linear/cubic)."""
    _need(ctx, node, 16 if _rank(ctx, x) == 4 else 20)
    names = ("linear", "nearest", "cubic") if ctx.opset >= 20 else ("bilinear", "nearest", "bicubic")
    return ctx.op("GridSample", [ctx.name(x), ctx.name(grid)], mode=names[mode],
                  padding_mode=("zeros", "border", "reflection")[padding], align_corners=int(align))
