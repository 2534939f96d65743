"""Graph nodes and ``Function``: the unit every differentiable op is written as.

A ``Function`` subclass pairs ``forward`` and ``backward``. Calling ``apply`` runs forward and, when
gradients are being recorded, attaches a node (an instance of ``<Name>Backward``) to the outputs. The
node doubles as the ``ctx`` that forward saves into, as in PyTorch.

Built-in ops subclass ``Primitive``: their forward receives the Tensor arguments and returns raw arrays
(``x._data``), which ``apply`` wraps; their backward is written with Tensor ops so that it can itself be
differentiated (``create_graph=True``).
"""

from __future__ import annotations

import functools
import sys
import weakref

import numpy as _np

from .. import _errors
from ..tensor import Tensor, _Version
from ..dtypes import BF16_NP as _BF16
from .grad_mode import STATE

_make = Tensor._make

_F32 = _np.dtype(_np.float32)

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class RemovableHandle:
    """Returned by ``register_hook``-style calls; ``remove()`` takes the hook out again."""

    __slots__ = ("_store", "_hook")

    def __init__(self, store, hook):
        self._store, self._hook = store, hook

    def remove(self):
        try:
            self._store.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _SavedOutput:
    """A saved output: kept as its array so the node does not own its own output (no ref cycle)."""

    __slots__ = ("data", "version", "saved_version", "output_nr")

    def __init__(self, tensor, output_nr):
        self.data = tensor._data
        self.version = tensor._version_counter
        self.saved_version = tensor._version_counter.value
        self.output_nr = output_nr


class Node:
    """A node of the backward graph (what ``tensor.grad_fn`` returns)."""

    __slots__ = (
        "needs_input_grad",
        "_edges",
        "_saved",
        "_saved_versions",
        "_freed",
        "_pre_hooks",
        "_hooks",
        "_num_outputs",
        "_output_meta",
        "_non_differentiable",
        "_materialize_grads",
        "__dict__",
        "__weakref__",
    )

    def __init__(self):
        self._saved = None
        self._freed = False
        self._pre_hooks = None
        self._hooks = None
        self._num_outputs = 1
        self._output_meta = None
        self._non_differentiable = None
        self._materialize_grads = True
        self._edges = ()

    # -- graph inspection ------------------------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e else (None, 0) for e in self._edges if e is not False)

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computed its gradients."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return replacement gradients."""
        return self._add_pre_hook(None, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = []
        entry = (output_nr, fn)
        self._pre_hooks.append(entry)
        return RemovableHandle(self._pre_hooks, entry)

    # -- saved tensors ---------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors for backward; reading them later checks that none changed in place."""
        self._saved = tensors
        self._saved_versions = tuple(t._version_counter.value if t is not None else 0 for t in tensors)

    def _check_saved(self):
        if self._freed:
            raise RuntimeError(_FREED_MSG)

    @property
    def saved_tensors(self):
        self._check_saved()
        saved = self._saved
        if saved is None:
            return ()
        out = []
        for item, version in zip(saved, self._saved_versions):
            if isinstance(item, _SavedOutput):
                if item.version.value != item.saved_version:
                    raise RuntimeError(_inplace_msg(item.data, self, item.version.value, item.saved_version))
                item = Tensor._make(item.data, True, self, item.output_nr, item.version)
            elif item is not None and item._version_counter.value != version:
                raise RuntimeError(_inplace_msg(item._data, self, item._version_counter.value, version, item))
            out.append(item)
        return tuple(out)

    def _release(self):
        self._saved = None
        self._freed = True

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable = tuple(outputs)

    def mark_dirty(self, *tensors):
        self.__dict__["_dirty"] = tensors

    def set_materialize_grads(self, value: bool):
        self._materialize_grads = bool(value)

    # -- execution -------------------------------------------------------------------------------
    def apply(self, grads):
        """Compute the gradients of this node's inputs from its outputs' gradients."""
        raise NotImplementedError


def _inplace_msg(data, node, version, expected, tensor=None):
    shape = list(data.shape)
    tname = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor"}.get(
        str(data.dtype), "Tensor"
    )
    where = ""
    if tensor is not None and tensor.grad_fn is not None:
        where = f", which is output {tensor._output_nr} of {tensor.grad_fn.name()},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{tname} {shape}]{where} is at version {version}; expected version "
        f"{expected} instead. Hint: the backtrace further above can show the operation that failed "
        "to compute its gradient. The variable in question was changed in there or anywhere later."
    )


