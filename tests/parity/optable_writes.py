"""The differential table's index writes with accumulate/reduce and the in-place fills: index_put(_),
index_reduce(_), masked_scatter(_), Tensor.put(_), Tensor.fill_diagonal_, Tensor.copy_, and histogram.

In-place forms run on a clone (a leaf that requires grad refuses in-place writes in both libraries), so their
gradients are compared too. Writes without accumulation draw distinct positions: which of two writes to one
element wins is unspecified in PyTorch.
"""

from __future__ import annotations

import numpy as np

from gen import ALL, T
from optable import NUM, Op

FL = ("float32", "float64")


def _positions(d, size, k, unique):
    if unique:
        return d.rng.permutation(max(size, 1))[: min(k, size)] if size else np.zeros(0, "int64")
    return d.rng.integers(0, size, size=k) if size else np.zeros(0, "int64")


def index_put_gen(d):
    x = d.tensor(dtypes=NUM + ("bool",), min_rank=1, max_rank=3)
    acc = d.p(0.5)
    if d.p(0.25):  # a boolean mask over the leading dims
        lead = d.int(1, x.ndim)
        mask = d.values(x.shape[:lead], "bool")
        indices = (T(mask, "bool"),)
        picked = (int(mask.sum()),) + x.shape[lead:]
    else:
        n_idx = d.int(1, x.ndim)
        k = d.int(0, 3)
        flat = _positions(d, int(np.prod(x.shape[:n_idx])), k, not acc)
        coords = np.unravel_index(flat, x.shape[:n_idx]) if flat.size else [np.zeros(0, "int64")] * n_idx
        neg = d.p(0.2)
        indices = tuple(T((c - (x.shape[i] if neg and x.shape[i] else 0)).astype("int64"), "int64") for i, c in enumerate(coords))
        picked = (flat.size,) + x.shape[n_idx:]
    vshape = picked if d.p(0.7) else picked[d.int(0, len(picked)):]
    dt = x.dtype if d.p(0.9) else d.dtype(NUM)
    values = T(d.values(vshape, dt), dt, x.grad and dt == x.dtype)
    return [x, indices, values], {"accumulate": acc}


def index_reduce_gen(d):
    reduce = d.choice(("prod", "mean", "amax", "amin"))
    # (PyTorch 2.13's CPU float16 prod fails an internal assert on some layouts, e.g. [[1]] at index [0, 0]: kept out)
    x = d.tensor(dtypes=tuple(t for t in NUM if reduce != "prod" or t != "float16"), min_rank=1, max_rank=3)
    dim = d.dim(x.ndim, 0.03)
    size = x.shape[dim] if -x.ndim <= dim < x.ndim else 1
    k = d.int(0, 3)
    idx = T(d.rng.integers(0, max(size, 1), size=k if size else 0).astype("int64"), "int64")
    shape = list(x.shape)
    if -x.ndim <= dim < x.ndim:
        shape[dim] = idx.arr.size
    src = T(d.values(tuple(shape), x.dtype), x.dtype, x.grad)
    return [x, dim, idx, src, reduce], {"include_self": d.p(0.5)}


def masked_scatter_gen(d):
    x = d.tensor(dtypes=ALL)
    mask = T(d.values(d.partner_shape(x.shape), "bool"), "bool")
    n = int(np.broadcast_to(mask.arr, np.broadcast_shapes(mask.shape, x.shape)).sum()) if _broadcasts(mask.shape, x.shape) else 0
    src_n = max(n + d.int(-1 if d.p(0.05) else 0, 2), 0)
    dt = x.dtype if d.p(0.9) else d.dtype(ALL)
    src = T(d.values((src_n,) if d.p(0.6) else (1, src_n), dt), dt, x.grad and dt == x.dtype)
    return [x, mask, src], {}


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def put_gen(d):
    x = d.tensor(dtypes=NUM)
    acc = d.p(0.5)
    n = int(np.prod(x.shape))
    flat = _positions(d, n, d.int(0, 4), not acc)
    if d.p(0.2) and n:
        flat = flat - n  # negative positions count from the end
    idx = T(flat.astype("int64").reshape((-1,) if d.p(0.7) else (1, -1)), "int64")
    src = T(d.values(idx.shape if d.p(0.8) else (flat.size,), x.dtype), x.dtype, x.grad)
    return [x, idx, src], {"accumulate": acc}


