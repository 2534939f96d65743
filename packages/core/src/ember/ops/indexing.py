"""Indexing: ``t[...]``, ``t[...] = v``, gather/scatter, index_select, masked_fill, nonzero, ...

Basic indexing (ints, slices, None, Ellipsis) returns a view. Gradients of advanced indexing
accumulate repeated indices with one ``bincount`` over flat positions (no Python loop, no
``add.at``).
"""

from __future__ import annotations

from .. import _fast, backend, dtypes
from .._errors import IndexOutOfRange
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import apply_inplace, bind, check_scalar_fits, checks_values, inplace_source, wrap_dim, xp_of


def _convert_index(idx, xp):
    """Tensors to arrays, lists to arrays; PyTorch's errors for unsupported keys."""
    if isinstance(idx, Tensor):
        a = idx._data
        if a.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if a.ndim == 0 and a.dtype.kind in "iu":  # PyTorch indexes with a 0-dim integer tensor as with an int
            return int(a)
        return a
    if isinstance(idx, range):
        return xp.asarray(idx, dtype="int64")
    if hasattr(idx, "dtype") and hasattr(idx, "shape"):  # an array (internal callers)
        return idx
    if isinstance(idx, slice):
        if idx.step is not None and int(idx.step) <= 0:
            raise ValueError("step must be greater than zero")
        return idx
    if isinstance(idx, (list, tuple)) and not isinstance(idx, str):
        return xp.asarray([_scalar_of(v) for v in idx]) if idx and not isinstance(idx[0], (list, tuple, slice)) else xp.asarray(idx)
    if isinstance(idx, bool):
        return idx
    if idx is None or idx is Ellipsis or isinstance(idx, int):
        return idx
    if hasattr(idx, "__index__"):
        return int(idx.__index__())
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got "
        f"{type(idx).__name__})"
    )


def _scalar_of(v):
    return v.item() if isinstance(v, Tensor) else v


def _normalize_key(key, xp):
    if type(key) is _TwoStep:
        return key
    if isinstance(key, tuple):
        return _split_ints(tuple(_convert_index(k, xp) for k in key))
    if isinstance(key, list) and key and any(isinstance(k, (slice, Tensor, list)) or k is None or k is Ellipsis for k in key):
        return _split_ints(tuple(_convert_index(k, xp) for k in key))  # legacy: a list of index objects
    return _convert_index(key, xp)


class _TwoStep:
    """A key that mixes integers with advanced (array) indices. PyTorch applies the integers first, as
    basic indexing (``x[0, :, [1, 2]]`` on (3, 4, 5, 6) is (4, 2, 6)); NumPy would count them as advanced
    indices (giving (2, 4, 6)). So index with ``first`` (the integers; a view) and then with ``then``."""

    __slots__ = ("first", "then")

    def __init__(self, first, then):
        self.first, self.then = first, then

    def get(self, arr):
        return arr[self.first][self.then]

    def set(self, arr, value):
        arr[self.first][self.then] = value


def _is_int(k) -> bool:
    return isinstance(k, int) and not isinstance(k, bool)


def _is_array(k) -> bool:
    return hasattr(k, "dtype") and hasattr(k, "shape")


def _split_ints(key: tuple):
    if not any(_is_int(k) for k in key) or not any(_is_array(k) for k in key):
        return key
    first, then = [], []
    for k in key:
        if _is_int(k):
            first.append(k)
        elif k is None:
            then.append(k)
        elif k is Ellipsis:
            first.append(k)
            then.append(k)
        elif _is_array(k) and k.dtype == bool:
            first.extend([slice(None)] * max(k.ndim, 1) if k.ndim else [])
            then.append(k)
        else:
            first.append(slice(None))
            then.append(k)
    return _TwoStep(tuple(first), tuple(then))


def _get(arr, key):
    return key.get(arr) if type(key) is _TwoStep else arr[key]


def _set(arr, key, value):
    if type(key) is _TwoStep:
        key.set(arr, value)
    else:
        arr[key] = value


def _is_basic(key) -> bool:
    if type(key) is _TwoStep:
        return False
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) and not isinstance(k, bool) for k in keys)


