"""Ember dtypes, their array dtypes, and PyTorch's type-promotion rules."""

from __future__ import annotations

import ml_dtypes
import numpy


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = numpy.dtype(np_dtype)
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = category >= 2 or self.np.kind == "i"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float32": complex64, "float64": complex128}.get(self.name, self)


bool_ = dtype("bool", numpy.bool_, 0)
uint8 = dtype("uint8", numpy.uint8, 1)
int8 = dtype("int8", numpy.int8, 1)
int16 = dtype("int16", numpy.int16, 1)
int32 = dtype("int32", numpy.int32, 1)
int64 = dtype("int64", numpy.int64, 1)
float16 = dtype("float16", numpy.float16, 2)
float32 = dtype("float32", numpy.float32, 2)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2)  # ml_dtypes' NumPy dtype (its ``kind`` is "V")
float64 = dtype("float64", numpy.float64, 2)
complex64 = dtype("complex64", numpy.complex64, 3)
complex128 = dtype("complex128", numpy.complex128, 3)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
BF16_NP = bfloat16.np
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}


def _by_name(name):
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _FROM_NP[numpy.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert array of dtype {np_dtype}; the only supported types are: "
            "float64, float32, float16, bfloat16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        ) from None


def to_dtype(spec) -> dtype:
    """Accept an ember dtype, a numpy dtype, a Python type or a torch dtype name."""
    if isinstance(spec, dtype):
        return spec
    if spec is float:
        return get_default_dtype()
    if spec is int:
        return int64
    if spec is bool:
        return bool_
    if spec is complex:
        return complex64 if get_default_dtype() is float32 else complex128
    if isinstance(spec, str) and spec.startswith("torch."):
        spec = spec[6:]
    if isinstance(spec, str) and spec in _NAMES:
        return _NAMES[spec]
    return from_numpy_dtype(spec)


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of new floating-point tensors (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the dtype that floating-point tensors and Python floats default to."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


# ---- promotion -------------------------------------------------------------------------------------
# promote_types follows PyTorch's lattice: the smallest type that holds both; mixing an unsigned with a
# signed integer type goes to the next signed type (uint8 + int8 -> int16), as in PyTorch.

_promote_cache: dict = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    key = (a, b)
    hit = _promote_cache.get(key)
    if hit is None:
        if bfloat16 in key and a._category <= 2 and b._category <= 2:
            # bfloat16 with another float: the wider float, float32 for float16 (as ml_dtypes and PyTorch)
            other = b if a is bfloat16 else a
            hit = float32 if other is float16 else (other if other._category == 2 else bfloat16)
            _promote_cache[key] = hit
            return hit
        hit = _FROM_NP[numpy.promote_types(a.np, b.np)]
        if a.is_floating_point != b.is_floating_point and not (a.is_complex or b.is_complex):
            # numpy makes int64 + float16 float64 and int16 + float16 float32; PyTorch keeps the
            # floating operand's type whatever the integer
            hit = a if a.is_floating_point else b
        _promote_cache[key] = hit
    return hit


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """PyTorch's combine_categories: a higher-category operand wins unless sizes matter."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._category >= 2 and higher._category >= lower._category:
        return higher
    if higher is bool_ or lower._category > higher._category:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar contributes to promotion."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return complex64 if _default_float is float32 else complex128
    return _default_float


def result_type(*operands) -> dtype:
    """The dtype of an elementwise op on ``operands`` (tensors and Python scalars), as in PyTorch."""
    dim_t = zero_t = wrapped_t = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.ndim == 0:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
            else:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
        else:
            d = scalar_dtype(op)
            wrapped_t = d if wrapped_t is None else promote_types(wrapped_t, d)
    return _combine(dim_t, _combine(zero_t, wrapped_t))


def np_kind(np_dtype) -> str:
    """``np_dtype.kind``, with bfloat16 (kind "V" in ml_dtypes) reported as the float it is."""
    return "f" if np_dtype is BF16_NP else np_dtype.kind


def is_floating(d: dtype) -> bool:
    return d._category >= 2
