"""Argument drawing for the differential suite: tensors of rank 0-4 (0-size dimensions included), every
dtype, broadcasting partners, Python scalars and dims, all from one seeded NumPy generator."""

from __future__ import annotations

import numpy as np

FLOATS = ("float32", "float64", "float16")
INTS = ("int64", "int32", "int16", "int8", "uint8")
ALL = FLOATS + INTS + ("bool",)
SIZES = (0, 1, 2, 3)
SIZE_P = (0.08, 0.27, 0.35, 0.30)
SPECIALS = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.0)


class T:
    """A tensor argument: values, dtype name and requires_grad; ``make(lib)`` builds it in ember or torch."""

    __slots__ = ("arr", "dtype", "grad")

    def __init__(self, arr, dtype, grad=False):
        self.arr, self.dtype, self.grad = arr, dtype, grad

    @property
    def shape(self):
        return self.arr.shape

    @property
    def ndim(self):
        return self.arr.ndim

    def make(self, lib):
        t = lib.tensor(self.arr.copy(), dtype=getattr(lib, self.dtype))
        return t.requires_grad_() if self.grad else t

    def __repr__(self):
        g = ", requires_grad=True" if self.grad else ""
        if self.arr.size == 0:
            return f"torch.empty({list(self.arr.shape)}, dtype=torch.{self.dtype}{g})"
        vals = repr(self.arr.tolist()).replace("nan", "float('nan')").replace("inf", "float('inf')")
        return f"torch.tensor({vals}, dtype=torch.{self.dtype}{g})"


class Draw:
    """The random choices of one call."""

    def __init__(self, rng, float64_grad=True):
        self.rng = rng
        self.grad_mode = float64_grad and rng.random() < 0.5  # half the calls check float64 gradients

    # -- primitives ---------------------------------------------------------------------------------
    def p(self, prob):
        return self.rng.random() < prob

    def choice(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def shape(self, rank=None, min_rank=0, max_rank=4, min_size=0):
        if rank is None:
            rank = self.int(min_rank, max_rank)
        sizes = [s for s in SIZES if s >= min_size]
        probs = np.array([SIZE_P[SIZES.index(s)] for s in sizes])
        return tuple(int(self.rng.choice(sizes, p=probs / probs.sum())) for _ in range(rank))

    def dtype(self, dtypes=ALL):
        if self.grad_mode and any(d in FLOATS for d in dtypes):
            return "float64"
        return self.choice(dtypes)

    def values(self, shape, dtype, lo=-3.0, hi=3.0, special=True, distinct=False):
        r = self.rng
        if distinct and dtype != "bool":  # no ties: which of equal elements an index points to is unspecified
            n = int(np.prod(shape))
            arr = r.permutation(n).reshape(shape) - (0 if dtype == "uint8" else n // 2)
            return arr.astype(dtype) if dtype in INTS else (arr / 4.0).astype(dtype)
        if dtype == "bool":
            return r.random(shape) < 0.5
        if dtype in INTS:
            lo_i = 0 if dtype == "uint8" else int(np.floor(lo))
            return r.integers(lo_i, int(np.ceil(hi)) + 1, size=shape).astype(dtype)
        arr = np.round(r.uniform(lo, hi, size=shape), 2)  # short reproducers
        if special and arr.size and self.p(0.1):
            k = self.int(1, max(1, arr.size // 3))
            idx = r.integers(0, arr.size, size=k)
            pool = SPECIALS if special is True else special  # a tuple narrows the specials drawn
            arr.reshape(-1)[idx] = r.choice(pool, size=k)
        elif arr.size and self.p(0.2):
            arr = np.round(arr)  # ties and exact zeros, where subgradients and sorting differ
        if isinstance(special, tuple) and not any(v == 0 and np.signbit(v) for v in special):
            arr = arr + 0.0  # -0.0 left out with the specials (rounding makes it too)
        return arr.astype(dtype)

    # -- tensors ----------------------------------------------------------------------------------
    def tensor(self, shape=None, dtypes=ALL, lo=-3.0, hi=3.0, special=True, grad=True, distinct=False, **shape_kw):
        shape = self.shape(**shape_kw) if shape is None else tuple(shape)
        dt = self.dtype(dtypes)
        return T(self.values(shape, dt, lo, hi, special, distinct), dt, grad and self.grad_mode and dt == "float64")

    def index(self, shape, high):
        """An int64 index tensor with values in [0, high) (or [-high, high) sometimes)."""
        lo = -high if high and self.p(0.2) else 0
        return T(self.rng.integers(lo, max(high, 1), size=shape).astype("int64") if high else np.zeros(shape, "int64"), "int64")

    def partner_shape(self, shape, mismatch=0.05):
        """A shape that broadcasts with ``shape`` (occasionally one that does not)."""
        out = [s if not self.p(0.3) else 1 for s in shape]
        if out and self.p(0.3):
            out = out[self.int(1, len(out)):]
        if self.p(0.15) and len(out) < 4:
            out = [self.choice((1, 2))] + out
        if out and self.p(mismatch):
            i = self.int(0, len(out) - 1)
            out[i] = out[i] + 2
        if self.p(0.5):
            return tuple(out)
        return tuple(out)

    def scalar(self, kinds=("int", "float", "bool")):
        k = self.choice(kinds)
        if k == "int":
            return self.int(-3, 3)
        if k == "bool":
            return bool(self.p(0.5))
        return float(self.choice([0.5, -1.5, 2.0, 0.0, 3.25, -0.75]))

    def dim(self, ndim, out_of_range=0.05):
        n = max(ndim, 1)
        if self.p(out_of_range):
            return self.choice((n, -n - 1))
        return self.int(-n, n - 1)