def _check_bounds(arr, key):
    """IndexError with PyTorch's wording for an out-of-range integer index."""
    keys = key if isinstance(key, tuple) else (key,)
    dim = 0
    for i, k in enumerate(keys):
        if k is None:
            continue
        if k is Ellipsis:  # the keys after it index the last dimensions
            dim = arr.ndim - sum(_dims_used(kk) for kk in keys[i + 1:])
            continue
        if isinstance(k, int) and not isinstance(k, bool):
            if dim >= arr.ndim:
                raise IndexError(f"too many indices for tensor of dimension {arr.ndim}")
            size = arr.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
        dim += _dims_used(k)


def _dims_used(k) -> int:
    if k is None or k is Ellipsis:
        return 0
    if _is_array(k) and k.dtype == bool:
        return k.ndim
    return 1


def scatter_add_flat(xp, shape, positions, values, dtype):
    """zeros(shape) with ``values`` added at flat ``positions`` (repeats accumulate), via bincount."""
    size = 1
    for s in shape:
        size *= s
    vals = values.reshape(-1)
    if vals.dtype.kind == "c":
        real = xp.bincount(positions.reshape(-1), weights=vals.real, minlength=size)
        imag = xp.bincount(positions.reshape(-1), weights=vals.imag, minlength=size)
        return (real + 1j * imag).astype(dtype).reshape(shape)
    return xp.bincount(positions.reshape(-1), weights=vals, minlength=size).astype(dtype).reshape(shape)


class Index(Primitive):
    @staticmethod
    def forward(ctx, a, key):
        arr = a._data
        ctx.shape, ctx.key, ctx.dtype = arr.shape, key, arr.dtype
        return _get(arr, key)

    @staticmethod
    def backward(ctx, grad):
        return IndexBackward.apply(grad, ctx.shape, ctx.key), None


class IndexBackward(Primitive):
    """Scatter a gradient back into zeros of the indexed tensor's shape (its own backward is Index)."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        garr = g._data
        xp = xp_of(garr)
        if _is_basic(key):
            out = xp.zeros(shape, dtype=garr.dtype)
            out[key] = garr
            return out
        positions = _get(xp.arange(_numel(shape)).reshape(shape), key)
        return scatter_add_flat(xp, shape, positions, garr, garr.dtype)

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.key), None, None


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def getitem(self, key):
    """``self[key]`` with PyTorch's (NumPy-style) indexing; basic indexing returns a view."""
    from .shape import make_view

    xp = xp_of(self._data)
    key = _normalize_key(key, xp)
    if _is_basic(key):
        _check_bounds(self._data, key)
        return make_view(Index.apply(self, key), self)
    if type(key) is _TwoStep:
        _check_bounds(self._data, key.first)
    try:
        return Index.apply(self, key)
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None


class IndexPut(Primitive):
    """``out = self.clone(); out[key] = value`` (value broadcast to the indexed shape)."""

    @staticmethod
    def forward(ctx, a, value, key):
        arr = a._data.copy()
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(v, type(arr)) and v.dtype != arr.dtype:
            v = v.astype(arr.dtype)
        _set(arr, key, v)
        ctx.key = key
        ctx.value_shape = value._data.shape if isinstance(value, Tensor) else None
        return arr

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad._data)
        g_self = None
        if ctx.needs_input_grad[0]:
            mask = xp.ones(grad._data.shape, dtype=grad._data.dtype)
            _set(mask, ctx.key, 0)
            g_self = grad * Tensor._make(mask)
        g_value = None
        if ctx.needs_input_grad[1]:
            g_value = getitem(grad, ctx.key)
        return g_self, g_value, None


def setitem(self, key, value):
    """``self[key] = value``: in place, recorded by autograd (gradient flows to ``value`` and the rest of self)."""
    xp = xp_of(self._data)
    key = _normalize_key(key, xp)
    if _is_basic(key):
        _check_bounds(self._data, key)
    elif type(key) is _TwoStep:
        _check_bounds(self._data, key.first)
    if isinstance(value, Tensor) and value.device != self.device:
        if value._data.ndim == 0:
            value = value.to(self.device)
        else:
            raise RuntimeError(f"expected device {self.device} but got device {value.device}")
    src = inplace_source(self)
    needs_graph = src is not self or (isinstance(value, Tensor) and value._requires_grad)
    if not needs_graph:
        v = value._data if isinstance(value, Tensor) else value
        _set(self._data, key, v)
        self._version_counter.value += 1
        return
    result = IndexPut.apply(src, value, key)
    apply_inplace(self, result)


