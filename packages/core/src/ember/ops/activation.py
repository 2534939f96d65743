"""Activation functions (``ember.nn.functional``): ReLU family, GELU, SiLU, softplus, softmax, ...

Each pointwise activation is one primitive whose backward is written with tensor ops, so second
derivatives (gradient penalties, ``create_graph=True``) are exact. Softmax and log-softmax are single
nodes over the whole reduction.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _fast
from ..autograd.function import TRACE_HOOK, Primitive, _SavedOutput
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from . import _cuda_kernels as _cuda
from ._common import apply_inplace, bind, check_inplace, inplace_source, quiet_errors, wrap_dim, xp_of
from .unary import Relu, _erf, check_tensor, not_implemented, relu as _relu, relu_array, select, sigmoid, tanh
from ..autograd.autocast import autocast_op

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# Formulas of many passes (erf, exp, ...) run on 64K-element blocks on the CPU, so that their
# temporaries stay in cache: GELU's forward is ~2x faster on 1M elements than whole-array passes.
_BLOCK = 65536


def _blocked(f, xp, arr, a, b):
    out = xp.empty_like(arr)
    _fast.map_blocks(lambda x, o: o.__setitem__(Ellipsis, f(xp, x, a, b)), arr.reshape(-1), out.reshape(-1))
    return out


def _blocked_grad(dfa, g, x, a, b):
    """``g * dfa(x)`` on arrays; large CPU arrays go in cache-sized blocks over the threads, so the
    derivative's temporaries stay in cache (``g`` may be a broadcast view, as after ``sum()``)."""
    xp = xp_of(x)
    with quiet_errors():
        flat_g = g.reshape(-1) if g.flags.c_contiguous else (g.reshape(-1)[:1] if g.ndim and not any(g.strides) else None)
        if x.size < 2 * _BLOCK or xp.__name__ != "numpy" or x.ndim == 0 or flat_g is None or not x.flags.c_contiguous:
            return g * dfa(xp, x, a, b)
        out = xp.empty(x.shape, dtype=xp.result_type(g, x))
        _fast.map_blocks(lambda gb, xb, ob: xp.multiply(gb, dfa(xp, xb, a, b), out=ob), flat_g, x.reshape(-1), out.reshape(-1))
        return out


class _Activation(Primitive):
    """A pointwise activation with up to two float parameters.

    Subclasses define ``kernel`` (the PyTorch kernel name used in dtype errors), ``f(xp, x, a, b)``
    on arrays and ``df(g, x, y, a, b)``: the input gradient as tensor ops, given the incoming
    gradient ``g``, the input ``x`` and/or the output ``y`` (per ``saves``: "x", "y" or "xy").
    """

    saves = "x"
    kernel = ""

    @classmethod
    def forward(cls, ctx, x, a=None, b=None):
        arr = x._data
        if arr.dtype.kind != "f":
            raise not_implemented(cls.kernel, arr)
        if ctx.needs_input_grad is not None:
            ctx.params = (a, b)
            if "x" in cls.saves:
                ctx.save_for_backward(x)
        if cls.cuda is not None and _cuda.usable(arr):
            return getattr(_cuda, cls.cuda + "_fwd")(arr, a)
        if cls.fast is not None and _fast.usable(arr):
            out = xp_of(arr).empty_like(arr)
            _fast.run_rows(getattr(_fast.kernels(), cls.fast + "_fwd"), (arr.reshape(-1), out.reshape(-1), cls.fast_arg(a)),
                           (0, 1))
            return out
        xp = xp_of(arr)
        with quiet_errors():
            if arr.size >= 2 * _BLOCK and xp.__name__ == "numpy" and arr.flags.c_contiguous:
                return _blocked(cls.f, xp, arr, a, b)
            return cls.f(xp, arr, a, b)

    dfa = None  # optional ``dfa(xp, x, a, b)``: the derivative on arrays, for the no-graph backward
    fast = None  # optional name of a compiled kernel pair (``_fast``: NAME_fwd, NAME_bwd), float32 CPU
    fast_arg = staticmethod(lambda a: a == "tanh")  # the kernels' scalar argument from ``a`` (GELU: its form)
    cuda = None  # optional name of a fused CUDA kernel pair (``_cuda_kernels``: NAME_fwd, NAME_bwd), float32

    @classmethod
    def backward(cls, ctx, grad):
        x = ctx.saved_tensors[0] if "x" in cls.saves else None
        if cls.cuda is not None and not STATE.enabled and _cuda.usable(x._data) and _cuda.grad_ok(grad._data, x._data):
            return Tensor._make(getattr(_cuda, cls.cuda + "_bwd")(grad._data, x._data, ctx.params[0])), None, None
        if cls.fast is not None and not STATE.enabled and grad._data.shape == x._data.shape and _fast.usable(x._data, grad._data):
            return Tensor._make(_fast_grad(cls.fast, grad._data, x._data, cls.fast_arg(ctx.params[0]))), None, None
        if cls.dfa is not None and not STATE.enabled and grad._data.shape == x._data.shape:
            return Tensor._make(_blocked_grad(cls.dfa, grad._data, x._data, *ctx.params)), None, None
        y = ctx.saved_output if "y" in cls.saves else None
        return cls.df(grad, x, y, *ctx.params), None, None


