"""Sparse COO gradients, as ``Embedding(sparse=True)`` produces them (PyTorch's ``torch.sparse_coo`` layout,
for gradients): row indices into the first dimension plus one value row per index, uncoalesced.

Only what sparse gradients need is sparse: ``SparseAdam`` (and ``coalesce``/``_indices``/``_values``) use
the rows directly; anything else reading the tensor's array gets its dense form (so ``SGD`` and ``Adagrad``,
which PyTorch also runs on sparse gradients, update as they would with the dense gradient).
"""

from __future__ import annotations

from . import backend
from .tensor import Tensor, _Version


class SparseCOOTensor(Tensor):
    """A 2-D-or-more tensor stored as (row indices, value rows); see the module docstring."""

    __slots__ = ("_rows", "_vals", "_full_shape", "_coalesced", "_dense")

    @classmethod
    def from_rows(cls, rows, values, shape, coalesced=False):
        t = object.__new__(cls)
        t._rows, t._vals, t._full_shape, t._coalesced, t._dense = rows, values, tuple(shape), coalesced, None
        t._requires_grad = False
        t.grad = t.grad_fn = t._base = t._hooks = t._grad_acc = None
        t._output_nr = 0
        t._version_counter = _Version()
        t._retains_grad = False
        return t

    @property
    def _data(self):
        if self._dense is None:
            from .ops.embedding import _rows_sum

            xp = backend.array_module(self._vals)
            n = self._full_shape[0]
            flat = _rows_sum(xp, self._rows, self._vals.reshape(self._rows.size, self._width()), n)
            self._dense = flat.reshape(self._full_shape)
        return self._dense

    @_data.setter
    def _data(self, value):  # written in place through the dense form (zero_grad(set_to_none=False), ...)
        xp = backend.array_module(value)
        self._rows = xp.arange(value.shape[0])
        self._vals = value
        self._dense = value
        self._coalesced = True

    def _width(self) -> int:
        w = 1
        for d in self._full_shape[1:]:
            w *= d
        return w

    @property
    def is_sparse(self) -> bool:
        return True

    @property
    def layout(self):
        return "torch.sparse_coo"

    def is_coalesced(self) -> bool:
        return self._coalesced

    def coalesce(self):
        """The same tensor with each row index once (values of repeated indices summed), sorted."""
        if self._coalesced:
            return self
        xp = backend.array_module(self._vals)
        uniq, inverse = xp.unique(self._rows, return_inverse=True)
        vals = self._vals.reshape(self._rows.size, self._width())
        from .ops.embedding import _rows_sum

        summed = _rows_sum(xp, inverse.reshape(-1), vals, uniq.size)
        return SparseCOOTensor.from_rows(uniq, summed.reshape((uniq.size,) + self._full_shape[1:]), self._full_shape,
                                         coalesced=True)

    def zero_(self):
        """Drop every entry (an empty sparse tensor of the same shape)."""
        xp = backend.array_module(self._vals)
        self._rows = self._rows[:0]
        self._vals = xp.zeros((0,) + self._full_shape[1:], dtype=self._vals.dtype)
        self._dense, self._coalesced = None, True
        self._version_counter.value += 1
        return self

    def _indices(self):
        return Tensor._make(self._rows.reshape(1, -1))

    indices = _indices

    def _values(self):
        return Tensor._make(self._vals)

    values = _values

    def _nnz(self):
        return int(self._rows.size)

    def to_dense(self):
        return Tensor._make(self._data.copy())

    def sparse_dim(self):
        return 1

    def dense_dim(self):
        return len(self._full_shape) - 1

    def __add__(self, other):
        if isinstance(other, SparseCOOTensor):  # sparse + sparse stays sparse (uncoalesced), as in PyTorch
            xp = backend.array_module(self._vals)
            return SparseCOOTensor.from_rows(xp.concatenate([self._rows, other._rows]),
                                             xp.concatenate([self._vals, other._vals]), self._full_shape)
        return Tensor.__add__(Tensor._make(self._data), other)

    def __repr__(self):
        return (f"tensor(indices={self._indices()!r},\n       values={self._values()!r},\n       "
                f"size={self._full_shape}, nnz={self._nnz()}, layout=torch.sparse_coo)")