def _leading(arr, shape, dim=None):
    """``arr`` cut to ``shape`` in every dimension but ``dim`` (an index may be smaller than the input)."""
    if arr.shape == tuple(shape):
        return arr
    return arr[tuple(slice(None) if i == dim else slice(0, n) for i, n in enumerate(shape))]


class Gather(Primitive):
    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape, ctx.dim, ctx.index = a._data.shape, dim, index
        arr, idx = a._data, index._data
        if arr.ndim == 0:
            return arr.reshape(1)[idx.reshape(1)].reshape(())
        return xp_of(arr).take_along_axis(_leading(arr, idx.shape, dim), idx, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return scatter_add(grad.new_zeros(ctx.shape), ctx.dim, ctx.index, grad), None, None


class _EmbedLeading(Primitive):
    """``grad`` written into the leading corner of zeros of ``shape`` (the gradient of a src that is
    larger than the index it is read at)."""

    @staticmethod
    def forward(ctx, g, shape):
        arr = g._data
        out = xp_of(arr).zeros(shape, dtype=arr.dtype)
        out[tuple(slice(0, n) for n in arr.shape)] = arr
        ctx.g_shape = arr.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        return Tensor._make(_leading(grad._data, ctx.g_shape)) if not grad._requires_grad else grad[tuple(slice(0, n) for n in ctx.g_shape)], None


def _src_grad(grad, dim, index, src_shape):
    g = gather(grad, dim, index)
    return g if tuple(g._data.shape) == tuple(src_shape) else _EmbedLeading.apply(g, tuple(src_shape))


def _check_gather_scatter(name, input, dim, index, src=None):
    """PyTorch's shape and bound checks for gather/scatter: an index no larger than ``input`` outside
    ``dim`` (and than ``src`` everywhere), values in ``[0, input.size(dim))``."""
    _check_index(index, name)
    shape, ishape = input._data.shape, index._data.shape
    if len(ishape) != len(shape) and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    d = wrap_dim(dim, len(shape))
    sshape = src._data.shape if isinstance(src, Tensor) else None
    if sshape is not None and len(sshape) != len(ishape) and index._data.ndim > 1:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if len(ishape) == len(shape):
        for i, (n, m) in enumerate(zip(ishape, shape)):
            if i != d and n > m:
                if sshape is None:
                    raise RuntimeError(
                        f"Size does not match at dimension {i} expected index {list(ishape)} to be no larger than "
                        f"self {list(shape)} apart from dimension {d}"
                    )
                raise RuntimeError(
                    f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from dimension {d} "
                    f"and to be no larger size than src {list(sshape)}"
                )
    if sshape is not None and len(sshape) == len(ishape) and any(n > m for n, m in zip(ishape, sshape)):
        raise RuntimeError(
            f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from dimension {d} "
            f"and to be no larger size than src {list(sshape)}"
        )
    size = shape[d] if shape else 1
    if index._data.size and checks_values(xp_of(index._data)):
        lo, hi = int(index._data.min()), int(index._data.max())
        if lo < 0 or hi >= size:
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {d} with size {size}")
    return d


def _check_index(index, name):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


def _along_positions(shape, dim, index_arr, xp):
    """Flat positions in an array of ``shape`` of the elements ``index`` addresses along ``dim``."""
    if index_arr.ndim == 0:
        return index_arr.reshape(1)
    grids = xp.indices(index_arr.shape, sparse=True)
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    pos = 0
    for i, g in enumerate(grids):
        pos = pos + (index_arr if i == dim else g) * strides[i]
    return pos


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` (for dim=0), etc."""
    d = _check_gather_scatter("gather", input, dim, index)
    return Gather.apply(input, d, index)


class ScatterAdd(Primitive):
    @staticmethod
    def forward(ctx, a, dim, index, src):
        arr = a._data
        xp = xp_of(arr)
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src._data.shape
        s = _leading(src._data, index._data.shape)
        pos = _along_positions(arr.shape, dim, index._data, xp)
        return arr + scatter_add_flat(xp, arr.shape, pos, s.astype(arr.dtype, copy=False), arr.dtype)

    @staticmethod
    def backward(ctx, grad):
        g_src = _src_grad(grad, ctx.dim, ctx.index, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return grad, None, None, g_src


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    d = _check_gather_scatter("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, d, index, src)


class Scatter(Primitive):
    @staticmethod
    def forward(ctx, a, dim, index, src, reduce):
        arr = a._data.copy()
        xp = xp_of(arr)
        ctx.dim, ctx.index = dim, index
        ctx.src_shape = src._data.shape if isinstance(src, Tensor) else None
        idx = index._data
        if isinstance(src, Tensor):
            vals = _leading(src._data, idx.shape).astype(arr.dtype, copy=False)
        else:
            vals = xp.full(idx.shape, src, dtype=arr.dtype)
        if reduce is None:
            arr.reshape(-1)[_along_positions(arr.shape, dim, idx, xp).reshape(-1)] = vals.reshape(-1)
        elif reduce == "add":
            arr += scatter_add_flat(xp, arr.shape, _along_positions(arr.shape, dim, idx, xp), vals, arr.dtype)
        elif reduce == "multiply":
            pos = _along_positions(arr.shape, dim, idx, xp).reshape(-1)
            flat = arr.reshape(-1)
            xp.multiply.at(flat, pos, vals.reshape(-1))
        else:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return arr

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad._data)
        mask = xp.ones(grad._data.shape, dtype=grad._data.dtype)
        mask.reshape(-1)[_along_positions(mask.shape, ctx.dim, ctx.index._data, xp).reshape(-1)] = 0
        need_src = len(ctx.needs_input_grad) > 3 and ctx.needs_input_grad[3]
        g_src = _src_grad(grad, ctx.dim, ctx.index, ctx.src_shape) if need_src else None
        return grad * Tensor._make(mask), None, None, g_src, None


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``."""
    source = src if src is not None else value
    d = _check_gather_scatter("scatter", input, dim, index, source)
    if source is None:
        raise TypeError("scatter() missing 'src' or 'value'")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    return Scatter.apply(input, d, index, source, reduce)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` with sum/prod/mean/amax/amin."""
    xp = xp_of(input._data)
    d = _check_gather_scatter("scatter_reduce", input, dim, index, src)
    if reduce == "sum":
        base = input if include_self else scatter(input, d, index, value=0.0)
        return scatter_add(base, d, index, src)
    if reduce == "mean":
        base = input if include_self else scatter(input, d, index, value=0.0)
        total = scatter_add(base, d, index, src)
        ones = Tensor._make(xp.ones(index._data.shape, dtype=input._data.dtype))
        count = scatter_add(Tensor._make(xp.full(input._data.shape, 1.0 if include_self else 0.0, dtype=input._data.dtype)), d, index, ones)
        count = Tensor._make(xp.maximum(count._data, 1))
        return total / count if input.is_floating_point() else (total // count)
    if reduce not in ("prod", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    return ScatterReduce.apply(input, d, index, src, reduce, include_self)


class ScatterReduce(Primitive):
    """prod/amax/amin of ``src`` reduced into ``input`` at ``index`` along ``dim``, with PyTorch's gradients
    (its scatter_reduce_backward): amax/amin share the gradient evenly among the elements equal to the result
    (``input``'s counted even when ``include_self=False``), and a prod's single zero factor gets the product of
    the others."""

    save_output = True

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce, include_self):
        arr = a._data.copy()
        xp = xp_of(arr)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(a, src)
            ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        pos = _along_positions(arr.shape, dim, index._data, xp).reshape(-1)
        vals = _leading(src._data, index._data.shape).reshape(-1).astype(arr.dtype)
        flat = arr.reshape(-1)
        if not include_self:
            kind = arr.dtype.kind
            if reduce == "prod":
                init = 1
            elif kind == "f":
                init = -xp.inf if reduce == "amax" else xp.inf
            elif kind == "b":
                init = reduce == "amin"
            else:
                init = xp.iinfo(arr.dtype).min if reduce == "amax" else xp.iinfo(arr.dtype).max
            flat[pos] = init
        {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce].at(flat, pos, vals)
        return arr

    @staticmethod
    def backward(ctx, grad):
        from .selection import where

        a, src = ctx.saved_tensors
        result, d, index, reduce, include_self = ctx.saved_output, ctx.dim, ctx.index, ctx.reduce, ctx.include_self
        s = src[tuple(slice(0, n) for n in index._data.shape)] if src._data.shape != index._data.shape else src
        if reduce == "prod":
            masked_self = a.masked_fill(a == 0, 1)
            grad_self = grad * ScatterReduce.apply(masked_self, d, index, s, reduce, include_self) / masked_self
            s_zero = s == 0
            n_zeros = gather(scatter_add(a.new_zeros(a.shape), d, index, s_zero.to(a.dtype)), d, index)
            single = s_zero & (n_zeros == 1)
            masked_src_result = ScatterReduce.apply(a, d, index, s.masked_fill(single, 1), reduce, include_self)
            grad_src = where(single, gather(grad * masked_src_result, d, index),
                             gather(grad * result, d, index) / s.masked_fill(s_zero, 1))
        else:
            self_is = (a == result).to(a.dtype)
            src_is = (s == gather(result, d, index)).to(a.dtype)
            shared = grad / scatter_add(self_is, d, index, src_is)
            grad_self = self_is * shared
            grad_src = src_is * gather(shared, d, index)
        if not include_self:
            grad_self = scatter(grad_self, d, index, value=0)
        if tuple(grad_src.shape) != tuple(src._data.shape):
            grad_src = _EmbedLeading.apply(grad_src, tuple(src._data.shape))
        return grad_self, None, None, grad_src, None, None


def index_select(input, dim, index, *, out=None):
    """The slices at ``index`` (1-D int64) along ``dim``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    if index._data.size and checks_values(xp_of(index._data)) and (int(index._data.max()) >= size
                                                                   or int(index._data.min()) < 0):
        raise IndexOutOfRange("index out of range in self")
    return Index.apply(input, (slice(None),) * d + (index._data.reshape(-1),))


def expanded_index(index, dim, shape):
    """The 1-D ``index`` laid along ``dim`` and repeated over the other dims of ``shape``: the index tensor
    that scatter/scatter_add/scatter_reduce take for the index_* ops."""
    view = [1] * len(shape)
    view[dim] = -1
    return Tensor._make(xp_of(index._data).broadcast_to(index._data.reshape(view), shape).copy())


def _check_index_add(input, d, index, source):
    """PyTorch's index_add checks, in its order and words."""
    from .unary import scalar_type_name

    if not isinstance(index, Tensor):
        raise TypeError(f"index_add(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add(): argument 'source' (position 4) must be Tensor, not {type(source).__name__}")
    idx, a, src = index._data, input._data, source._data
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{scalar_type_name(idx.dtype)} and size: {list(idx.shape)}")
    if str(idx.dtype) not in ("int64", "int32"):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {scalar_type_name(idx.dtype)}")
    if a.dtype != src.dtype:
        raise RuntimeError(f"index_add_(): self ({scalar_type_name(a.dtype)}) and source ({scalar_type_name(src.dtype)}) "
                           "must have the same scalar type")
    if d != 0 and d >= src.ndim:
        raise RuntimeError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor with dim {src.ndim}")
    along = src.shape[d] if src.ndim else 1
    if idx.size != along:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): ({along}), "
                           f"for dim: {d}")
    self_rest, src_rest = list(a.shape), list(src.shape)
    if a.ndim and src.ndim:
        del self_rest[d], src_rest[d]
    if self_rest != src_rest:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. Got "
                           f"self.shape = {list(a.shape)} source.shape = {list(src.shape)}")
    size = a.shape[d] if a.ndim else 1
    if idx.size and checks_values(xp_of(idx)):
        bad = (idx < 0) | (idx >= size)
        if bool(bad.any()):
            first = int(idx.reshape(-1)[int(bad.reshape(-1).argmax())])
            raise RuntimeError(f"index {first} is out of bounds for dimension {d} with size {size}")