def _fast_grad(name, g, x, flag):
    g, bcast = _fast.as_grad(g, (x.size,))
    out = xp_of(x).empty_like(x)
    _fast.run_rows(getattr(_fast.kernels(), name + "_bwd"), (g.reshape(-1), x.reshape(-1), out.reshape(-1), flag),
                   (1, 2) if bcast else (0, 1, 2))
    return out


def _activation(name, kernel, f, df, saves="x"):
    attrs = {"kernel": kernel, "f": staticmethod(f), "df": staticmethod(df), "saves": saves, "save_output": "y" in saves}
    return type(name, (_Activation,), attrs)


def _step(x, threshold=0.0):
    """1 where ``x > threshold`` else 0, in ``x``'s dtype (a constant: no gradient flows through it)."""
    return Tensor._make((x._data > threshold).astype(x._data.dtype))


def _gelu(xp, x, approximate, _):
    if approximate == "tanh":
        inner = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        return 0.5 * x * (1.0 + inner)
    return 0.5 * x * (1.0 + _erf(xp, x * _SQRT_HALF, False))


def _gelu_grad(g, x, y, approximate, _):
    if approximate == "tanh":
        x3 = x * x * x
        inner = ((x + x3 * 0.044715) * _SQRT_2_OVER_PI).tanh()
        dinner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
        return g * ((inner + 1) * 0.5 + x * 0.5 * (1 - inner * inner) * dinner)
    cdf = ((x * _SQRT_HALF).erf() + 1) * 0.5
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _gelu_dfa(xp, x, approximate, _):
    if approximate == "tanh":
        inner = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        dinner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
        return (inner + 1) * 0.5 + x * 0.5 * (1 - inner * inner) * dinner
    cdf = (_erf(xp, x * _SQRT_HALF, False) + 1) * 0.5
    return cdf + x * (xp.exp(x * x * -0.5) * _INV_SQRT_2PI)


Gelu = _activation("Gelu", "GeluKernelImpl", _gelu, _gelu_grad)
Gelu.dfa = staticmethod(_gelu_dfa)
Gelu.fast = "gelu"
Gelu.cuda = "gelu"


def _silu(xp, x, a, b):
    s = 1.0 / (1.0 + xp.exp(-x))
    return x * s


def _silu_grad(g, x, y, a, b):
    s = x.sigmoid()
    return g * s * (x * (1 - s) + 1)


def _silu_dfa(xp, x, a, b):
    s = 1.0 / (1.0 + xp.exp(-x))
    return s * (x * (1 - s) + 1)


