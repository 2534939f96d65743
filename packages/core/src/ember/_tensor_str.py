"""PyTorch-style ``repr`` of tensors: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy

from . import backend, dtypes

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Change how tensors print (same arguments as ``torch.set_printoptions``)."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH
    if profile == "default":
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80
    elif profile == "short":
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 2, 1000, 2, 80
    elif profile == "full":
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, float("inf"), 3, 80
    PRECISION = precision if precision is not None else PRECISION
    THRESHOLD = threshold if threshold is not None else THRESHOLD
    EDGEITEMS = edgeitems if edgeitems is not None else EDGEITEMS
    LINEWIDTH = linewidth if linewidth is not None else LINEWIDTH


class _Formatter:
    """Chooses one format for all elements (integer-valued, fixed or scientific), as PyTorch does."""

    def __init__(self, values: numpy.ndarray):
        self.kind = values.dtype.kind
        self.sci = False
        self.int_mode = True
        self.width = 1
        if self.kind == "b":
            self.width = max((len(str(bool(v))) for v in values.flat), default=1)
            return
        if self.kind in "iu":
            self.width = max((len(str(int(v))) for v in values.flat), default=1)
            return
        finite = values[numpy.isfinite(values)].astype(numpy.float64)
        nonzero = numpy.abs(finite[finite != 0])
        self.int_mode = bool(numpy.all(finite == numpy.ceil(finite)))
        if nonzero.size:
            lo, hi = nonzero.min(), nonzero.max()
            if self.int_mode:
                self.sci = hi / lo > 1000.0 or hi > 1e8
            else:
                self.sci = hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4
        # as in PyTorch, only the nonzero finite values set the width (nan, inf and -0. may stick out)
        self.width = max((len(self._fmt(v)) for v in finite[finite != 0]), default=1)

    def _fmt(self, v) -> str:
        if self.kind == "b":
            return str(bool(v))
        if self.kind in "iu":
            return str(int(v))
        v = float(v)
        if not numpy.isfinite(v):
            return "nan" if numpy.isnan(v) else ("inf" if v > 0 else "-inf")
        if self.sci:
            return f"{v:.{PRECISION}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{PRECISION}f}"

    def format(self, v) -> str:
        return self._fmt(v).rjust(self.width)


class _ComplexFormatter:
    """Real and imaginary parts each get their own format (as in PyTorch): ``1.+2.0000j``."""

    def __init__(self, values: numpy.ndarray):
        self.re, self.im = _Formatter(values.real), _Formatter(values.imag)
        self.width = self.re.width + self.im.width + 2

    def format(self, v) -> str:
        v = complex(v)
        imag = self.im.format(v.imag).lstrip()
        return self.re.format(v.real) + (imag if imag[0] in "+-" else "+" + imag) + "j"


def _summarize(arr):
    """Only the edge items of each dim, for very large tensors."""
    if arr.ndim == 0:
        return arr
    if arr.shape[0] > 2 * EDGEITEMS:
        parts = [arr[:EDGEITEMS], arr[-EDGEITEMS:]]
    else:
        parts = [arr]
    return numpy.concatenate([_summarize_inner(p) for p in parts]) if arr.ndim > 1 else numpy.concatenate(parts)


def _summarize_inner(arr):
    return numpy.stack([_summarize(a) for a in arr]) if len(arr) else arr


def _format_array(arr, fmt, indent, summarize):
    if arr.ndim == 0:
        return fmt.format(arr.item() if arr.dtype.kind != "b" else bool(arr))
    if arr.ndim == 1:
        items = [fmt.format(v) for v in arr]
        if summarize and arr.shape[0] > 2 * EDGEITEMS:
            items = items[:EDGEITEMS] + [" ..."] + items[-EDGEITEMS:]
        per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(arr.shape[0]))
    if summarize and arr.shape[0] > 2 * EDGEITEMS:
        rows = rows[:EDGEITEMS] + [None] + rows[-EDGEITEMS:]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    parts = ["..." if r is None else _format_array(arr[r], fmt, indent + 1, summarize) for r in rows]
    return "[" + sep.join(parts) + "]"


def _default_dtype_for(arr) -> bool:
    kind = arr.dtype.kind
    if kind == "b" or arr.dtype == numpy.int64:
        return True
    if kind == "f":
        return arr.dtype == dtypes.get_default_dtype().np
    if kind == "c":
        return arr.dtype == dtypes.get_default_dtype().to_complex().np
    return False


def tensor_repr(t, prefix="tensor(") -> str:
    if t.device.type == "meta":  # no data to show
        suffixes = ["device='meta'", f"size={tuple(t._data.shape)}"]
        if t._data.dtype != dtypes.get_default_dtype().np:
            suffixes.append(f"dtype={t.dtype}")
        if t._requires_grad:
            suffixes.append("requires_grad=True")
        return prefix + "..." + "".join(", " + s for s in suffixes) + ")"
    arr = backend.to_device(t._data, backend.CPU)
    indent = len(prefix)
    suffixes = []
    summarize = arr.size > THRESHOLD
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
    else:
        shown = _summarize(arr) if summarize else arr
        fmt = _ComplexFormatter(shown) if shown.dtype.kind == "c" else _Formatter(shown)
        body = _format_array(arr, fmt, indent, summarize)
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if not _default_dtype_for(arr) or (arr.size == 0 and arr.dtype.kind != "f"):
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