def put_call(lib, x, index, source, accumulate=False):
    return x.clone().put_(index, source, accumulate=accumulate)


put_call.__name__ = "clone().put_"
put_call.covers = ("Tensor.put_",)


def histogram_gen(d):
    x = d.tensor(dtypes=FL, max_rank=2, special=(np.nan, np.inf, 0.0, 1.0) if d.p(0.2) else False)
    kw = {}
    if d.p(0.3):
        edges = np.sort(np.round(d.rng.uniform(-3, 3, size=d.int(1, 4)), 1))
        bins = T(edges.astype(x.dtype), x.dtype)
    else:
        bins = d.int(0, 4) if d.p(0.95) else -1
        if d.p(0.4):
            lo = float(d.choice((-2.0, 0.0, 1.0)))
            kw["range"] = (lo, lo + d.choice((0.0, 1.0, 3.0)))
    if d.p(0.3):
        kw["weight"] = T(d.values(x.shape, x.dtype, lo=0.0, hi=2.0, special=False), x.dtype)
    if d.p(0.3):
        kw["density"] = True
    return [x, bins], kw


def fill_diagonal_gen(d):
    if d.p(0.8):
        shape = (d.int(0, 4), d.int(0, 4))
    else:
        n = d.int(1, 3)
        shape = (n,) * d.int(1, 3) if d.p(0.8) else (n, n + 1, n)
    x = d.tensor(shape=shape, dtypes=ALL)
    return [x, d.scalar(("int", "float", "bool"))], {"wrap": d.p(0.5)}


def fill_diagonal_call(lib, x, value, wrap=False):
    return x.clone().fill_diagonal_(value, wrap=wrap)


fill_diagonal_call.__name__ = "clone().fill_diagonal_"
fill_diagonal_call.covers = ("Tensor.fill_diagonal_",)


def copy_gen(d):
    x = d.tensor(dtypes=ALL)
    dt = x.dtype if d.p(0.5) else d.dtype(ALL)
    src = T(d.values(d.partner_shape(x.shape), dt), dt, d.grad_mode and dt == "float64")
    return [x, src], {}


def copy_call(lib, x, src):
    return x.clone().copy_(src)


copy_call.__name__ = "clone().copy_"
copy_call.covers = ("Tensor.copy_",)


def masked_scatter_inplace(lib, x, mask, source):
    return x.clone().masked_scatter_(mask, source)


masked_scatter_inplace.__name__ = "clone().masked_scatter_"


def index_put_inplace(lib, x, indices, values, accumulate=False):
    return x.clone().index_put_(indices, values, accumulate=accumulate)


index_put_inplace.__name__ = "clone().index_put_"


def index_reduce_inplace(lib, x, dim, index, source, reduce, include_self=True):
    return x.clone().index_reduce_(dim, index, source, reduce, include_self=include_self)


index_reduce_inplace.__name__ = "clone().index_reduce_"


OPS_WRITES = [
    Op("index_put", "index_put", index_put_gen),
    Op("index_put_", index_put_inplace, index_put_gen),
    Op("index_reduce", "index_reduce", index_reduce_gen),
    Op("index_reduce_", index_reduce_inplace, index_reduce_gen),
    Op("masked_scatter", "masked_scatter", masked_scatter_gen),
    Op("masked_scatter_", masked_scatter_inplace, masked_scatter_gen),
    Op("put", ".put", put_gen),
    Op("put_", put_call, put_gen),
    Op("histogram", "histogram", histogram_gen, grad=False),
    Op("fill_diagonal_", fill_diagonal_call, fill_diagonal_gen),
    Op("copy_", copy_call, copy_gen),
]
