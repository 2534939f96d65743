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


def is_lazy(param) -> bool:
    return False


__all__ = ["Parameter", "Buffer"]