def edge_of(t: Tensor):
    """The (node, output_nr) a gradient for ``t`` flows into, or None if ``t`` needs none."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t._requires_grad:
        return (t._grad_accumulator(), 0)
    return None


# references to an incoming gradient held by nobody else, at the check in AccumulateGrad.apply: the
# engine's buffer list, the local name and getrefcount's argument (tensor); the tensor's ``_data`` and
# the argument (array)
_OWNED_TENSOR_REFS = 3
_OWNED_ARRAY_REFS = 3  # + the local ``arr``
# references to a view's base held by the view alone: its ``base`` field, the local name and getrefcount's argument
_BASE_REFS = 3
# counts measured on CPython 3.10-3.13; later versions may borrow stack references (lower counts), so
# there the gradient is always copied rather than risk keeping an array someone else holds
_STEAL_OWNED = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _exclusive(arr):
    """Whether ``arr`` owns its memory, or is a reshaped C-contiguous view of all of an array that nothing else
    holds (a kernel's output reshaped to the input's shape: GroupNorm's input gradient, 2 MiB copied otherwise)."""
    if arr.flags.owndata:
        return True
    base = arr.base
    return (type(base) is _np.ndarray and base.flags.owndata and base.size == arr.size and arr.flags.c_contiguous
            and base.flags.c_contiguous and sys.getrefcount(base) <= _BASE_REFS)


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient to ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def apply(self, grads, create_graph=False):
        var = self.variable
        grad = grads[0]
        if grad is None:
            return ()
        hooks = var._hooks or ()
        for hook in hooks:
            if not isinstance(hook, PostAccumulateGradHook):
                res = hook(grad)
                if res is not None:
                    grad = res
        if grad.is_sparse:  # Embedding(sparse=True): sparse gradients accumulate sparsely
            if var.grad is None or var.grad.is_sparse:
                var.grad = grad if var.grad is None else var.grad + grad
            else:
                var.grad._data += grad._data
            for hook in hooks:
                if isinstance(hook, PostAccumulateGradHook):
                    hook.fn(var)
            return ()
        if var.grad is None:
            arr = grad._data
            if create_graph:
                var.grad = grad
            elif (_STEAL_OWNED and type(arr) is _np.ndarray and arr.flags.writeable and _exclusive(arr)
                  and sys.getrefcount(grad) <= _OWNED_TENSOR_REFS and sys.getrefcount(arr) <= _OWNED_ARRAY_REFS):
                # nothing else holds this fresh gradient (as PyTorch, keep it rather than copy it: a
                # 4 MiB copy costs as much as the GELU backward that made it)
                var.grad = Tensor._make(arr)
            else:  # a copy: the array may be shared with another leaf's gradient, a view or read-only
                var.grad = Tensor._make(arr.copy())
        elif create_graph:
            var.grad = var.grad + grad
        else:
            var.grad._data += grad._data
        for hook in hooks:
            if isinstance(hook, PostAccumulateGradHook):
                hook.fn(var)
        return ()


class PostAccumulateGradHook:
    """A leaf's hook run with the tensor after its ``.grad`` has been accumulated."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


class DelayedError(Node):
    """Stands behind gradients of a once-differentiable backward; raises if differentiated again."""

    __slots__ = ("msg",)

    def __init__(self, msg):
        super().__init__()
        self.msg = msg

    def apply(self, grads, create_graph=False):
        raise RuntimeError(self.msg)


# Primitives that only move, view or select elements run on bfloat16 arrays as they are (views must stay
# views); every other primitive computes in float32 and rounds its result back (see _apply_bf16).
_BF16_NATIVE_MODULES = frozenset({"shape", "indexing", "joining", "conversion", "filling"})


class FunctionMeta(type):
    """Gives each Function subclass its own backward-node class named ``<Name>Backward[0]``."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        suffix = "Backward0" if getattr(cls, "_primitive", False) else "Backward"
        if "_bf16_native" not in attrs:
            cls._bf16_native = cls.__module__.rsplit(".", 1)[-1] in _BF16_NATIVE_MODULES
        cls._node_cls = type(name + suffix, (BackwardNode,), {"__slots__": (), "_fn": cls})


class BackwardNode(Node):
    """The node type shared by all Functions; ``_fn`` is the Function class it belongs to."""

    __slots__ = ()
    _fn = None

    def apply(self, grads, create_graph=False):
        if self._materialize_grads and self._num_outputs > 1:
            grads = _materialize(self, grads)
        fn = self._fn
        if create_graph and getattr(fn.backward, "_once_differentiable", False):
            from .grad_mode import no_grad

            with no_grad():
                result = fn.backward(self, *grads)
            return _delay_error(result, fn)
        return fn.backward(self, *grads)


def _materialize(node, grads):
    from ..creation import zeros_array_tensor

    out = list(grads)
    for i, g in enumerate(out):
        if g is None and node._output_meta is not None:
            shape, dt, dev = node._output_meta[i]
            out[i] = zeros_array_tensor(shape, dt, dev)
    return out


def _delay_error(result, fn):
    single = not isinstance(result, tuple)
    results = (result,) if single else result
    msg = f"trying to differentiate twice a function that was marked with @once_differentiable ({fn.__name__})"
    wrapped = []
    for g in results:
        if isinstance(g, Tensor):
            g = Tensor._make(g._data, True, DelayedError(msg), 0)
        wrapped.append(g)
    return wrapped[0] if single else tuple(wrapped)


class Function(metaclass=FunctionMeta):
    """Base class for differentiable operations with a hand-written backward.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` methods and
    call ``MyFn.apply(*args)``; ``ctx.save_for_backward``, ``ctx.saved_tensors``,
    ``ctx.needs_input_grad`` and ``ctx.mark_non_differentiable`` work as in PyTorch.
    """

    _primitive = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        node = cls._node_cls()
        needs = STATE.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        from .grad_mode import no_grad

        with no_grad():
            outputs = cls.forward(node, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not needs:
            node._saved = None
            return outputs
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        non_diff = {id(t) for t in node._non_differentiable or ()}
        wrapped = []
        for i, out in enumerate(outs):
            if isinstance(out, Tensor):
                if id(out) in inputs and id(out) not in {id(t) for t in node.__dict__.get("_dirty", ())}:
                    out = Tensor._make(out._data, False, None, 0, out._version_counter)  # alias, not the input
                if id(out) not in non_diff and out.dtype._category >= 2:
                    out.grad_fn, out._output_nr, out._requires_grad = node, i, True
            wrapped.append(out)
        _finish_node(node, args, wrapped)
        if node._saved:
            node._saved = tuple(_saved_entry(t, wrapped) for t in node._saved)
        return wrapped[0] if single else tuple(wrapped)


def _saved_entry(t, outputs):
    for i, out in enumerate(outputs):
        if t is out:
            return _SavedOutput(t, i)
    return t


def _edge(a):
    """One entry of ``node._edges`` per positional argument of forward:
    False for a non-tensor, None for a tensor that needs no gradient,
    else (next node, its output number, the input's shape, the input's array dtype)."""
    if not isinstance(a, Tensor):
        return False
    if not a._requires_grad:
        return None
    fn = a.grad_fn
    if fn is None:
        return (a._grad_accumulator(), 0, a._data.shape, a._data.dtype)
    return (fn, a._output_nr, a._data.shape, a._data.dtype)


def _finish_node(node, args, outs):
    edges = []
    for a in args:  # _edge(a), inlined: this runs for every recorded op
        if type(a) is not Tensor and not isinstance(a, Tensor):
            edges.append(False)
        elif not a._requires_grad:
            edges.append(None)
        else:
            fn = a.grad_fn
            edges.append((a._grad_accumulator(), 0, a._data.shape, a._data.dtype) if fn is None else
                         (fn, a._output_nr, a._data.shape, a._data.dtype))
    node._edges = tuple(edges)
    node._num_outputs = len(outs)
    if len(outs) > 1:
        node._output_meta = tuple(
            (o._data.shape, o._data.dtype, o.device) if isinstance(o, Tensor) else None for o in outs
        )


def _arr(x):
    """NumPy reductions return scalars for 0-d results; tensors always hold arrays."""
    return _np.asarray(x) if isinstance(x, _np.generic) else x


# The active tracer (``ember.jit``), or None: every primitive call and in-place write goes through it
# while a trace is recorded; otherwise the cost is one list lookup per primitive.
TRACE_HOOK = [None]

_NUMPY_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


def _reraise(exc, args):
    """Re-raise a NumPy error from a primitive's forward as PyTorch's (see ember._errors)."""
    new = _errors.translate(exc, args)
    if new is None:
        raise exc
    raise new from None


class Primitive(Function):
    """A built-in op: forward gets the Tensor args and returns array(s); apply wraps them."""

    _primitive = True
    _bf16_follows_input = False  # True: a bfloat16 first input gives bfloat16 results whatever the other inputs
    save_output = False  # set True to make ``ctx.saved_output`` the (re-attached) output tensor

    @classmethod
    def apply(cls, *args, **kwargs):
        if TRACE_HOOK[0] is not None:
            return TRACE_HOOK[0].primitive(cls, args, kwargs)
        # one pass over the arguments: bfloat16 inputs (computed in float32) and whether any needs a gradient
        bf16_native, grad = cls._bf16_native, False
        for a in args:
            if type(a) is Tensor or isinstance(a, Tensor):
                if a._requires_grad:
                    grad = True
                if not bf16_native and a._data.dtype is _BF16:
                    return _apply_bf16(cls, args, kwargs)
            elif not bf16_native and type(a) in (list, tuple):
                for t in a:  # (a loop, not any(): no generator per call)
                    if isinstance(t, Tensor) and t._data.dtype is _BF16:
                        return _apply_bf16(cls, args, kwargs)
        if not (grad and STATE.enabled):
            try:
                out = cls.forward(_NO_GRAD_CTX, *args, **kwargs)
            except _NUMPY_ERRORS as exc:
                _reraise(exc, args)
            if type(out) is tuple:
                return tuple(_make(o) for o in out)
            return _make(out)  # (_make wraps NumPy scalars back into arrays)
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])  # (a list: no generator frame)
        node = cls._node_cls()
        node.needs_input_grad = needs
        try:
            out = cls.forward(node, *args, **kwargs)
        except _NUMPY_ERRORS as exc:
            _reraise(exc, args)
        non_diff = node._non_differentiable
        if type(out) is tuple:
            out = tuple(_arr(o) for o in out)
            outs = tuple(
                Tensor._make(o, True, node, i)
                if (non_diff is None or not any(o is n for n in non_diff)) and (o.dtype.kind in "fc" or o.dtype is _BF16)
                else Tensor._make(o)
                for i, o in enumerate(out)
            )
            _finish_node(node, args, outs)
            if cls.save_output:
                node.__dict__["_saved_out"] = _SavedOutput(outs[0], 0)
            return outs
        out = _arr(out)
        res = Tensor._make(out, True, node, 0) if out.dtype.kind in "fc" or out.dtype is _BF16 else Tensor._make(out)
        _finish_node(node, args, (res,))
        if cls.save_output:
            node.__dict__["_saved_out"] = _SavedOutput(res, 0)
        return res

    @property
    def saved_output(self):  # pragma: no cover - documented on the node below
        raise AttributeError


