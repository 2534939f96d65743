"""The differential suite's table: each public op with a generator of its arguments (see gen.py).

``fn`` is the call as written for PyTorch: ``"add"`` is ``torch.add``, ``"nn.functional.relu"`` is
``F.relu``, ``".cumsum"`` the method on the first argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from gen import ALL, FLOATS, INTS, T

NUM = FLOATS + INTS  # no bool
_NO_INF = (0.0, -0.0, np.nan, 1.0)
SIGNED = FLOATS + ("int64", "int32", "int16", "int8")


@dataclass
class Op:
    name: str
    fn: str
    gen: Callable
    grad: bool = True
    tol: float = 1.0  # multiplies the value tolerances (ill-conditioned float32 inputs by design)
    post: Callable | None = None  # post(lib, out): what is compared (e.g. a reconstruction from factors)
    values: bool = True  # False: exceptions, structure, shapes and dtypes only (random ops)


def unary(dtypes=ALL, lo=-3.0, hi=3.0, kw=None, **shape_kw):
    def g(d):
        kwargs = kw(d) if callable(kw) else dict(kw or {})
        return [d.tensor(dtypes=dtypes, lo=lo, hi=hi, **shape_kw)], kwargs

    return g


def binary(dtypes=ALL, scalar=0.2, kw=None, dtypes_b=None, lo=-3.0, hi=3.0, scalar_kinds=("int", "float", "bool")):
    def g(d):
        a = d.tensor(dtypes=dtypes, lo=lo, hi=hi)
        kwargs = kw(d) if callable(kw) else dict(kw or {})
        if d.p(scalar):
            return [a, d.scalar(scalar_kinds)], kwargs
        tb = dtypes_b or dtypes
        dt = a.dtype if d.p(0.6) and a.dtype in tb else d.dtype(tb)
        b = T(d.values(d.partner_shape(a.shape), dt, lo, hi), dt, d.grad_mode and dt == "float64")
        if d.p(0.5):
            a, b = b, a
            if not isinstance(a, T):
                a, b = b, a
        return [a, b], kwargs

    return g


def ternary(dtypes=FLOATS, kw=None):
    def g(d):
        a = d.tensor(dtypes=dtypes)
        b = T(d.values(d.partner_shape(a.shape), a.dtype), a.dtype, a.grad)
        c = T(d.values(d.partner_shape(a.shape), a.dtype), a.dtype, a.grad)
        return [a, b, c], (kw(d) if callable(kw) else dict(kw or {}))

    return g


def with_dim(dtypes=ALL, keepdim=True, optional=True, extra=None, min_rank=0, lo=-3.0, hi=3.0, distinct=False, special=True):
    """x, dim (sometimes omitted or out of range), keepdim."""

    def g(d):
        x = d.tensor(dtypes=dtypes, min_rank=min_rank, lo=lo, hi=hi, distinct=distinct, special=special)
        kwargs = {}
        if not optional or d.p(0.8):
            kwargs["dim"] = d.dim(x.ndim)
            if keepdim and d.p(0.5):
                kwargs["keepdim"] = d.p(0.5)
        if extra:
            kwargs.update(extra(d, x))
        return [x], kwargs

    return g


def dims_tuple(dtypes=ALL):
    def g(d):
        x = d.tensor(dtypes=dtypes)
        n = max(x.ndim, 1)
        dims = sorted({d.int(-n, n - 1) for _ in range(d.int(1, n))})
        kwargs = {"dim": tuple(dims)}
        if d.p(0.5):
            kwargs["keepdim"] = d.p(0.5)
        return [x], kwargs

    return g


def _opt_dtype(choices):
    def extra(d, x):
        return {"dtype": "dtype:" + d.choice(choices)} if d.p(0.3) else {}

    return extra


def _k(d, x):
    dim = d.dim(x.ndim, 0.03)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    return {"k": d.int(0, size + (1 if d.p(0.05) else 0)) if size else 0, "dim": dim}


def _kth(d, x):
    dim = d.dim(x.ndim, 0.03)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    return {"k": d.int(1, max(size, 1)), "dim": dim}


def _correction(d, x):
    return {"correction": d.choice((0, 1, 2))} if d.p(0.5) else {}


def cat_like(stack=False):
    def g(d):
        base = d.shape()
        n = d.int(1, 3)
        dt0 = d.dtype(ALL)
        items = []
        for _ in range(n):
            shape = list(base)
            if not stack and shape and d.p(0.5):
                shape[-1 if d.p(0.5) else 0] = d.int(0, 3)
            if not stack and d.p(0.1):
                shape = [0]
            dt = dt0 if d.p(0.7) else d.dtype(ALL)
            items.append(T(d.values(tuple(shape), dt), dt, d.grad_mode and dt == "float64"))
        kwargs = {"dim": d.dim(len(base) + (1 if stack else 0))} if d.p(0.7) else {}
        return [items], kwargs

    return g


def gather_like(kind):
    def g(d):
        x = d.tensor(dtypes=FLOATS if kind != "index_select" else ALL, min_rank=1 if kind == "index_select" else 0)
        dim = d.dim(x.ndim, 0.03)
        size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
        if kind == "index_select":
            idx = d.index((d.int(0, 3),) if x.ndim or d.p(0.5) else (), size)
            return [x, dim, idx], {}
        ishape = tuple(d.int(0, s) if i != dim % max(x.ndim, 1) else d.int(0, 3) for i, s in enumerate(x.shape))
        size = size or 1
        idx = d.index(ishape, size)
        if kind == "gather":
            return [x, dim, idx], {}
        src = T(d.values(tuple(s + d.int(0, 1) for s in ishape), x.dtype), x.dtype, x.grad)
        return [x, dim, idx, src], {}

    return g


def matmul_like(kind):
    def g(d):
        n, k, m, b = d.int(0, 3), d.int(0, 3), d.int(0, 3), d.int(0, 2)
        k2 = k if d.p(0.93) else k + 1
        dt = d.dtype(("float32", "float64", "int64"))
        shapes = {
            "mm": ((n, k), (k2, m)),
            "bmm": ((b, n, k), (b, k2, m)),
            "dot": ((k,), (k2,)),
            "mv": ((n, k), (k2,)),
            "outer": ((n,), (m,)),
            "matmul": (d.choice([(k,), (n, k), (b, n, k), (2, b, n, k)]), d.choice([(k2,), (k2, m), (b, k2, m), (1, b, k2, m)])),
        }[kind]
        return [T(d.values(s, dt), dt, d.grad_mode) for s in shapes], {}

    return g


def where_gen(d):
    x = d.tensor(dtypes=ALL)
    cond = T(d.values(d.partner_shape(x.shape), "bool"), "bool")
    other = d.scalar() if d.p(0.2) else T(d.values(d.partner_shape(x.shape), x.dtype), x.dtype, x.grad)
    return [cond, x, other], {}


def masked_fill_gen(d):
    x = d.tensor(dtypes=ALL)
    mask = T(d.values(d.partner_shape(x.shape), "bool"), "bool")
    value = d.scalar(("float", "int")) if d.p(0.8) else T(d.values((), x.dtype), x.dtype, x.grad)
    return [x, mask, value], {}


def einsum_gen(d):
    eq, shapes = d.choice(
        [
            ("ij,jk->ik", ((2, 3), (3, 1))),
            ("ii->i", ((3, 3),)),
            ("ii", ((2, 2),)),
            ("...ij,...jk->...ik", ((2, 1, 3), (3, 2))),
            ("i...->...", ((2, 3, 1),)),
            ("bij,bjk->bik", ((2, 0, 3), (2, 3, 2))),
            ("i,i->", ((3,), (3,))),
            ("ij->ji", ((2, 3),)),
            ("ij,ij->ij", ((2, 3), (2, 3))),
        ]
    )
    dt = d.dtype(("float32", "float64"))
    return [eq] + [T(d.values(s, dt), dt, d.grad_mode) for s in shapes], {}


def chunk_gen(d):
    x = d.tensor()
    dim = d.dim(x.ndim, 0.03)
    return [x, d.int(1, 4)], {"dim": dim}


def split_gen(d):
    x = d.tensor(min_rank=1)
    dim = d.dim(x.ndim, 0.03)
    return [x, d.int(1, 3)], {"dim": dim}


def reshape_gen(d):
    x = d.tensor()
    n = x.arr.size
    cands = [(n,), (-1,), (1, n), (n, 1, -1) if n else (0, 1)]
    if x.ndim:
        cands.append(tuple(reversed(x.shape)))
    if d.p(0.05):
        cands.append((n + 1,))
    return [x, d.choice(cands)], {}


def expand_gen(d):
    x = d.tensor(max_rank=3)
    shape = [s if s != 1 else d.int(0, 3) for s in x.shape]
    if d.p(0.3):
        shape = [2] + shape
    if d.p(0.1) and shape:
        shape = shape[1:]
    return [x, tuple(shape)], {}


def repeat_gen(d):
    x = d.tensor(max_rank=3)
    reps = [d.int(0, 2) for _ in range(x.ndim + d.int(0, 1))]
    if d.p(0.1) and reps:
        reps = reps[1:]
    return [x, tuple(reps)], {}


def permute_gen(d):
    x = d.tensor()
    perm = tuple(int(i) for i in d.rng.permutation(x.ndim))
    return [x, perm], {}


def diag_gen(d):
    x = d.tensor(max_rank=2)
    return [x], ({"diagonal": d.int(-2, 2)} if d.p(0.6) else {})


def tri_gen(d):
    x = d.tensor(max_rank=3)
    return [x], ({"diagonal": d.int(-2, 2)} if d.p(0.6) else {})


def loss_gen(kind):
    def g(d):
        n, c = d.int(0, 3), d.int(1, 4)
        dt = d.dtype(("float32", "float64"))
        x = T(d.values((n, c) if d.p(0.8) or n == 0 else (c,), dt, special=False), dt, d.grad_mode)
        target_shape = x.shape[:-1] if x.ndim == 2 else ()
        ignore = -100
        tgt = d.rng.integers(0, c, size=target_shape).astype("int64")
        kwargs = {}
        if d.p(0.3):
            ignore = int(tgt.reshape(-1)[0]) if tgt.size else 0
            kwargs["ignore_index"] = ignore
        if d.p(0.2) and tgt.size:
            tgt[...] = ignore if "ignore_index" in kwargs else tgt
        if d.p(0.4):
            kwargs["reduction"] = d.choice(("mean", "sum", "none"))
        if kind == "nll_loss":
            x = T(x.arr, dt, x.grad)
        return [x, T(tgt, "int64")], kwargs

    return g


def norm_gen(d):
    n, c, L = d.int(1, 3), d.int(1, 3), d.int(2, 4)
    dt = d.dtype(("float32", "float64"))
    base = d.rng.uniform(-1, 1, size=(n, c, L))
    x = 5.0 + base * (1e-3 if d.p(0.5) else 1.0)
    return [T(x.astype(dt), dt, d.grad_mode)], {}


def cosine_gen(d):
    x = d.tensor(dtypes=("float32", "float64"), min_rank=1, min_size=1, special=False)
    y = T(d.values(d.partner_shape(x.shape, 0.0), x.dtype, special=False), x.dtype, x.grad)
    ndim = max(x.ndim, y.ndim)
    return [x, y], {"dim": d.dim(ndim, 0.0)}


def linear_gen(d):
    n, i, o = d.int(0, 3), d.int(0, 3), d.int(0, 3)
    dt = d.dtype(("float32", "float64"))
    args = [T(d.values((n, i), dt), dt, d.grad_mode), T(d.values((o, i), dt), dt, d.grad_mode)]
    if d.p(0.5):
        args.append(T(d.values((o,), dt), dt, d.grad_mode))
    return args, {}


def embedding_gen(d):
    num, dim = d.int(1, 4), d.int(0, 3)
    dt = d.dtype(("float32", "float64"))
    idx = d.index(d.shape(max_rank=2), num)
    idx.arr = abs(idx.arr)
    return [idx, T(d.values((num, dim), dt), dt, d.grad_mode)], {}


def pow_gen(d):
    if d.p(0.15):
        x = d.tensor(dtypes=FLOATS)
        return [d.scalar(("int", "float")), x], {}
    return binary(NUM, scalar=0.3)(d)


def scalar_pow(d):
    x = d.tensor(dtypes=NUM)
    return [x, d.choice([2, 0.5, 0, 3, -1, 2.0])], {}


def threshold_gen(d):
    x = d.tensor(dtypes=NUM)
    return [x, d.choice([0.5, 1, 0]), d.choice([0.0, -1, 2])], {}


def nonzero_gen(d):
    return [d.tensor()], {}


def narrow_gen(d):
    x = d.tensor(min_rank=1)
    dim = d.dim(x.ndim, 0.03)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    start = d.int(0, size)
    return [x, dim, start, d.int(0, size - start + (1 if d.p(0.05) else 0))], {}


def select_gen(d):
    x = d.tensor(min_rank=1)
    dim = d.dim(x.ndim, 0.03)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    return [x, dim, d.int(-size, size - 1) if size else 0], {}


def movedim_gen(d):
    x = d.tensor(min_rank=1)
    return [x, d.dim(x.ndim, 0.03), d.dim(x.ndim, 0.03)], {}


def take_gen(d):
    x = d.tensor()
    n = x.arr.size
    return [x, d.index(d.shape(max_rank=2), n)], {}


def masked_select_gen(d):
    x = d.tensor()
    return [x, T(d.values(d.partner_shape(x.shape), "bool"), "bool")], {}


def index_update_gen(kind):
    def g(d):
        x = d.tensor(dtypes=FLOATS, min_rank=1)
        dim = d.dim(x.ndim, 0.03)
        size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
        k = d.int(0, 3)
        idx = T((d.rng.permutation(max(size, 1))[: min(k, size)] if kind != "index_add" else d.rng.integers(0, max(size, 1), size=k if size else 0)).astype("int64"), "int64")
        if kind == "index_fill":
            return [x, dim, idx, d.scalar(("float",))], {}
        shape = list(x.shape)
        if -x.ndim <= dim < x.ndim:
            shape[dim] = idx.arr.size
        src = T(d.values(tuple(shape), x.dtype), x.dtype, x.grad)
        return [x, dim, idx, src], {}

    return g


def addmm_gen(d):
    n, k, m = d.int(0, 3), d.int(0, 3), d.int(0, 3)
    dt = d.dtype(("float32", "float64"))
    inp = T(d.values(d.partner_shape((n, m), 0.02), dt), dt, d.grad_mode)
    kw = {"beta": d.choice([1, 0.5, 0]), "alpha": d.choice([1, 2.0])} if d.p(0.4) else {}
    return [inp, T(d.values((n, k), dt), dt, d.grad_mode), T(d.values((k, m), dt), dt, d.grad_mode)], kw


def cross_gen(d):
    shape = d.shape(max_rank=2) + (3,)
    dt = d.dtype(("float32", "float64"))
    return [T(d.values(shape, dt), dt, d.grad_mode), T(d.values(d.partner_shape(shape, 0.0), dt), dt, d.grad_mode)], {"dim": -1}


def inner_gen(d):
    x = d.tensor(dtypes=("float32", "float64"), max_rank=3)
    k = x.shape[-1] if x.ndim else 1
    y = T(d.values(d.shape(max_rank=2) + ((k,) if x.ndim else ()), x.dtype), x.dtype, x.grad)
    return [x, y], {}


def bce_gen(with_logits):
    def g(d):
        x = d.tensor(dtypes=("float32", "float64"), lo=-3.0 if with_logits else 0.01, hi=3.0 if with_logits else 0.99, special=False)
        t = T(d.values(x.shape, x.dtype, 0.0, 1.0, special=False), x.dtype, x.grad)
        kw = {"reduction": d.choice(("mean", "sum", "none"))} if d.p(0.5) else {}
        return [x, t], kw

    return g


def pad_gen(d):
    x = d.tensor(min_rank=1, max_rank=3)
    pad = tuple(d.int(-1, 2) if d.p(0.2) else d.int(0, 2) for _ in range(2 * d.int(1, x.ndim)))
    return [x, pad], ({"value": d.scalar(("float", "int"))} if d.p(0.3) else {})


def one_hot_gen(d):
    n = d.int(1, 4)
    idx = d.index(d.shape(max_rank=3), n)
    idx.arr = abs(idx.arr)
    return [idx], ({"num_classes": d.choice([-1, n, n + 1])} if d.p(0.6) else {})


def glu_gen(d):
    x = d.tensor(dtypes=FLOATS, min_rank=1)
    return [x], {"dim": d.dim(x.ndim, 0.02)}


def layer_norm_gen(d):
    x = d.tensor(dtypes=("float32", "float64"), min_rank=1, special=False)
    k = d.int(1, x.ndim)
    shape = x.shape[-k:]
    args = [x, shape]
    kw = {}
    if d.p(0.5):
        kw["weight"] = T(d.values(shape, x.dtype, special=False), x.dtype, x.grad)
        kw["bias"] = T(d.values(shape, x.dtype, special=False), x.dtype, x.grad)
    return args, kw


def group_norm_gen(d):
    n, g, per, L = d.int(1, 3), d.int(1, 2), d.int(1, 2), d.int(1, 3)
    dt = d.dtype(("float32", "float64"))
    x = T(d.values((n, g * per, L), dt, special=False), dt, d.grad_mode)
    return [x, g], {}


def pdist_gen(d):
    dt = d.dtype(("float32", "float64"))
    # (PyTorch 2.13 crashes on pdist of 0 or 1 rows or 0 columns with a gradient: kept out)
    return [T(d.values((d.int(2, 4), d.int(1, 3)), dt, special=False), dt, d.grad_mode)], {}


def pairwise_gen(d):
    dt = d.dtype(("float32", "float64"))
    shape = (d.int(1, 3), d.int(1, 3))
    return [T(d.values(shape, dt, special=False), dt, d.grad_mode), T(d.values(d.partner_shape(shape, 0.0), dt, special=False), dt, d.grad_mode)], {}


def kl_gen(d):
    x = d.tensor(dtypes=("float32", "float64"), special=False)
    t = T(d.values(x.shape, x.dtype, 0.0, 1.0, special=False), x.dtype, x.grad)
    return [x, t], {"reduction": d.choice(("mean", "sum", "none", "batchmean"))}


def unflatten_gen(d):
    x = d.tensor(min_rank=1)
    dim = d.dim(x.ndim, 0.02)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    return [x, dim, d.choice([(size,), (1, size), (-1, 1)] if size else [(0,), (0, 1)])], {}


def tensor_split_gen(d):
    x = d.tensor(min_rank=1)
    return [x, d.int(1, 3)], {"dim": d.dim(x.ndim, 0.02)}


def repeat_interleave_gen(d):
    x = d.tensor(max_rank=3)
    kw = {"dim": d.dim(x.ndim, 0.02)} if d.p(0.6) else {}
    return [x, d.int(0, 3)], kw


F = "nn.functional."

OPS = [
    # ---- unary elementwise ----
    *[Op(n, n, unary(NUM)) for n in ("abs", "neg", "exp", "sin", "cos", "tanh", "sigmoid", "expm1", "atan", "sinh", "asinh", "erf", "erfc", "square", "sign", "exp2", "deg2rad", "rad2deg", "positive")],
    *[Op(n, n, unary(NUM, lo=0.0, hi=4.0)) for n in ("log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "lgamma", "digamma", "acosh")],
    *[Op(n, n, unary(NUM, lo=-1.0, hi=1.0)) for n in ("asin", "acos", "atanh", "erfinv")],
    # logit's gradient at -0.0 is -inf * grad in PyTorch's vectorised loop and +inf * grad in its scalar tail
    # (ember: the vectorised formula): -0.0 is left out
    Op("logit", "logit", unary(NUM, lo=-1.0, hi=1.0, special=(0.0, np.inf, -np.inf, np.nan, 1.0))),
    *[Op(n, n, unary(NUM)) for n in ("floor", "ceil", "round", "trunc", "frac", "cosh", "tan", "sgn")],
    *[Op(n, n, unary(ALL), grad=False) for n in ("isnan", "isinf", "isfinite", "signbit", "logical_not", "isposinf", "isneginf")],
    Op("bitwise_not", "bitwise_not", unary(INTS + ("bool",)), grad=False),
    Op("nan_to_num", "nan_to_num", unary(FLOATS)),
    Op("clamp", "clamp", unary(NUM, kw=lambda d: {"min": d.choice([None, -1, 0.5])} | ({"max": d.choice([1, 2.5])} if d.p(0.7) else {}))),
    # ---- activations ----
    # PyTorch's vectorised float32/float16 GELU gives nan at +inf (its 0-d path and float64 give inf, as
    # ember does): +inf is left out of GELU's inputs
    Op("F.gelu", F + "gelu", unary(FLOATS, special=(0.0, -0.0, -np.inf, np.nan, 1.0), kw=lambda d: {"approximate": d.choice(("none", "tanh"))} if d.p(0.4) else {})),
    *[Op("F." + n, F + n, unary(FLOATS)) for n in ("relu", "relu6", "elu", "selu", "celu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "leaky_relu", "softsign", "tanhshrink", "softplus", "logsigmoid", "hardshrink", "softshrink", "sigmoid", "tanh")],
    *[Op("F." + n + "[int]", F + n, unary(INTS)) for n in ("relu", "relu6", "hardtanh")],
    Op("F.threshold", F + "threshold", threshold_gen),
    Op("F.softmax", F + "softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("F.log_softmax", F + "log_softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("F.softmin", F + "softmin", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("softmax", "softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    # ---- binary elementwise ----
    *[Op(n, n, binary(ALL)) for n in ("add", "mul", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")],
    Op("sub", "sub", binary(ALL)),
    Op("div", "div", binary(NUM)),
    Op("div_floor", "div", binary(NUM, kw={"rounding_mode": "floor"}), grad=False),
    Op("div_trunc", "div", binary(NUM, kw={"rounding_mode": "trunc"}), grad=False),
    *[Op(n, n, binary(NUM, scalar=0.0)) for n in ("atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmax", "fmin", "xlogy")],
    *[Op(n + "[scalar]", n, binary(FLOATS, scalar=1.0, scalar_kinds=("float",))) for n in ("atan2", "hypot")],
    *[Op(n, n, binary(NUM), grad=False) for n in ("fmod", "remainder", "floor_divide")],
    *[Op(n, n, binary(INTS + ("bool",)), grad=False) for n in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    Op("pow", "pow", pow_gen),
    Op("pow[scalar exp]", "pow", scalar_pow),
    Op("lerp", "lerp", ternary(kw=None)),
    Op("addcmul", "addcmul", ternary(kw=lambda d: {"value": d.choice([1, 0.5])})),
    Op("where", "where", where_gen),
    Op("masked_fill", "masked_fill", masked_fill_gen),
    # ---- reductions ----
    *[Op(n, n, with_dim(ALL)) for n in ("sum", "prod")],
    Op("mean", "mean", with_dim(FLOATS)),
    *[Op(n, n, with_dim(NUM, optional=False)) for n in ("amax", "amin", "logsumexp")],
    *[Op(n, n, with_dim(NUM, keepdim=True, distinct=True)) for n in ("max", "min")],
    # the median of an empty integer tensor is uninitialised memory in PyTorch: floats only without dim
    Op("median", "median", with_dim(FLOATS, keepdim=True, distinct=True)),
    Op("median[int]", "median", with_dim(INTS, keepdim=True, optional=False, distinct=True)),
    *[Op(n, n, with_dim(ALL), grad=False) for n in ("argmax", "argmin", "all", "any", "count_nonzero")],
    *[Op(n, n, with_dim(FLOATS, extra=_correction)) for n in ("std", "var")],
    Op("norm", "norm", with_dim(FLOATS, extra=lambda d, x: {"p": d.choice([2, 1, float("inf")])} if d.p(0.5) else {})),
    Op("sum[dims]", "sum", dims_tuple(ALL)),
    Op("mean[dims]", "mean", dims_tuple(FLOATS)),
    Op("nansum", "nansum", with_dim(FLOATS)),
    Op("nanmean", "nanmean", with_dim(FLOATS)),
    *[Op(n, n, with_dim(ALL, keepdim=False, optional=False, extra=_opt_dtype(("float64", "int64", "float32")))) for n in ("cumsum", "cumprod")],
    Op("kthvalue", "kthvalue", with_dim(NUM, keepdim=True, optional=False, extra=_kth, distinct=True)),
    Op("topk", "topk", with_dim(NUM, keepdim=False, optional=False, extra=_k, distinct=True)),
    Op("sort", "sort", with_dim(NUM, keepdim=False, extra=lambda d, x: {"descending": d.p(0.5)})),
    Op("argsort", "argsort", with_dim(NUM, keepdim=False, extra=lambda d, x: {"descending": d.p(0.5)}), grad=False),
    # ---- shapes ----
    Op("reshape", "reshape", reshape_gen),
    Op("flatten", "flatten", unary(ALL)),
    Op("squeeze", "squeeze", with_dim(ALL, keepdim=False)),
    Op("unsqueeze", "unsqueeze", lambda d: ([x := d.tensor()], {"dim": d.dim(x.ndim + 1)})),
    Op("transpose", "transpose", lambda d: ([x := d.tensor(), d.dim(x.ndim), d.dim(x.ndim)], {})),
    Op("permute", "permute", permute_gen),
    Op("flip", "flip", lambda d: ([x := d.tensor()], {"dims": (d.dim(x.ndim),)})),
    Op("roll", "roll", lambda d: ([x := d.tensor(min_rank=1)], {"shifts": d.int(-3, 3), "dims": d.dim(x.ndim)})),
    Op("t", "t", unary(ALL, max_rank=2)),
    Op("chunk", "chunk", chunk_gen),
    Op("split", "split", split_gen),
    Op("expand", ".expand", expand_gen),
    Op("repeat", ".repeat", repeat_gen),
    Op("tile", "tile", lambda d: ([d.tensor(max_rank=3), tuple(d.int(0, 2) for _ in range(d.int(1, 3)))], {})),
    Op("diag", "diag", diag_gen),
    Op("tril", "tril", tri_gen),
    Op("triu", "triu", tri_gen),
    Op("diagonal", "diagonal", lambda d: ([d.tensor(min_rank=2)], {"offset": d.int(-1, 1)})),
    Op("trace", "trace", unary(NUM, min_rank=2, max_rank=2)),
    Op("cat", "cat", cat_like()),
    Op("stack", "stack", cat_like(stack=True)),
    Op("nonzero", "nonzero", nonzero_gen, grad=False),
    Op("clone", "clone", unary(ALL)),
    # ---- indexing ----
    Op("gather", "gather", gather_like("gather")),
    Op("scatter_add", "scatter_add", gather_like("scatter_add")),
    Op("scatter", "scatter", gather_like("scatter")),
    Op("index_select", "index_select", gather_like("index_select")),
    # ---- linear algebra ----
    *[Op(n, n, matmul_like(n)) for n in ("mm", "bmm", "dot", "mv", "outer", "matmul")],
    Op("einsum", "einsum", einsum_gen),
    # ---- nn.functional ----
    Op("F.linear", F + "linear", linear_gen),
    Op("F.embedding", F + "embedding", embedding_gen),
    Op("F.cross_entropy", F + "cross_entropy", loss_gen("cross_entropy")),
    Op("F.nll_loss", F + "nll_loss", loss_gen("nll_loss")),
    Op("F.instance_norm", F + "instance_norm", norm_gen, tol=10.0),  # float32 spreads of 1e-3 around 5
    Op("F.cosine_similarity", F + "cosine_similarity", cosine_gen),
    *[Op("F." + n, F + n, binary(("float32", "float64"), scalar=0.0)) for n in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")],
    Op("F.normalize", F + "normalize", with_dim(("float32", "float64"), keepdim=False, optional=False)),
    # ---- widened: aliases, views, index updates, products, more of nn.functional ----
    *[Op(n, n, unary(NUM)) for n in ("fix", "negative", "absolute", "arcsinh", "arctan")],
    *[Op(n, n, binary(NUM)) for n in ("true_divide", "multiply", "subtract", "not_equal", "greater_equal", "less")],
    Op("isclose", "isclose", binary(FLOATS, scalar=0.0), grad=False),
    Op("heaviside", "heaviside", binary(FLOATS, scalar=0.0), grad=False),
    # the mean of var_mean/std_mean is a Welford mean in PyTorch: nan (not +-inf) with an inf among finite
    # values, depending on the order: infinities are left out of their inputs
    *[Op(n, n, with_dim(FLOATS, extra=_correction, special=_NO_INF)) for n in ("std_mean", "var_mean")],
    Op("aminmax", "aminmax", lambda d: ([x := d.tensor(dtypes=NUM)], {"dim": d.dim(x.ndim)} if d.p(0.7) else {})),
    Op("narrow", "narrow", narrow_gen),
    Op("select", "select", select_gen),
    Op("movedim", "movedim", movedim_gen),
    Op("unbind", "unbind", lambda d: ([x := d.tensor(min_rank=1)], {"dim": d.dim(x.ndim, 0.02)})),
    Op("ravel", "ravel", unary(ALL)),
    *[Op(n, n, unary(ALL)) for n in ("atleast_1d", "atleast_2d", "atleast_3d")],
    *[Op(n, n, cat_like()) for n in ("hstack", "vstack")],
    Op("fliplr", "fliplr", unary(ALL, min_rank=2)),
    Op("flipud", "flipud", unary(ALL, min_rank=1)),
    Op("unflatten", "unflatten", unflatten_gen),
    Op("tensor_split", "tensor_split", tensor_split_gen),
    Op("repeat_interleave", "repeat_interleave", repeat_interleave_gen),
    Op("take", "take", take_gen),
    Op("masked_select", "masked_select", masked_select_gen),
    Op("index_add", "index_add", index_update_gen("index_add")),
    Op("index_copy", "index_copy", index_update_gen("index_copy")),
    Op("index_fill", "index_fill", index_update_gen("index_fill")),
    Op("addmm", "addmm", addmm_gen),
    Op("cross", "cross", cross_gen),
    Op("inner", "inner", inner_gen),
    Op("diag_embed", "diag_embed", unary(FLOATS, min_rank=1, max_rank=3)),
    Op("F.binary_cross_entropy", F + "binary_cross_entropy", bce_gen(False)),
    Op("F.binary_cross_entropy_with_logits", F + "binary_cross_entropy_with_logits", bce_gen(True)),
    Op("F.kl_div", F + "kl_div", kl_gen),
    Op("F.soft_margin_loss", F + "soft_margin_loss", binary(("float32", "float64"), scalar=0.0)),
    Op("F.pad", F + "pad", pad_gen),
    Op("F.one_hot", F + "one_hot", one_hot_gen, grad=False),
    Op("F.glu", F + "glu", glu_gen),
    Op("F.layer_norm", F + "layer_norm", layer_norm_gen),
    Op("F.group_norm", F + "group_norm", group_norm_gen),
    Op("F.pdist", F + "pdist", pdist_gen),
    Op("F.pairwise_distance", F + "pairwise_distance", pairwise_gen),
    Op("F.logsigmoid[dim]", F + "log_softmax", with_dim(FLOATS, keepdim=False, optional=False, extra=_opt_dtype(("float64",)))),
]