Silu = _activation("Silu", "silu", _silu, _silu_grad)
Silu.dfa = staticmethod(_silu_dfa)
Silu.fast = "silu"


def _softplus_arr(xp, x, beta, threshold):
    bx = x * beta if beta != 1 else x
    out = xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)
    if beta != 1:
        out /= beta
    return select(bx > threshold, x, out)


def _softplus_grad(g, x, y, beta, threshold):
    bx = x * beta
    return g * (bx.sigmoid() * (1 - _step(bx, threshold)) + _step(bx, threshold))


Softplus = _activation("Softplus", "softplus", _softplus_arr, _softplus_grad)


def _mish(xp, x, a, b):
    return x * xp.tanh(_softplus_arr(xp, x, 1.0, 20.0))


def _mish_grad(g, x, y, a, b):
    t = Softplus.apply(x, 1.0, 20.0).tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


Mish = _activation("Mish", "mish", _mish, _mish_grad)


def _elu(xp, x, alpha, scale):
    neg = xp.expm1(xp.minimum(x, 0)) * (alpha * scale)
    return select(x > 0, x * scale if scale != 1 else x, neg)


def _where_nonpos(x, neg, pos):
    """``neg`` where ``x <= 0`` else ``pos`` (nan takes the positive branch, as in PyTorch's kernels)."""
    from .selection import where

    return where(Tensor._make(x._data <= 0), neg, pos)


def _elu_grad(g, x, y, alpha, scale):
    return g * _where_nonpos(x, x.exp() * (alpha * scale), scale)


Elu = _activation("Elu", "elu", _elu, _elu_grad)


def _celu(xp, x, alpha, _):
    return select(x > 0, x, xp.expm1(xp.minimum(x, 0) / alpha) * alpha)


def _celu_grad(g, x, y, alpha, _):
    return g * _where_nonpos(x, (x / alpha).exp(), 1.0)


Celu = _activation("Celu", "celu", _celu, _celu_grad)


def _leaky(xp, x, slope, _):
    return select(x > 0, x, x * slope)


def _leaky_grad(g, x, y, slope, _):
    pos = _step(x)
    return g * (pos + (1 - pos) * slope)


LeakyRelu = _activation("LeakyRelu", "leaky_relu", _leaky, _leaky_grad)
LeakyRelu.fast = "leaky"
LeakyRelu.fast_arg = staticmethod(np.float32)  # the slope


def _hardtanh(xp, x, lo, hi):
    return xp.minimum(xp.maximum(x, lo), hi)


def _hardtanh_grad(g, x, y, lo, hi):
    # PyTorch zeroes the gradient at and beyond the limits only: nan passes it
    outside = (x._data <= lo) | (x._data >= hi)
    return g * Tensor._make((~outside).astype(x._data.dtype))


Hardtanh = _activation("Hardtanh", "hardtanh", _hardtanh, _hardtanh_grad)


def _hardsigmoid(xp, x, a, b):
    return xp.minimum(xp.maximum(x + 3.0, 0), 6.0) / 6.0


def _hardsigmoid_grad(g, x, y, a, b):
    inside = (x._data > -3.0) & (x._data < 3.0)
    return g * Tensor._make(inside.astype(x._data.dtype) / 6.0)


Hardsigmoid = _activation("Hardsigmoid", "hardsigmoid", _hardsigmoid, _hardsigmoid_grad)


def _hardswish(xp, x, a, b):
    return x * xp.minimum(xp.maximum(x + 3.0, 0), 6.0) / 6.0


def _hardswish_grad(g, x, y, a, b):
    from .selection import where

    xa = x._data
    # PyTorch: 0 up to -3, x/3 + 1/2 strictly between -3 and 3, else 1 (nan and inf included)
    outer = Tensor._make((~(xa <= -3.0)).astype(xa.dtype))
    return g * where(Tensor._make((xa > -3.0) & (xa < 3.0)), x / 3.0 + 0.5, outer)