def _saved_output(node):
    """The op's (first) output, re-attached to ``node`` so that double backward flows through it."""
    node._check_saved()
    item = node.__dict__["_saved_out"]
    if item.version.value != item.saved_version:
        raise RuntimeError(_inplace_msg(item.data, node, item.version.value, item.saved_version))
    return Tensor._make(item.data, True, node, item.output_nr, item.version)


BackwardNode.saved_output = property(_saved_output)
_orig_release = Node._release


def _release_node(self):
    _orig_release(self)
    if self.__dict__:
        self.__dict__.pop("_saved_out", None)


BackwardNode._release = _release_node


def _apply_bf16(cls, args, kwargs):
    """Run a computing primitive on bfloat16 tensors the way PyTorch's CPU kernels do: upcast to float32
    (differentiably), compute, and round float32 results back to bfloat16 once.

    This is the one place bfloat16 arithmetic is decided: NumPy (with ml_dtypes) has bfloat16 loops for
    basic ufuncs only, accumulates reductions in bfloat16 and has no einsum/BLAS for it. Results stay
    float32 when a wider float tensor of more than 0 dims took part (PyTorch's promotion)."""
    from ..ops.conversion import ToCopy

    first = None
    wider = False

    def up(a):
        nonlocal first, wider
        if isinstance(a, Tensor):
            d = a._data.dtype
            if first is None and (d is _BF16 or d.kind == "f" or d.kind == "c"):
                first = d  # the first floating input (where's condition and integer indices don't count)
            if d is _BF16:
                return ToCopy.apply(a, None, _F32)
            if a._data.ndim and (d.kind == "f" or d.kind == "c"):
                wider = True
        elif isinstance(a, _np.dtype):  # an explicit result dtype (sum(dtype=...)): the op decides
            wider = True
        return a

    new = [up(a) if type(a) not in (list, tuple) else type(a)(up(t) for t in a) for a in args]
    out = cls.apply(*new, **kwargs)
    if first is not _BF16 or (wider and not cls._bf16_follows_input):
        return out

    def down(o):
        return ToCopy.apply(o, None, _BF16) if isinstance(o, Tensor) and o._data.dtype is _F32 else o

    return tuple(down(o) for o in out) if type(out) is tuple else down(out)


class _NoGradCtx:
    """The ctx primitives see when no graph is recorded: saving is a no-op."""

    __slots__ = ()
    needs_input_grad = None

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def __setattr__(self, name, value):
        pass


_NO_GRAD_CTX = _NoGradCtx()


def once_differentiable(backward):
    """Mark a backward written on raw arrays: differentiating it again raises a clear error."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return backward(ctx, *grads)

    wrapper._once_differentiable = True
    return wrapper


__all__ = [
    "Function",
    "Primitive",
    "Node",
    "AccumulateGrad",
    "once_differentiable",
    "RemovableHandle",
    "edge_of",
    "weakref",
    "_Version",
]
