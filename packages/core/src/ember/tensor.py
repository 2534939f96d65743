"""``ember.Tensor``: an array (NumPy or CuPy) plus autograd metadata.

Math lives in ``ember.ops``; each ops module binds its functions onto Tensor as methods and
operators (see ``ember.ops._bind``), so this file only holds what a tensor *is*.
"""

from __future__ import annotations

import weakref

import numpy

from . import backend, dtypes
from .size import Size


_new = object.__new__
_generic = numpy.generic
_AccumulateGrad = None  # ember.autograd.function.AccumulateGrad, imported on first use


class _Version:
    """In-place version counter, shared by a tensor and all views of it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation."""

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "grad_fn",
        "_output_nr",
        "_version_counter",
        "__dict__",  # the rarely set attributes below (and users' own, as PyTorch allows)
        "__weakref__",
    )
    # defaults read from the class until set: a new tensor then costs 5 attribute writes, not 10
    _base = None
    _hooks = None
    _retains_grad = False
    _grad_acc = None
    __array_priority__ = 1000  # numpy defers binary operators to Tensor

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, device=None, dtype=None):
        """Legacy constructor: ``Tensor(2, 3)`` (uninitialised) or ``Tensor([1, 2])`` (data, default dtype)."""
        from . import creation

        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if len(args) == 1 and not isinstance(args[0], int):
            arr = creation.tensor(args[0], dtype=dt, device=device)._data
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = creation.empty(*shape, dtype=dt, device=device)._data
        Tensor._init(self, arr)

    # -- construction (internal) ------------------------------------------------------------------
    @staticmethod
    def _init(self, data, requires_grad=False, grad_fn=None, output_nr=0, version=None, base=None):
        self._data = data
        self._requires_grad = requires_grad
        self.grad = None
        self.grad_fn = grad_fn
        self._output_nr = output_nr
        self._version_counter = version if version is not None else _Version()
        if base is not None:
            self._base = base

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0, version=None, base=None):
        """Wrap an array without copying (the fast path every op uses).

        NumPy returns scalars (``numpy.float32``...) from operations on 0-d arrays; a tensor always holds
        an array, so such results are wrapped back here, the one place every op's result passes."""
        t = _new(Tensor)
        t._data = data if not isinstance(data, _generic) else numpy.asarray(data)
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version_counter = version if version is not None else _Version()
        if base is not None:
            t._base = base
        return t

    # -- basic attributes -------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The same storage, detached from the graph."""
        return Tensor._make(self._data, version=self._version_counter)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes._FROM_NP[self._data.dtype]

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._data)

    is_sparse = False

    @property
    def is_meta(self) -> bool:
        """True for a tensor on the meta device (a shape and a dtype, no data)."""
        return type(self._data) is backend._meta.MetaArray

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape as ``ember.Size``, or the length of dimension ``dim``."""
        if dim is None:
            return self.shape
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self._data.dtype is dtypes.BF16_NP

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def data_ptr(self) -> int:
        if isinstance(self._data, numpy.ndarray):
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    def storage_offset(self) -> int:
        base = self._base._data if self._base is not None else self._data
        return (self.data_ptr() - Tensor._make(base).data_ptr()) // self._data.itemsize

    def get_device(self) -> int:
        dev = self.device
        return -1 if dev.type == "cpu" else dev.index

    @property
    def _version(self) -> int:
        return self._version_counter.value

    def _bump_version(self):
        self._version_counter.value += 1

    # -- autograd attributes ----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether autograd records operations on this (leaf) tensor; returns self."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fc" and self._data.dtype is not dtypes.BF16_NP:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def output_nr(self) -> int:
        return self._output_nr

    def detach(self) -> "Tensor":
        """A new tensor sharing storage, cut off from the graph."""
        return Tensor._make(self._data, version=self._version_counter, base=self)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def retain(grad):
            t = ref()
            if t is not None:
                t.grad = Tensor._make(grad._data.copy()) if t.grad is None else t.grad + grad
            return None

        self.grad_fn._add_pre_hook(("retain", self._output_nr), retain)

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None``, called with this tensor's gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.function import RemovableHandle

        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor) -> None`` on a leaf, called after its ``.grad`` has been accumulated."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.function import PostAccumulateGradHook, RemovableHandle

        if self._hooks is None:
            self._hooks = []
        entry = PostAccumulateGradHook(hook)
        self._hooks.append(entry)
        return RemovableHandle(self._hooks, entry)

    def _grad_accumulator(self):
        acc = self._grad_acc() if self._grad_acc is not None else None
        if acc is None:  # held weakly (as in PyTorch): made again after the graphs using it are gone
            global _AccumulateGrad
            if _AccumulateGrad is None:
                from .autograd.function import AccumulateGrad as _AccumulateGrad
            acc = _AccumulateGrad(self)
            self._grad_acc = weakref.ref(acc)
        return acc

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it into ``.grad``."""
        from .autograd import engine

        engine.backward((self,), (gradient,) if gradient is not None else None, retain_graph, create_graph, inputs)

    # -- conversion -------------------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The NumPy array behind this CPU tensor (shares memory)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if not isinstance(self._data, numpy.ndarray) or self.device.type == "meta":
            if not force or self.device.type == "meta":
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                    "tensor to host memory first."
                )
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export the tensor's memory as a DLPack capsule (zero-copy), for ``from_dlpack`` of any library."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version), ("dl_device", dl_device),
                                    ("copy", copy)) if v is not None}
        try:
            return self._data.__dlpack__(**kwargs)
        except TypeError:  # an older array library: only the basic protocol
            return self._data.__dlpack__(**({"stream": stream} if stream is not None else {}))

    def __dlpack_device__(self):
        """``(device type, index)`` as DLPack numbers it (1: CPU, 2: CUDA)."""
        from .utils.dlpack import DLDeviceType

        kind, index = self._data.__dlpack_device__()
        return DLDeviceType(int(kind)), int(index)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        if self.device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return self._data.reshape(()).item()

    def tolist(self):
        data = self._data if isinstance(self._data, numpy.ndarray) else self._data.get()
        return data.tolist()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size > 1
                else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        from ._tensor_str import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        data = self._data if isinstance(self._data, numpy.ndarray) else self._data.get()
        return (_rebuild, (data, str(self.device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
            )
        out = type(self).__new__(type(self))
        Tensor._init(out, self._data.copy(), self._requires_grad)
        if type(self) is not Tensor and hasattr(self, "__dict__"):
            import copy

            out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out

    # -- device and dtype movement ----------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other)``; returns self when nothing changes."""
        non_blocking = bool(kwargs.get("non_blocking")) or any(a is True for a in args)
        dev, dt, copy = _parse_to(self, *args, **kwargs)
        from .ops.conversion import to_device_dtype

        return to_device_dtype(self, dev, dt, copy, non_blocking)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False) -> "Tensor":
        return self.to(backend.device("cuda") if device is None else backend.device(device) if not isinstance(device, int) else backend.device("cuda", device),
                       non_blocking=non_blocking)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return _legacy_type_name(self)
        return self.to(dtypes.to_dtype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def bfloat16(self):
        return self.to(dtypes.bfloat16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def short(self):
        return self.to(dtypes.int16)

    def char(self):
        return self.to(dtypes.int8)

    def byte(self):
        return self.to(dtypes.uint8)

    def bool(self):
        return self.to(dtypes.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def pin_memory(self, device=None):
        """A copy of this CPU tensor in page-locked memory, which copies to the GPU asynchronously (self when
        already pinned). Needs a GPU: without one, PyTorch's RuntimeError."""
        from .cuda import _pinned

        if self.device.type != "cpu":
            raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
        data = _pinned.pin(self._data)
        if data is self._data:
            return self
        return Tensor._make(data)

    def is_pinned(self, device=None):
        """Whether this tensor lives in page-locked host memory (``pin_memory``)."""
        from .cuda import _pinned

        return _pinned.is_pinned(self._data)

    def share_memory_(self):
        """Move the tensor's memory into shared memory (in place; a no-op if already shared or on a GPU), so
        processes it is sent to through ``ember.multiprocessing`` work on the same memory."""
        if isinstance(self._data, numpy.ndarray) and not self.is_shared():
            from .multiprocessing._shared import share_array

            self._data = share_array(self._data)
        return self

    def is_shared(self):
        """True when the tensor's memory is shared between processes (``share_memory_``); CUDA tensors are."""
        if not isinstance(self._data, numpy.ndarray):
            return self.device.type == "cuda"
        from .multiprocessing._shared import shared_base

        return shared_base(self._data) is not None


def _rebuild(data, device, requires_grad):
    t = Tensor._make(backend.to_device(data, backend.device(device)))
    t._requires_grad = requires_grad
    return t


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


def _legacy_type_name(t):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
             "int64": "LongTensor",
             "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
             "bool": "BoolTensor"}
    prefix = "torch.cuda." if t.device.type == "cuda" else "torch."
    return prefix + names.get(t.dtype.name, "Tensor")


def _parse_to(t, *args, **kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, dtypes.dtype) or a in (float, int, bool):
            dt = a
        elif isinstance(a, (str, backend.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
        elif isinstance(a, numpy.dtype) or (isinstance(a, type) and issubclass(a, numpy.generic)):
            dt = a
        elif isinstance(a, bool):
            pass  # non_blocking positional
        else:
            raise TypeError(f"to() received an invalid combination of arguments: got {type(a).__name__}")
    dev = backend.canonical_device(dev) if dev is not None else None
    dt = dtypes.to_dtype(dt) if dt is not None else None
    return dev, dt, copy
