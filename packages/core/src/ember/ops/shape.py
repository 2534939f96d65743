"""Shape ops that return views where PyTorch does: view, reshape (more are added here by family)."""

from __future__ import annotations

from .. import _fast
from ..autograd.function import Primitive
from ._common import bind, xp_of


def make_view(result, base):
    """Mark ``result`` as a view of ``base``: it shares ``base``'s version counter (in-place ops on
    either are seen by autograd's saved-tensor checks of the other)."""
    if result._data is base._data or xp_of(base._data).may_share_memory(result._data, base._data):
        result._version_counter = base._version_counter
        result._base = base._base if base._base is not None else base
    return result


def infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; PyTorch's errors for a bad shape."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


class Reshape(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a._data.shape
        return a._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


class View(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        arr = a._data
        ctx.in_shape = arr.shape
        out = arr.reshape(shape)
        if out.size and not xp_of(arr).may_share_memory(out, arr):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


def reshape(input, *shape):
    """``input`` with a new shape; a view when possible, otherwise a copy."""
    shape = infer_shape(_shape_arg(shape), input._data.size)
    if shape == input._data.shape and not input._requires_grad:
        return _alias(input)
    return make_view(Reshape.apply(input, shape), input)


def view(input, *shape):
    """A view of ``input`` with a new shape; RuntimeError if the strides don't allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        from .. import dtypes

        dt = dtypes.to_dtype(shape[0])
        return make_view(input._make(input._data.view(dt.np)), input)
    shape = infer_shape(_shape_arg(shape), input._data.size)
    return make_view(View.apply(input, shape), input)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def _alias(t):
    """A new tensor object viewing the same data (differentiable when ``t`` requires grad)."""
    if t._requires_grad:
        return make_view(View.apply(t, t._data.shape), t)
    return make_view(t._make(t._data), t)


class Permute(Primitive):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a._data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return permute(grad, inverse)


def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return dims


def permute(input, *dims):
    """A view with the dimensions reordered."""
    dims = _dims_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(int(d), n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return make_view(Permute.apply(input, dims), input)


def transpose(input, dim0, dim1):
    """A view with ``dim0`` and ``dim1`` swapped."""
    n = input._data.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return _alias(input)
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return make_view(Permute.apply(input, tuple(dims)), input)


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor with at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else _alias(input)


def _T(self):
    n = self._data.ndim
    return permute(self, tuple(range(n - 1, -1, -1))) if n > 1 else _alias(self)


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(self, -2, -1)


def squeeze(input, dim=None):
    """Remove size-1 dimensions (all, or those in ``dim``)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, len(shape))
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return reshape(input, new) if new != shape else _alias(input)


def unsqueeze(input, dim):
    """Insert a size-1 dimension at ``dim``."""
    n = input._data.ndim + 1
    d = wrap_dim(dim, n)
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return reshape(input, shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible)."""
    shape = input._data.shape
    if len(shape) == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for x in shape[s : e + 1]:
        n *= x
    return reshape(input, shape[:s] + (n,) + shape[e + 1 :])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = infer_shape(tuple(sizes), shape[d])
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1 :])


def ravel(input):
    return reshape(input, (-1,))


class Contiguous(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = xp_of(a._data)
        return _fast.contiguous(a._data) if xp.__name__ == "numpy" else xp.ascontiguousarray(a._data)

    @staticmethod
    def backward(ctx, grad):
        return grad


def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


class Flip(Primitive):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return xp_of(a._data).flip(a._data, axis=dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims)


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = normalize_dims(dims if isinstance(dims, (tuple, list)) else (dims,), input._data.ndim)
    return Flip.apply(input, dims)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Primitive):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return xp_of(a._data).roll(a._data, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(grad, neg, ctx.dims)


def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` (the flattened tensor when ``dims`` is None)."""
    if input._data.size == 0:  # PyTorch returns an empty input as it is, before checking dims
        return input.clone()
    if dims is None:
        return reshape(Roll.apply(flatten(input), shifts, None), input._data.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else shifts
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else dims
    return Roll.apply(input, shifts, dims)


class Repeat(Primitive):
    @staticmethod
    def forward(ctx, a, reps):
        arr = a._data
        lead = len(reps) - arr.ndim
        ctx.in_shape, ctx.reps = arr.shape, reps
        return xp_of(arr).tile(arr.reshape((1,) * lead + arr.shape), reps)

    @staticmethod
    def backward(ctx, grad):
        reps, in_shape = ctx.reps, ctx.in_shape
        lead = len(reps) - len(in_shape)
        full_in = (1,) * lead + tuple(in_shape)
        split = []
        for r, s in zip(reps, full_in):
            split += [r, s]
        g = reshape(grad, split).sum(dim=tuple(range(0, 2 * len(reps), 2)))
        return reshape(g, in_shape)


def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along each dimension (PyTorch's repeat, not numpy's)."""
    sizes = tuple(int(s) for s in _shape_arg(sizes))
    if len(sizes) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    return Repeat.apply(input, sizes)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (along ``dim``, or of the flattened tensor)."""
    from .indexing import index_select
    from ..tensor import Tensor

    if dim is None:
        input = flatten(input)
        dim = 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    xp = xp_of(input._data)
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    index = xp.repeat(xp.arange(n), reps)
    return index_select(input, d, Tensor._make(index))


def movedim(input, source, destination):
    n = input._data.ndim
    src = [wrap_dim(s, n) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [wrap_dim(s, n) for s in (destination if isinstance(destination, (tuple, list)) else [destination])]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number of dims as destination ({dst} dims)")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def narrow(input, dim, start, length):
    """A view of ``length`` elements of ``dim`` from ``start``."""
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return input[idx]


def select(input, dim, index):
    """The slice at ``index`` of ``dim`` (that dimension removed); a view."""
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at dimension {d}")
    return input[(slice(None),) * d + (int(index),)]


class Unfold(Primitive):
    @staticmethod
    def forward(ctx, a, dim, size, step):
        arr = a._data
        xp = xp_of(arr)
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = arr.shape, dim, size, step
        n = (arr.shape[dim] - size) // step + 1
        shape = arr.shape[:dim] + (n,) + arr.shape[dim + 1 :] + (size,)
        strides = arr.strides[:dim] + (arr.strides[dim] * step,) + arr.strides[dim + 1 :] + (arr.strides[dim],)
        return xp.lib.stride_tricks.as_strided(arr, shape, strides)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad._data)
        g = grad._data
        out = xp.zeros(ctx.in_shape, dtype=g.dtype)
        dim, size, step = ctx.dim, ctx.size, ctx.step
        n = g.shape[dim]
        for k in range(size):  # one strided add per window offset, not per element
            idx = (slice(None),) * dim + (slice(k, k + step * (n - 1) + 1, step),)
            out[idx] += xp.moveaxis(g[..., k], dim, dim)
        return _wrap_array(out)


def _wrap_array(arr):
    from ..tensor import Tensor

    return Tensor._make(arr)


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: all slices of ``size`` along ``dimension``, ``step`` apart, as a new last dim."""
    d = wrap_dim(dimension, max(input._data.ndim, 1))
    if input._data.ndim == 0:
        return reshape(input, (1,))
    if size > input._data.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {input._data.shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return make_view(Unfold.apply(input, d, int(size), int(step)), input)


def atleast_1d(*tensors):
    res = [t if t._data.ndim >= 1 else reshape(t, (1,)) for t in _tensors_arg(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*tensors):
    res = [t if t._data.ndim >= 2 else reshape(t, (1,) * (2 - t._data.ndim) + t._data.shape) for t in _tensors_arg(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*tensors):
    def up(t):
        n = t._data.ndim
        if n >= 3:
            return t
        if n == 0:
            return reshape(t, (1, 1, 1))
        if n == 1:
            return reshape(t, (1, t._data.shape[0], 1))
        return unsqueeze(t, -1)

    res = [up(t) for t in _tensors_arg(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def _tensors_arg(tensors):
    return tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors


# -- new_* factories: same dtype and device as self ---------------------------------------------------
def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        from .. import creation

        return getattr(creation, fn)(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    method.__name__ = "new_" + fn
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs):
    from .. import creation

    return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kwargs):
    from .. import creation

    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


from ._common import alias_globals, normalize_dims, wrap_dim  # noqa: E402

alias_globals(globals(), ["squeeze", "unsqueeze", "narrow", "select"])

bind(
    reshape=reshape, view=view, view_as=view_as, reshape_as=reshape_as, permute=permute, transpose=transpose,
    swapaxes=transpose, swapdims=transpose, t=t, squeeze=squeeze, unsqueeze=unsqueeze, flatten=flatten,
    unflatten=unflatten, ravel=ravel, contiguous=contiguous, flip=flip, fliplr=fliplr, flipud=flipud, roll=roll,
    repeat=repeat, tile=tile, repeat_interleave=repeat_interleave, movedim=movedim, moveaxis=movedim,
    narrow=narrow, select=select, unfold=unfold,
    new_zeros=_new("zeros"), new_ones=_new("ones"), new_empty=_new("empty"), new_full=_new_full, new_tensor=_new_tensor,
    T=property(_T), mT=property(_mT), H=property(_T), mH=property(_mT),
    squeeze_=lambda self, dim=None: _reshape_(self, squeeze(self, dim)),
    unsqueeze_=lambda self, dim: _reshape_(self, unsqueeze(self, dim)),
    t_=lambda self: _reshape_(self, t(self)), transpose_=lambda self, a, b: _reshape_(self, transpose(self, a, b)),
)


def _reshape_(self, result):
    """In-place shape change (squeeze_, t_, ...): self now views the same data with a new shape."""
    from ._common import check_inplace

    check_inplace(self)
    self._data = result._data
    if result.grad_fn is not None:
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
    self._version_counter.value += 1
    return self


__all__ = [
    "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze", "flatten", "unflatten",
    "ravel", "flip", "fliplr", "flipud", "roll", "tile", "repeat_interleave", "movedim", "moveaxis", "narrow",
    "select", "atleast_1d", "atleast_2d", "atleast_3d",
]
