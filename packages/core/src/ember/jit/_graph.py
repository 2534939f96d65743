"""The traced graph: values, primitive-call nodes, and their readable listings.

A ``Value`` is a tensor flowing through the graph: a graph input, a parameter or buffer of the traced
module (``kind="param"``, named by its ``state_dict`` key), a constant captured during tracing
(``kind="const"``) or the output of a node. A ``Node`` is one call of a primitive (``ember.ops``) with
its arguments as recorded: Values where tensors were passed, everything else as the Python objects the
primitive received (shapes, axes, flags, small configuration objects).
"""

from __future__ import annotations

import numpy as np


class Value:
    """One tensor of the graph, with the shape and dtype it had when traced."""

    __slots__ = ("name", "kind", "shape", "dtype")

    def __init__(self, name, kind, shape, dtype):
        self.name, self.kind, self.shape, self.dtype = name, kind, tuple(int(s) for s in shape), np.dtype(dtype)

    def type_str(self) -> str:
        return f"{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}({', '.join(map(str, self.shape))})"

    def __repr__(self):
        return f"%{self.name}"


_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
}


class Node:
    """One primitive call: ``outputs = op.apply(*args, **kwargs)``; ``where`` is the source line."""

    __slots__ = ("op", "args", "kwargs", "outputs", "single", "where")

    def __init__(self, op, args, kwargs, outputs, single, where=""):
        self.op, self.args, self.kwargs = op, args, kwargs
        self.outputs, self.single, self.where = outputs, single, where

    @property
    def kind(self) -> str:
        """The primitive's name (e.g. ``"Convolution"``)."""
        return self.op.__name__

    def inputs(self):
        """The Values among the arguments, in order."""
        found = []
        _walk_values((self.args, self.kwargs), found.append)
        return found


def _walk_values(obj, visit):
    if isinstance(obj, Value):
        visit(obj)
    elif type(obj) in (tuple, list):
        for item in obj:
            _walk_values(item, visit)
    elif type(obj) is dict:
        for item in obj.values():
            _walk_values(item, visit)


def map_values(obj, fn):
    """``obj`` with every Value replaced by ``fn(value)`` (tuples, lists and dicts rebuilt)."""
    if isinstance(obj, Value):
        return fn(obj)
    if type(obj) is tuple:
        return tuple(map_values(o, fn) for o in obj)
    if type(obj) is list:
        return [map_values(o, fn) for o in obj]
    if type(obj) is dict:
        return {k: map_values(v, fn) for k, v in obj.items()}
    return obj


class Graph:
    """A traced forward pass: ``inputs`` -> ``nodes`` -> ``outputs`` (a structure of Values).

    ``params`` lists the parameter/buffer Values (their tensors live on the ScriptModule);
    ``constants`` maps constant Value names to the arrays captured while tracing.
    """

    def __init__(self, inputs, nodes, outputs, params, constants):
        self.inputs, self.nodes, self.outputs = inputs, nodes, outputs
        self.params, self.constants = params, constants

    def output_values(self):
        found = []
        _walk_values(self.outputs, found.append)
        return found

    def __str__(self):
        heads = [f"%{v.name} : {v.type_str()}" for v in list(self.inputs) + list(self.params)]
        lines = ["graph(" + (",\n      ".join(heads)) + "):"]
        for name, arr in self.constants.items():
            lines.append(f"  %{name} : {Value(name, 'const', arr.shape, arr.dtype).type_str()} = Constant()")
        for node in self.nodes:
            outs = ", ".join(f"%{v.name} : {v.type_str()}" for v in node.outputs)
            call = f"{node.kind}({_args_str(node.args, node.kwargs, _ir_ref)})"
            where = f"  # {node.where}" if node.where else ""
            lines.append(f"  {outs} = {call}{where}")
        lines.append(f"  return {_fmt(self.outputs, _ir_ref)}")
        return "\n".join(lines) + "\n"

    __repr__ = __str__

    def code(self) -> str:
        """A Python-like listing of the graph (for reading; it is not executed)."""
        ins = ", ".join(["self"] + [_py_name(v) for v in self.inputs])
        lines = [f"def forward({ins}):"]
        for node in self.nodes:
            outs = ", ".join(_py_name(v) for v in node.outputs)
            lines.append(f"    {outs} = ops.{node.kind}({_args_str(node.args, node.kwargs, _py_ref)})")
        lines.append(f"    return {_fmt(self.outputs, _py_ref)}")
        return "\n".join(lines) + "\n"


def _ir_ref(v):
    return f"%{v.name}"


def _py_name(v):
    return v.name if v.name.isidentifier() else "v" + v.name


def _py_ref(v):
    if v.kind == "param":
        return "self." + v.name
    if v.kind == "const":
        return f"CONSTANTS[{v.name!r}]"
    return _py_name(v)


def _args_str(args, kwargs, ref):
    parts = [_fmt(a, ref) for a in args] + [f"{k}={_fmt(v, ref)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _fmt(obj, ref):
    if isinstance(obj, Value):
        return ref(obj)
    if type(obj) is tuple or (isinstance(obj, tuple) and type(obj).__name__ not in _FIELDS):
        inner = ", ".join(_fmt(o, ref) for o in obj)
        return f"({inner},)" if len(obj) == 1 else f"({inner})"
    if type(obj) is list:
        return "[" + ", ".join(_fmt(o, ref) for o in obj) + "]"
    if type(obj) is dict:
        return "{" + ", ".join(f"{k!r}: {_fmt(v, ref)}" for k, v in obj.items()) + "}"
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and not isinstance(obj, np.generic):
        return f"<array {obj.dtype} {tuple(obj.shape)}>"
    if isinstance(obj, type):
        return obj.__name__
    fields = _FIELDS.get(type(obj).__name__)
    if fields is not None and type(obj).__module__.startswith("ember.ops"):
        shown = ", ".join(f"{label}={_fmt(getattr(obj, attr), ref)}" for label, attr in fields
                          if getattr(obj, attr) is not None)
        return f"{type(obj).__name__.strip('_')}({shown})"
    if type(obj).__module__.startswith("ember.ops"):
        return f"<{type(obj).__name__}>"
    return repr(obj)


# how the configuration objects some primitives take are shown: (label, attribute)
_FIELDS = {
    "_Cfg": (("stride", "stride"), ("pads", "pads"), ("dilation", "dilation"), ("groups", "groups")),
    "_Geom": (("kernel", "k"), ("stride", "s"), ("padding", "p"), ("dilation", "d"), ("out", "out")),
    "_Spec": (("view", "vshape"), ("reduce", "raxes"), ("affine", "waxes"), ("eps", "eps"), ("stats", "stats")),
}


__all__ = ["Graph", "Node", "Value", "map_values"]
