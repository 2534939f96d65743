"""``ScriptModule.save`` / ``ember.jit.load``: a traced graph in ember's own checkpoint format.

The file is an ``ember.save`` archive (a zip of JSON and raw tensor bytes, no pickle) holding the graph
as JSON, the parameters and buffers by name, and the constant arrays. Node arguments are encoded as
tagged JSON; the only objects that can be rebuilt are primitives of ``ember.ops`` (looked up in a table
of known classes, never imported by name) and the few argument classes listed in ``_OBJECTS``.
"""

from __future__ import annotations

import json

import numpy as np

from .. import dtypes
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._graph import Graph, Node, Value

FORMAT = "ember.jit"
VERSION = 1


def _object_table():
    from ..ops.conv import _Cfg
    from ..ops.normalization import _Spec
    from ..ops.pooling import _Geom

    return {
        "conv_cfg": (_Cfg, lambda o: list(o), lambda a: _Cfg(*a)),
        "pool_geom": (_Geom, lambda o: [list(o.size), list(o.out), list(o.k), list(o.s), list(o.p), list(o.d)],
                      lambda a: _Geom(*a)),
        "norm_spec": (_Spec, lambda o: [o.vshape, o.raxes, o.waxes, o.eps, o.center, o.stats, o.running],
                      lambda a: _Spec(*a)),
    }


def primitive_table():
    """Every primitive class of ember.ops by ``module.qualname``."""
    from .. import ops  # noqa: F401  (defines them all)

    table, todo = {}, [Primitive]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            table[f"{sub.__module__}.{sub.__qualname__}"] = sub
            todo.append(sub)
    return table


class _Encoder:
    def __init__(self, named):
        self.arrays = {}
        self._array_keys = {}
        self._by_id = {}
        for name, t in named.items():
            self._by_id.setdefault(id(t), name)
            self._by_id.setdefault(id(t._data), name)
        self._objects = {cls: (tag, dump) for tag, (cls, dump, _) in _object_table().items()}

    def __call__(self, obj):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, float)) and type(obj) in (int, float):
            return obj
        if isinstance(obj, Value):
            return {"$v": obj.name}
        if isinstance(obj, Tensor):
            name = self._by_id.get(id(obj))
            if name is None:
                return {"$tensor": self._array(obj._data)}
            return {"$param": name}
        if isinstance(obj, np.generic):
            return {"$scalar": [obj.dtype.str, obj.item()]}
        if isinstance(obj, dtypes.dtype):
            return {"$edtype": str(obj).split(".")[-1]}
        if isinstance(obj, np.dtype):
            return {"$dtype": obj.str}
        if hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__"):
            return self._param_array(obj)
        if type(obj) is tuple:
            return {"$tuple": [self(o) for o in obj]}
        if type(obj) is list:
            return [self(o) for o in obj]
        if type(obj) is dict:
            return {"$dict": [[self(k), self(v)] for k, v in obj.items()]}
        if type(obj) is slice:
            return {"$slice": [self(obj.start), self(obj.stop), self(obj.step)]}
        if obj is Ellipsis:
            return {"$ellipsis": True}
        hit = self._objects.get(type(obj))
        if hit is not None:
            return {"$obj": hit[0], "args": [self(a) for a in hit[1](obj)]}
        raise TypeError(f"ember.jit.save: can't store an argument of type {type(obj).__name__} ({obj!r})")

    def _param_array(self, arr):
        """An array argument: a reference to a parameter/buffer when it is one (or a view of one)."""
        for candidate in (arr, getattr(arr, "base", None)):
            name = self._by_id.get(id(candidate)) if candidate is not None else None
            if name is not None:
                return {"$param_array": name, "shape": list(arr.shape)}
        return {"$array": self._array(arr)}

    def _array(self, arr):
        key = self._array_keys.get(id(arr))
        if key is None:
            key = self._array_keys[id(arr)] = f"a{len(self.arrays)}"
            self.arrays[key] = Tensor._make(arr.get() if hasattr(arr, "get") else np.ascontiguousarray(arr))
        return key


