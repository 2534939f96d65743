"""``nn.Parameter`` and ``nn.Buffer``: tensors that modules register as learnable weights / state."""

from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``Parameter(t)`` shares ``t``'s storage; parameters require grad by default.
    """

    def __new__(cls, data=None, requires_grad=True):
        return object.__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor as data, got {type(data).__name__}")
        Tensor._init(self, data._data, version=data._version_counter)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        from ..tensor import _rebuild

        return (_rebuild_parameter, (_rebuild, Tensor.__reduce_ex__(self, protocol)[1], self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(Tensor._make(self._data.copy()), self._requires_grad)
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out


def _rebuild_parameter(rebuild, args, requires_grad):
    return Parameter(rebuild(*args), requires_grad)


class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a Module attribute (``persistent`` decides whether
    it is saved in the state dict)."""

    def __new__(cls, data=None, *, persistent=True):
        return object.__new__(cls)

    def __init__(self, data=None, *, persistent=True):
        from ..creation import empty

        data = empty(0) if data is None else data
        Tensor._init(self, data._data, version=data._version_counter)
        self.persistent = persistent


_UNINIT_MSG = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are using a `LazyModule` or "
    "explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
    "`forward` with a dummy batch to initialize the parameters before calling torch functions"
)
_SHAPE_MSG = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in `load_state_dict` "
    "when trying to load an uninitialized parameter into an initialized one. Call `forward` to initialize the "
    "parameters before accessing their attributes."
)
# autograd bookkeeping read by modules and optimizers; everything else of Tensor's API is refused
_INTERNAL = frozenset({
    "_requires_grad", "grad", "grad_fn", "_output_nr", "_version_counter", "_base", "_hooks", "_retains_grad",
    "_grad_acc", "requires_grad", "is_leaf", "retains_grad", "persistent", "__class__", "__dict__",
})


def _raw(t):
    return object.__getattribute__(t, "_data")


class UninitializedTensorMixin:
    """A tensor without data yet: only its dtype, device and autograd flags exist until ``materialize``
    gives it a shape (and turns it into ``cls_to_become``); any other use raises ValueError."""

    __slots__ = ()
    cls_to_become = None

    def __getattribute__(self, name):
        if name in _INTERNAL or name in _MIXIN_NAMES:
            return object.__getattribute__(self, name)
        if name == "shape":
            raise RuntimeError(_SHAPE_MSG)
        if name == "_data":  # an op reached for the values: name the function that did
            import sys

            raise ValueError(_UNINIT_MSG.format(f"<function {sys._getframe(1).f_code.co_name}>"))
        if hasattr(Tensor, name):
            raise ValueError(_UNINIT_MSG.format(f"<method '{name}' of 'ember.Tensor' objects>"))
        return object.__getattribute__(self, name)

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor storage of ``shape`` (uninitialized values), same device and dtype unless given;
        it becomes a ``cls_to_become`` in place, so references to it (optimizers) stay valid."""
        from ..creation import empty

        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = empty(shape, device=device if device is not None else self.device,
                           dtype=dtype if dtype is not None else self.dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def dtype(self):
        return Tensor.dtype.fget(Tensor._make(_raw(self)))

    @property
    def device(self):
        return Tensor.device.fget(Tensor._make(_raw(self)))

    @property
    def data(self):
        return Tensor._make(_raw(self))

    def size(self, dim=None):
        return Tensor._make(_raw(self)).size(dim)

    def is_floating_point(self):
        return _raw(self).dtype.kind == "f"

    def is_complex(self):
        return _raw(self).dtype.kind == "c"

    def requires_grad_(self, requires_grad=True):
        if requires_grad and _raw(self).dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    # conversions return plain empty tensors: Module._apply moves their array into the uninitialized one
    def to(self, *args, **kwargs):
        return Tensor._make(_raw(self)).to(*args, **kwargs)

    def cpu(self):
        return Tensor._make(_raw(self)).cpu()

    def cuda(self, device=None):
        return Tensor._make(_raw(self)).cuda(device)

    def double(self):
        return Tensor._make(_raw(self)).double()

    def float(self):
        return Tensor._make(_raw(self)).float()

    def half(self):
        return Tensor._make(_raw(self)).half()

    def type(self, dtype=None):
        return Tensor._make(_raw(self)).type(dtype)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self).__new__(type(self))
        Tensor._init(out, _raw(self).copy(), requires_grad=self._requires_grad)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized, (type(self), self._requires_grad, self.device, self.dtype))


_MIXIN_NAMES = frozenset(k for k in vars(UninitializedTensorMixin) if not k.startswith("__")) | {
    "__reduce_ex__", "__deepcopy__"}


def _rebuild_uninitialized(cls, requires_grad, device, dtype):
    return cls(requires_grad=requires_grad, device=device, dtype=dtype)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (what lazy modules hold before their first forward);
    ``materialize(shape)`` turns it into a regular Parameter."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return object.__new__(cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        from ..creation import empty

        Tensor._init(self, empty(0, device=device, dtype=dtype)._data)
        if requires_grad:
            self.requires_grad_(True)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` turns it into a regular Tensor."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        return object.__new__(cls)

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        from ..creation import empty

        Tensor._init(self, empty(0, device=device, dtype=dtype)._data)
        if requires_grad:
            self.requires_grad_(True)


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]