Hardswish = _activation("Hardswish", "hardswish", _hardswish, _hardswish_grad)
Hardswish.fast = "hardswish"


def _logsigmoid(xp, x, a, b):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _logsigmoid_grad(g, x, y, a, b):
    return g * (-x).sigmoid()


LogSigmoid = _activation("LogSigmoid", "log_sigmoid", _logsigmoid, _logsigmoid_grad)


def _threshold(xp, x, threshold, value):
    return select(x <= threshold, xp.asarray(value, dtype=x.dtype), x)  # nan stays nan, as in PyTorch


def _threshold_grad(g, x, y, threshold, value):
    return g * _step(x, threshold)


Threshold = _activation("Threshold", "threshold", _threshold, _threshold_grad)


def _hardshrink(xp, x, lambd, _):
    return select((x >= -lambd) & (x <= lambd), xp.zeros((), dtype=x.dtype), x)  # nan stays nan


def _hardshrink_grad(g, x, y, lambd, _):
    xa = x._data
    return g * Tensor._make((~((xa >= -lambd) & (xa <= lambd))).astype(xa.dtype))


Hardshrink = _activation("Hardshrink", "hardshrink", _hardshrink, _hardshrink_grad)


def _softshrink(xp, x, lambd, _):
    inside = (x >= -lambd) & (x <= lambd)  # false at nan, which passes through as in PyTorch
    return select(inside, xp.zeros((), dtype=x.dtype), select(x > lambd, x - lambd, x + lambd))


Softshrink = _activation("Softshrink", "softshrink", _softshrink, _hardshrink_grad)


# ---- softmax family ---------------------------------------------------------------------------


def _softmax_dim(name, ndim, stacklevel=3):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    return 0 if ndim in (0, 1, 3) else 1


class _SoftmaxFamily(Primitive):
    """A normalisation over one dim, computed in ``dtype`` when given. Subclasses set ``name``,
    ``scalar`` (the value of a 0-dim input's result) and ``kernel(xp, arr, axis)``."""

    save_output = True
    name = ""
    scalar = 0.0

    @classmethod
    def forward(cls, ctx, x, dim, dtype):
        check_tensor(x, cls.name)
        arr = x._data if dtype is None else x._data.astype(dtype.np, copy=False)
        if arr.dtype.kind != "f":
            raise not_implemented(f"{cls.name}_lastdim_kernel_impl", arr)
        ax = wrap_dim(dim, arr.ndim)
        if ctx.needs_input_grad is not None:
            ctx.dim = ax
        xp = xp_of(arr)
        if arr.ndim == 0:
            return xp.full_like(arr, cls.scalar)
        if arr.size == 0:
            return arr.copy()
        if ax == arr.ndim - 1 and _cuda.usable(arr):
            return _cuda.softmax_fwd(arr, cls.name == "log_softmax")
        if ax == arr.ndim - 1 and _fast.usable(arr, min_size=_fast.ROWS_MIN_SIZE):
            return _fast.last_dim_rows(cls.name + "_fwd", arr)
        if ax == arr.ndim - 1 and _fast.big_cpu(arr):  # NumPy passes on blocks of rows over the threads
            out = xp.empty_like(arr)
            rows = (-1, arr.shape[-1])
            _fast.map_blocks(lambda a, o: o.__setitem__(Ellipsis, cls.kernel(xp, a, 1)), arr.reshape(rows), out.reshape(rows))
            return out
        return cls.kernel(xp, arr, ax)

    @classmethod
    def fast_backward(cls, ctx, grad):
        """The input gradient from a compiled kernel (float32, last dim, no graph; CUDA or CPU), or None."""
        y = ctx.saved_output._data
        if not STATE.enabled and ctx.dim == y.ndim - 1 and _cuda.usable(y) and _cuda.grad_ok(grad._data, y):
            return Tensor._make(_cuda.softmax_bwd(grad._data, y, cls.name == "log_softmax")), None, None
        if (STATE.enabled or ctx.dim != y.ndim - 1 or grad._data.shape != y.shape
                or not _fast.usable(y, grad._data, min_size=_fast.ROWS_MIN_SIZE)):
            return None
        rows = (-1, y.shape[-1])
        g, bcast = _fast.as_grad(grad._data, rows)
        out = xp_of(y).empty_like(y)
        _fast.run_rows(getattr(_fast.kernels(), cls.name + "_bwd"), (g, y.reshape(rows), out.reshape(rows)),
                       (1, 2) if bcast else (0, 1, 2))
        return Tensor._make(out), None, None