class _Decoder:
    def __init__(self, named, arrays):
        self.named, self.arrays = named, arrays
        self.values = {}
        self._objects = {tag: build for tag, (_, _, build) in _object_table().items()}

    def __call__(self, obj):
        if isinstance(obj, list):
            return [self(o) for o in obj]
        if not isinstance(obj, dict):
            return obj
        if len(obj) == 1 or "$param_array" in obj or "$obj" in obj:
            if "$v" in obj:
                return self.values[obj["$v"]]
            if "$param" in obj:
                return self.named[obj["$param"]]
            if "$param_array" in obj:
                return self.named[obj["$param_array"]]._data.reshape(obj["shape"])
            if "$tensor" in obj:
                return self.arrays[obj["$tensor"]]
            if "$array" in obj:
                return self.arrays[obj["$array"]]._data
            if "$scalar" in obj:
                code, value = obj["$scalar"]
                return np.dtype(code).type(value)
            if "$edtype" in obj:
                return getattr(dtypes, obj["$edtype"])
            if "$dtype" in obj:
                return np.dtype(obj["$dtype"])
            if "$tuple" in obj:
                return tuple(self(o) for o in obj["$tuple"])
            if "$dict" in obj:
                return {self(k): self(v) for k, v in obj["$dict"]}
            if "$slice" in obj:
                return slice(*(self(o) for o in obj["$slice"]))
            if "$ellipsis" in obj:
                return Ellipsis
            if "$obj" in obj:
                build = self._objects.get(obj["$obj"])
                if build is None:
                    raise RuntimeError(f"ember.jit.load: unknown argument object {obj['$obj']!r}")
                return build([self(a) for a in obj["args"]])
        raise RuntimeError(f"ember.jit.load: malformed argument {obj!r}")


def _value_json(v):
    return {"name": v.name, "kind": v.kind, "shape": list(v.shape), "dtype": v.dtype.str}


def _value(d):
    return Value(d["name"], d["kind"], d["shape"], d["dtype"])


def dump(graph, named, buffers, meta):
    """The object ``ember.save`` writes for ``graph`` with tensors ``named`` (name -> Tensor)."""
    enc = _Encoder(named)
    nodes = []
    for node in graph.nodes:
        nodes.append({
            "op": f"{node.op.__module__}.{node.op.__qualname__}",
            "args": enc(tuple(node.args)),
            "kwargs": enc(dict(node.kwargs)),
            "outputs": [_value_json(v) for v in node.outputs],
            "single": node.single,
            "where": node.where,
        })
    doc = {
        "inputs": [_value_json(v) for v in graph.inputs],
        "params": [_value_json(v) for v in graph.params],
        "constants": sorted(graph.constants),
        "nodes": nodes,
        "outputs": enc(graph.outputs),
        "meta": meta,
    }
    consts = {k: Tensor._make(np.ascontiguousarray(a)) for k, a in graph.constants.items()}
    return {
        "format": FORMAT,
        "version": VERSION,
        "graph": json.dumps(doc),
        "tensors": {k: t.detach() for k, t in named.items()},
        "buffers": sorted(buffers),
        "constants": consts,
        "arrays": enc.arrays,
    }


def restore(obj):
    """(graph, named tensors, buffer names, meta) from what ``dump`` produced and ``ember.load`` read."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise RuntimeError("ember.jit.load: the file is not an ember.jit archive (saved by ScriptModule.save)")
    if obj.get("version") != VERSION:
        raise RuntimeError(f"ember.jit.load: unsupported ember.jit archive version {obj.get('version')!r}")
    doc = json.loads(obj["graph"])
    named = dict(obj["tensors"])
    dec = _Decoder(named, obj["arrays"])
    table = primitive_table()
    inputs = [_value(d) for d in doc["inputs"]]
    params = [_value(d) for d in doc["params"]]
    for v in inputs + params:
        dec.values[v.name] = v
    constants = {}
    for name in doc["constants"]:
        constants[name] = obj["constants"][name]._data
        dec.values[name] = Value(name, "const", constants[name].shape, constants[name].dtype)
    nodes = []
    for d in doc["nodes"]:
        op = table.get(d["op"])
        if op is None:
            raise RuntimeError(f"ember.jit.load: the graph uses {d['op']!r}, which is not a primitive of this ember")
        args, kwargs = dec(d["args"]), dec(d["kwargs"])
        outs = [_value(o) for o in d["outputs"]]
        for v in outs:
            dec.values[v.name] = v
        nodes.append(Node(op, tuple(args), dict(kwargs), outs, d["single"], d.get("where", "")))
    graph = Graph(inputs, nodes, dec(doc["outputs"]), params, constants)
    return graph, named, set(obj["buffers"]), doc.get("meta", {})
