"""Autocast: PyTorch's per-op precision policy, decided from one table and applied in one wrapper.

Op entry points (``linear``, ``conv2d``, ``cross_entropy``, ...) carry ``@autocast_op``. Outside an
autocast region the wrapper only calls the op. Inside one, ``POLICY[device_type][op name]`` says how the
op's floating-point tensor arguments (not float64, on that device type) are cast first:
``"lower"`` to the region's dtype, ``"fp32"`` to float32, ``"promote"`` to the widest of them. The op then
runs with autocast suspended, so the ops it is built from are not cast again (as PyTorch's dispatcher
excludes the autocast key below a cast op). Casts are differentiable: gradients reach each tensor in its
own dtype. Ops not in the table run on whatever dtypes they get.
"""

from __future__ import annotations

import functools

from .. import dtypes
from ..tensor import Tensor

_LOWER = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "bmm", "mm",
          "baddbmm", "addmm", "addbmm", "linear", "matmul", "prelu", "scaled_dot_product_attention")
_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "kl_div",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "margin_ranking_loss", "soft_margin_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "poisson_nll_loss", "triplet_margin_loss",
           "multi_margin_loss", "multilabel_margin_loss", "ctc_loss")

# PyTorch 2.x's lists (aten/src/ATen/autocast_mode.cpp), restricted to the ops ember has.
POLICY = {
    "cpu": {
        **{name: "lower" for name in _LOWER},
        **{name: "fp32" for name in _LOSSES + ("prod", "cdist", "trace", "grid_sampler")},
        **{name: "promote" for name in ("cat", "stack")},
    },
    "cuda": {
        **{name: "lower" for name in _LOWER + ("mv", "addmv")},
        **{name: "fp32" for name in _LOSSES + ("prod", "cdist", "softmax", "log_softmax", "layer_norm", "group_norm",
                                               "sum", "cumsum", "softplus", "pow", "exp", "log")},
        **{name: "promote" for name in ("cat", "stack", "dot", "grid_sampler")},
    },
}


class _State:
    __slots__ = ("active", "enabled", "dtype", "cache_enabled", "depth", "cache")

    def __init__(self):
        self.active = False  # any device's autocast on (and not suspended inside a cast op)
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
        self.cache_enabled = True
        self.depth = 0
        self.cache = {}


STATE = _State()


def _refresh():
    STATE.active = STATE.enabled["cpu"] or STATE.enabled["cuda"]


def _eligible(t, device_type):
    return (isinstance(t, Tensor) and t.device.type == device_type and t.dtype.is_floating_point
            and t.dtype is not dtypes.float64)


def _cast(t, dt):
    if t.dtype is dt:
        return t
    if not (STATE.cache_enabled and t.grad_fn is None and t.requires_grad):
        return t.to(dt)
    key = (id(t), dt)  # a weight used many times in a region is cast once (the entry keeps t alive)
    hit = STATE.cache.get(key)
    if hit is None or hit[0] is not t:
        hit = STATE.cache[key] = (t, t.to(dt))
    return hit[1]


def _device_type(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return a.device.type
        if type(a) in (list, tuple):
            for t in a:
                if isinstance(t, Tensor):
                    return t.device.type
    return None


def _run(name, fn, args, kwargs):
    dev = _device_type(args, kwargs)
    policy = POLICY[dev].get(name) if dev in POLICY and STATE.enabled[dev] else None
    if policy is None:
        return fn(*args, **kwargs)
    items = [a for x in (*args, *kwargs.values()) for a in (x if type(x) in (list, tuple) else (x,))]
    elig = [a for a in items if _eligible(a, dev)]
    if policy == "lower":
        dt = STATE.dtype[dev]
    elif policy == "fp32":
        dt = dtypes.float32
    else:
        dt = functools.reduce(dtypes.promote_types, (a.dtype for a in elig)) if elig else None

    def cast(x):
        if type(x) in (list, tuple):
            return type(x)(cast(a) for a in x)
        return _cast(x, dt) if dt is not None and _eligible(x, dev) else x

    args = tuple(cast(a) for a in args)
    kwargs = {k: cast(v) for k, v in kwargs.items()}
    STATE.active = False
    try:
        return fn(*args, **kwargs)
    finally:
        _refresh()


def autocast_op(fn):
    """Mark an op entry point; its autocast behaviour comes from ``POLICY`` under its name."""
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not STATE.active:
            return fn(*args, **kwargs)
        return _run(name, fn, args, kwargs)

    return wrapper