def _dim_first(arr, d):
    """A view of ``arr`` (0-d: as one element) with dimension ``d`` moved first."""
    return xp_of(arr).moveaxis(arr.reshape(1) if arr.ndim == 0 else arr, d, 0)


def _rows_first(arr, d, rows):
    """``arr`` with ``d`` moved first, as (rows, rest) (a copy when that is not a view)."""
    moved = _dim_first(arr, d)
    rest = 1
    for n in moved.shape[1:]:
        rest *= n
    return moved.reshape(rows, rest)


class IndexAdd(Primitive):
    """``a`` with the slices of ``src`` along ``dim`` added at ``idx`` (a 1-D integer array; repeats accumulate)."""

    @staticmethod
    def forward(ctx, a, dim, idx, src):
        arr = a._data
        xp = xp_of(arr)
        ctx.dim, ctx.idx, ctx.src_shape = dim, idx, src._data.shape
        out = arr.copy()
        n = arr.shape[dim] if arr.ndim else 1
        values = _rows_first(src._data, dim, idx.shape[0])
        target = _dim_first(out, dim)  # a view of out
        if xp.__name__ != "numpy":
            backend.cupyx_module().scatter_add(target, idx, values.reshape((idx.shape[0],) + target.shape[1:]))
            return out
        idx = idx.astype("int64", copy=False)
        if dim == 0 and _fast.usable(values, out):  # in index order, as PyTorch adds
            _fast.kernels().rows_add(idx, xp.ascontiguousarray(values), out.reshape(n, -1))
        else:
            from .embedding import _rows_sum

            target += _rows_sum(xp, idx, xp.ascontiguousarray(values), n).reshape(target.shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        g_src = None
        if ctx.needs_input_grad[3]:
            g = grad if grad.dim() else grad.reshape(1)
            g_src = Index.apply(g, (slice(None),) * ctx.dim + (ctx.idx,)).reshape(ctx.src_shape)
        return grad, None, None, g_src


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats accumulate)."""
    d = wrap_dim(dim, max(input._data.ndim, 1))
    _check_index_add(input, d, index, source)
    src = source * alpha if alpha != 1 else source
    return IndexAdd.apply(input, d, index._data.reshape(-1), src)


def index_copy(input, dim, index, source):
    d = wrap_dim(dim, input._data.ndim)
    return scatter(input, d, expanded_index(index, d, source._data.shape), source)


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (index._data.reshape(-1),)
    return IndexPut.apply(input, value, key)


class MaskedFill(Primitive):
    @staticmethod
    def forward(ctx, a, mask, value):
        xp = xp_of(a._data)
        m = mask._data
        v = value._data.astype(a._data.dtype) if isinstance(value, Tensor) else value
        ctx.mask = m
        return xp.where(m, v, a._data).astype(a._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        keep = Tensor._make(~ctx.mask)
        g_value = None
        if ctx.needs_input_grad[2]:
            g_value = (grad * Tensor._make(ctx.mask)).sum()
        return grad * keep, None, g_value


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` (bool, broadcastable) is True."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {getattr(mask, 'dtype', type(mask))}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)."
        )
    if not isinstance(value, Tensor):
        check_scalar_fits(value, input._data.dtype)
    return MaskedFill.apply(input, mask, value)


def masked_select(input, mask):
    """The elements where ``mask`` is True, as a 1-D tensor."""
    from .broadcast import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    return getitem(x, m._data)


def masked_scatter(input, mask, source):
    """``input`` (broadcast with ``mask``) with the leading elements of ``source`` written, in order, where
    ``mask`` is True."""
    from .broadcast import broadcast_tensors
    from .shape import reshape

    if mask.dtype is not dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {_dtype_name(mask)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_dtype_name(input)} and {_dtype_name(source)}")
    x, m = broadcast_tensors(input, mask)
    n = int(m._data.sum())
    if n > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    vals = reshape(source, (-1,))[:n]
    return IndexPut.apply(x, vals, m._data)


def take(input, index):
    """Elements of the flattened ``input`` at ``index``."""
    from .shape import reshape

    return getitem(reshape(input, (-1,)), index)


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting between ``input`` and ``indices`` (flattened when ``dim`` is None)."""
    from .broadcast import broadcast_shapes, broadcast_to
    from .shape import reshape

    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if indices.dtype is not dtypes.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_dtype_name(indices)}")
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if indices._data.size:
        if size == 0:
            raise RuntimeError("ZeroDivisionError")
        # PyTorch 2.13 reduces the indices modulo the size (Python's sign convention): -1 is the last, size the first
        indices = Tensor._make(xp_of(indices._data).mod(indices._data, size))
    shape_in, shape_idx = list(input._data.shape), list(indices._data.shape)
    shape_in[d] = shape_idx[d] = 1
    b = list(broadcast_shapes(shape_in, shape_idx))
    target_in, target_idx = list(b), list(b)
    target_in[d], target_idx[d] = input._data.shape[d], indices._data.shape[d]
    return gather(broadcast_to(input, target_in), d, broadcast_to(indices, target_idx))


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of non-zero elements: (N, ndim) int64, or a tuple of 1-D index tensors."""
    xp = xp_of(input._data)
    if input._data.ndim == 0 and not as_tuple:  # one row per non-zero element, no columns
        return Tensor._make(xp.zeros((int(bool(input._data)), 0), dtype="int64"))
    idx = xp.nonzero(input._data if input._data.ndim else input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype("int64")) for i in idx)
    if not idx:
        return Tensor._make(xp.zeros((0, 0), dtype="int64"))
    return Tensor._make(xp.stack(idx, axis=1).astype("int64"))


def argwhere(input):
    return nonzero(input)


def _inplace_from(fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, fn(inplace_source(self), *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return method


def _accumulate_at(input, pos, values):
    """``input`` with ``values`` (broadcast to ``pos``'s shape) added at the flat positions ``pos``; repeated
    positions accumulate. Differentiable in both: ``input``'s gradient passes through, ``values`` reads it at
    ``pos`` (PyTorch's index_put/put with accumulate=True)."""
    from .broadcast import expand
    from .shape import reshape

    xp = xp_of(input._data)
    vals = reshape(expand(values, pos.shape), (-1,))
    base = Tensor._make(xp.zeros(input._data.size, dtype=input._data.dtype))
    added = scatter_add(base, 0, Tensor._make(pos.reshape(-1).astype("int64")), vals)
    return input + reshape(added, input._data.shape)


def _dtype_name(t):
    from .unary import scalar_type_name

    return scalar_type_name(t._data.dtype)


def put_(self, index, source, accumulate=False):
    """Write ``source`` at the flat positions ``index`` of ``self`` (negative ones count from the end); with
    ``accumulate`` repeated positions add up."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_dtype_name(index)}")
    if source._data.dtype != self._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtype_name(self)} and source.dtype = {_dtype_name(source)}")
    if source._data.size != index._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    xp = xp_of(self._data)
    n = self._data.size
    flat = index._data.reshape(-1)
    bad = (flat < -n) | (flat >= n)
    if flat.size and checks_values(xp) and bool(bad.any()):
        first = int(flat[int(xp.argmax(bad))])
        raise IndexError(f"out of range: tried to access index {first} on a tensor of {n} elements.")
    if not flat.size:
        return self
    pos = flat % n
    from .shape import reshape

    src = inplace_source(self)
    if accumulate:
        return apply_inplace(self, _accumulate_at(src, pos, reshape(source, (-1,))))

    written = IndexPut.apply(reshape(src, (-1,)), reshape(source, (-1,)), pos)
    return apply_inplace(self, reshape(written, self._data.shape))


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (added there with ``accumulate``)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 3) must be Tensor, not {type(values).__name__}")
    if values._data.dtype != input._data.dtype:
        one_mask = len(indices) == 1 and isinstance(indices[0], Tensor) and indices[0]._data.dtype.kind == "b"
        if accumulate or not one_mask or values._data.size != 1:  # (PyTorch's masked_fill path casts)
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_dtype_name(input)} for the destination and {_dtype_name(values)} for the source.")
        values = values.to(input.dtype)
    xp = xp_of(input._data)
    key = _normalize_key(tuple(indices), xp)
    try:
        flat = xp.arange(input._data.size).reshape(input._data.shape)
        pos = key.get(flat) if type(key) is _TwoStep else flat[key]
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None
    try:
        xp.broadcast_shapes(values._data.shape, pos.shape)
        fits = xp.broadcast_shapes(values._data.shape, pos.shape) == pos.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._data.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(pos.shape)}")
    if accumulate:
        return _accumulate_at(input, pos, values)
    return IndexPut.apply(input, values, key)


bind(
    __getitem__=getitem, __setitem__=setitem, gather=gather, scatter=scatter, scatter_add=scatter_add,
    scatter_reduce=scatter_reduce, index_select=index_select, index_add=index_add, index_copy=index_copy,
    index_fill=index_fill, masked_fill=masked_fill, masked_select=masked_select, masked_scatter=masked_scatter,
    take=take, take_along_dim=take_along_dim, nonzero=nonzero, argwhere=argwhere, index_put=index_put,
    masked_fill_=_inplace_from(masked_fill), scatter_=_inplace_from(scatter), scatter_add_=_inplace_from(scatter_add),
    index_add_=_inplace_from(index_add), index_copy_=_inplace_from(index_copy), index_fill_=_inplace_from(index_fill),
    index_put_=_inplace_from(index_put), masked_scatter_=_inplace_from(masked_scatter), put_=put_,
    scatter_reduce_=_inplace_from(scatter_reduce),
)

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_copy", "index_fill",
    "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere", "index_put",
]
