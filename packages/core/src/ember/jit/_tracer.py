"""Recording one forward pass: every primitive call becomes a graph node.

While a ``Recorder`` is installed in ``autograd.function.TRACE_HOOK``, ``Primitive.apply`` hands each
call to ``Recorder.primitive`` (which runs the op as usual and notes it) and ``apply_inplace`` tells
``Recorder.inplace`` that a tensor now holds a new value. Tensors are known by identity: graph inputs,
node outputs, and the module's parameters and buffers; any other tensor a primitive reads is captured
as a constant.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from ..autograd import function as _function
from ..tensor import Tensor
from ._graph import Graph, Node, Value, map_values

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class TracerWarning(Warning):
    """Something in the traced code can't be recorded and was baked in as a constant."""


class TracingCheckError(Exception):
    """The traced graph does not reproduce the eager outputs (``check_trace``/``check_inputs``)."""


def user_frame():
    """The innermost stack frame outside ember's core package (the model code that called in)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_EMBER_DIR):
        f = f.f_back
    return f


def _where(frame):
    if frame is None:
        return ""
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


class Recorder:
    """Collects nodes while installed; ``finish`` turns them into a ``Graph``."""

    def __init__(self, inputs, named_tensors):
        self.nodes = []
        self.values = {}  # id(tensor) -> Value
        self.by_data = {}  # id(array) -> Value (detach() and other aliases share the array)
        self.keep = []  # every tensor seen, kept alive so that ids stay unique while tracing
        self.params = {}  # name -> Value
        self.param_tensors = {}
        self.constants = {}
        self.inputs = []
        self._count = 0
        self.reporting = False
        self.warn_dropout = True
        self.tainted = set()  # names of node outputs computed (also) from the inputs
        self._param_ids = {}
        for name, t in named_tensors:
            self._param_ids.setdefault(id(t), (name, t))
            self._param_ids.setdefault(id(t._data), (name, t))
        for i, t in enumerate(inputs):
            v = Value(f"input{i}" if len(inputs) > 1 else "input", "input", t._data.shape, t._data.dtype)
            self._bind(t, v)
            self.inputs.append(v)

    # -- tensor identity -------------------------------------------------------------------------
    def _bind(self, t, v):
        self.values[id(t)] = v
        self.by_data[id(t._data)] = v
        self.keep.append(t)

    def may_depend_on_inputs(self, t) -> bool:
        """False only for parameters, buffers and constants: any other tensor may have been computed from
        the inputs (by a primitive, or by an op that is not one, such as a comparison)."""
        v = self.values.get(id(t)) or self.by_data.get(id(t._data))
        if v is not None:
            return v.kind == "input" or v.name in self.tainted
        return id(t) not in self._param_ids and id(t._data) not in self._param_ids

    def value_of(self, t: Tensor) -> Value:
        v = self.values.get(id(t))
        if v is not None:
            return v
        v = self.by_data.get(id(t._data))
        if v is None:
            hit = self._param_ids.get(id(t)) or self._param_ids.get(id(t._data))
            if hit is not None:
                name, p = hit
                v = self.params.get(name)
                if v is None:
                    v = self.params[name] = Value(name, "param", p._data.shape, p._data.dtype)
                    self.param_tensors[name] = p
            else:
                name = f"const{len(self.constants)}"
                v = Value(name, "const", t._data.shape, t._data.dtype)
                self.constants[name] = _host(t._data)
        self._bind(t, v)
        return v

    def _encode(self, obj):
        if isinstance(obj, Tensor):
            return self.value_of(obj)
        if type(obj) in (tuple, list):
            return type(obj)(self._encode(o) for o in obj)
        if type(obj) is dict:
            return {k: self._encode(v) for k, v in obj.items()}
        return obj

    def _new_value(self, t):
        self._count += 1
        v = Value(str(self._count), "node", t._data.shape, t._data.dtype)
        self._bind(t, v)
        return v

    # -- the hooks -------------------------------------------------------------------------------
    def primitive(self, cls, args, kwargs):
        hook = _function.TRACE_HOOK
        hook[0] = None  # primitives called inside this one are part of it, not separate nodes
        try:
            out = cls.apply(*args, **kwargs)
        finally:
            hook[0] = self
        if cls.__name__ == "_ScaleShift" and self.warn_dropout:
            _warn("dropout in training mode: its random mask is recorded as a constant and replayed "
                  "unchanged; call .eval() on the module before tracing", user_frame())
        single = type(out) is not tuple
        outs = (out,) if single else out
        node = Node(cls, self._encode(args), self._encode(kwargs), [self._new_value(o) for o in outs], single,
                    _where(user_frame()))
        if any(v.kind == "input" or v.name in self.tainted for v in node.inputs()):
            self.tainted.update(v.name for v in node.outputs)
        self.nodes.append(node)
        return out

    def inplace(self, t, result):
        v = self.values.get(id(result)) or self.by_data.get(id(result._data))
        if v is not None:
            self._bind(t, v)

    def finish(self, outputs):
        def out_value(t):
            return self.value_of(t)

        structure = _map_tensors(outputs, out_value)
        graph = Graph(self.inputs, self.nodes, structure, list(self.params.values()), self.constants)
        used = {v.name for node in self.nodes for v in node.inputs()} | {v.name for v in graph.output_values()}
        for i, v in enumerate(self.inputs):
            if v.name not in used:
                _warn(f"input {i} of the traced function is not used by the recorded graph: its values were read "
                      "outside ember's primitives (e.g. through ._data or NumPy) and are baked into the trace", None)
        return graph


def _host(arr):
    return arr.get() if hasattr(arr, "get") else np.array(arr, copy=True)


def _map_tensors(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if type(obj) in (tuple, list):
        return type(obj)(_map_tensors(o, fn) for o in obj)
    if type(obj) is dict:
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    if hasattr(obj, "_fields") and isinstance(obj, tuple):  # named tuples (return types)
        return tuple(_map_tensors(o, fn) for o in obj)
    raise RuntimeError(
        f"Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from traced functions, "
        f"got {type(obj).__name__}"
    )


def _warn(message, frame):
    if frame is None:
        warnings.warn(message, TracerWarning, stacklevel=3)
        return
    warnings.warn_explicit(message, TracerWarning, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__"), registry=frame.f_globals.setdefault("__warningregistry__", {}))


# -- Python conversions of traced tensors: reported, then done as usual -----------------------------
_CONVERSIONS = {
    "item": "Converting a tensor to a Python number",
    "tolist": "Converting a tensor to a Python list",
    "__bool__": "Converting a tensor to a Python boolean",
    "__float__": "Converting a tensor to a Python float",
    "__int__": "Converting a tensor to a Python integer",
    "__index__": "Converting a tensor to a Python index",
    "numpy": "Converting a tensor to a NumPy array",
}
_SUFFIX = (" might cause the trace to be incorrect. We can't record the data flow of Python values, so this "
           "value will be treated as a constant in the future. This means that the trace might not "
           "generalize to other inputs!")


def _reporting(name, original):
    def method(self, *args, **kwargs):
        rec = _function.TRACE_HOOK[0]
        if rec is None or rec.reporting or not rec.may_depend_on_inputs(self):
            return original(self, *args, **kwargs)
        frame = user_frame()
        where = _where(frame)
        _warn(f"{_CONVERSIONS[name]}{_SUFFIX} (at {where})" if where else _CONVERSIONS[name] + _SUFFIX, frame)
        rec.reporting = True  # bool() calls item(): one warning per conversion
        try:
            return original(self, *args, **kwargs)
        finally:
            rec.reporting = False

    method.__name__ = name
    return method


class tracing:
    """Context manager installing ``recorder`` (and the conversion reports) for one forward pass."""

    def __init__(self, recorder):
        self.recorder = recorder
        self._saved = {}

    def __enter__(self):
        if _function.TRACE_HOOK[0] is not None:
            raise RuntimeError("ember.jit.trace can't be nested inside another trace")
        for name in _CONVERSIONS:
            original = Tensor.__dict__[name]
            self._saved[name] = original
            setattr(Tensor, name, _reporting(name, original))
        _function.TRACE_HOOK[0] = self.recorder
        return self.recorder

    def __exit__(self, *exc):
        _function.TRACE_HOOK[0] = None
        for name, original in self._saved.items():
            setattr(Tensor, name, original)


__all__ = ["Recorder", "TracerWarning", "TracingCheckError", "tracing", "map_values"]