class Softmax(_SoftmaxFamily):
    name, scalar = "softmax", 1.0

    @staticmethod
    def kernel(xp, arr, ax):
        out = arr - arr.max(axis=ax, keepdims=True)
        xp.exp(out, out=out)
        out /= out.sum(axis=ax, keepdims=True)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        fast = cls.fast_backward(ctx, grad)
        if fast is not None:
            return fast
        y = ctx.saved_output
        gy = grad * y
        return gy - y * gy.sum(ctx.dim, keepdim=True), None, None


class LogSoftmax(_SoftmaxFamily):
    name, scalar = "log_softmax", 0.0

    @staticmethod
    def kernel(xp, arr, ax):
        shifted = arr - arr.max(axis=ax, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=ax, keepdims=True))
        return shifted

    @classmethod
    def backward(cls, ctx, grad):
        fast = cls.fast_backward(ctx, grad)
        if fast is not None:
            return fast
        y = ctx.saved_output
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None, None


@autocast_op
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed in ``dtype`` when given)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return Softmax.apply(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return Softmax.apply(-input, dim, dtype)


@autocast_op
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably in one pass."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return LogSoftmax.apply(input, dim, dtype)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; ``hard=True`` gives one-hot samples with the soft
    sample's gradient (straight-through)."""
    from ..random import _gen, uniform_array

    xp = xp_of(logits._data)
    u = uniform_array(_gen(None, logits.device), logits._data.shape, logits._data.dtype)
    gumbels = Tensor._make(-xp.log(-xp.log(u + eps) + eps).astype(logits._data.dtype))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    from .reduction import argmax

    index = argmax(y_soft, dim)._data  # the op (not the array method): PyTorch's error over an empty dim
    y_hard = xp.zeros_like(y_soft._data)
    xp.put_along_axis(y_hard, xp.expand_dims(index, dim), 1.0, axis=dim)
    return Tensor._make(y_hard) - y_soft.detach() + y_soft


def _softmax_method(self, dim, dtype=None):
    return Softmax.apply(self, dim, dtype)


def _log_softmax_method(self, dim, dtype=None):
    return LogSoftmax.apply(self, dim, dtype)


bind(softmax=_softmax_method, log_softmax=_log_softmax_method)


# ---- public functional API ----------------------------------------------------------------------


def _maybe_inplace(result_fn, input, inplace):
    if inplace:
        return apply_inplace(input, result_fn(inplace_source(input)))
    return result_fn(input)


def relu(input, inplace=False):
    """``max(x, 0)``."""
    if inplace and not (STATE.enabled and input._requires_grad) and TRACE_HOOK[0] is None:
        arr = input._data
        if type(arr) is np.ndarray and arr.dtype.kind == "f" and arr.flags.writeable:
            relu_array(arr, out=arr)  # nothing recorded: in place, one pass (not a result copied back)
            input._version_counter.value += 1
            return input
    if inplace:  # relu's backward reads its output only: the input needs no clone (inplace_source)
        check_inplace(input)
        arr = input._data
        if (type(arr) is np.ndarray and arr.dtype.kind == "f" and arr.flags.writeable and input._base is None
                and TRACE_HOOK[0] is None):
            # written straight into the input (no result copied back: ResNet-18's relus, 2 MB-8 MB each); the
            # node's saved output is then the input itself, at its version after this write
            apply_inplace(input, Relu.apply(input, out=arr))
            input.grad_fn.__dict__["_saved_out"] = _SavedOutput(input, 0)
            return input
        return apply_inplace(input, _relu(input))
    return _relu(input)


def relu_(input):
    return relu(input, inplace=True)


def _int_result(input, arr, inplace):
    if inplace:
        xp_of(arr).copyto(input._data, arr)
        input._version_counter.value += 1
        return input
    return Tensor._make(arr)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if isinstance(input, Tensor) and input._data.dtype.kind in "iu":  # integer tensors clamp in their dtype
        arr = input._data
        if arr.dtype.kind == "u" and min_val < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        res = arr.astype("int64").clip(int(min_val), int(max_val)).astype(arr.dtype)
        return _int_result(input, res, inplace)
    return _maybe_inplace(lambda x: Hardtanh.apply(x, float(min_val), float(max_val)), input, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def elu(input, alpha=1.0, inplace=False):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _maybe_inplace(lambda x: Elu.apply(x, float(alpha), 1.0), input, inplace)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _maybe_inplace(lambda x: Elu.apply(x, _SELU_ALPHA, _SELU_SCALE), input, inplace)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(lambda x: Celu.apply(x, float(alpha)), input, inplace)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return _maybe_inplace(lambda x: LeakyRelu.apply(x, float(negative_slope)), input, inplace)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


@autocast_op
def prelu(input, weight):
    """Leaky ReLU with a learnable slope per channel (dim 1), or one shared slope."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.dim() >= 2 else input.shape[0] if input.dim() == 1 else 1
        if weight.numel() != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{weight.numel()} and channel size = {channels}."
            )
        if input.dim() >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.dim() - 2))
    from .selection import where

    # selects, not products with a 0/1 mask: inf * 0 would give nan in the value and in weight's gradient
    positive = input > 0
    return where(positive, input, weight * where(positive, 0.0, input))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: a slope drawn from U(lower, upper) per element in training, else their mean."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ..random import _gen, uniform_array

    arr = input._data
    slope = uniform_array(_gen(None, input.device), arr.shape, arr.dtype) * (upper - lower) + lower
    xp = xp_of(arr)
    factor = Tensor._make(xp.where(arr >= 0, xp.ones((), arr.dtype), slope).astype(arr.dtype))
    return _maybe_inplace(lambda x: x * factor, input, inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def glu(input, dim=-1):
    """``a * sigmoid(b)`` where ``a`` and ``b`` are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {wrap_dim(dim, input.dim())} is size {size}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi: the standard normal CDF), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish)."""
    return _maybe_inplace(Silu.apply, input, inplace)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(Mish.apply, input, inplace)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _maybe_inplace(Hardswish.apply, input, inplace)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _maybe_inplace(Hardsigmoid.apply, input, inplace)


@autocast_op
def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold``."""
    return Softplus.apply(input, float(beta), float(threshold))


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    return LogSigmoid.apply(input)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    if isinstance(input, Tensor) and input._data.dtype.kind in "iu":  # integer tensors keep their dtype
        arr = input._data
        res = xp_of(arr).where(arr > threshold, arr, arr.dtype.type(int(value) % 256 if arr.dtype.kind == "u" else int(value)))
        return _int_result(input, res.astype(arr.dtype), inplace)
    return _maybe_inplace(lambda x: Threshold.apply(x, float(threshold), float(value)), input, inplace)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, True)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return Hardshrink.apply(input, float(lambd))


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink.apply(input, float(lambd))


__all__ = [
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
    "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "glu", "gelu", "silu", "mish", "hardswish",
    "hardsigmoid", "softplus", "logsigmoid", "softsign", "tanhshrink", "threshold", "threshold_",
    "hardshrink", "softshrink", "softmax", "softmin", "log_softmax", "gumbel_softmax", "sigmoid", "tanh",
]
