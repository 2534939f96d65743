"""``ember.onnx.load``: an ONNX graph as an ``ember.nn.Module`` (initializers become parameters).

The file is only parsed (protobuf) and checked; each node is run by the ember function registered for
its op type in ``_ops.OPS``. Nothing from the file is imported or executed as code.
"""

from __future__ import annotations

import os

import numpy as np

from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from ._ops import DTYPES, OPS
from .errors import OnnxImportError

MIN_OPSET, MAX_OPSET = 13, 21


def _read(f):
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "the ONNX stream")
    path = os.fspath(f)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember.onnx.load: no such file: {path!r}")
    with open(path, "rb") as fh:
        return fh.read(), repr(path)


def _attrs(node, onnx):
    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        elif not isinstance(value, (int, float, list, str, np.ndarray)):
            raise OnnxImportError(f"node {node.name or node.op_type}: attribute {a.name!r} of a kind ember.onnx.load "
                                  "does not support (graphs, sparse tensors, ...)")
        out[a.name] = value
    return out


def _state_key(name, taken):
    key = name.replace(".", "_") if any(not p for p in name.split(".")) else name
    return key if key not in taken else f"{key}_{len(taken)}"


class OnnxModule(Module):
    """An ONNX graph run with ember ops. Parameters are the graph's floating-point initializers (named as in
    the file, e.g. ``fc.weight``), so the module can be fine-tuned; integer initializers and batch-norm
    statistics are buffers. Call it with the graph's inputs, positionally or by name."""

    def __init__(self, proto, opset, source="the ONNX model"):
        super().__init__()
        import onnx

        from ..jit._module import _attach

        graph = proto.graph
        self.opset, self.source = opset, source
        buffers_only = set()
        for node in graph.node:
            if node.op_type == "BatchNormalization":
                buffers_only.update(node.input[3:5])
        self._keys = {}
        for init in graph.initializer:
            if init.data_location == onnx.TensorProto.EXTERNAL:
                raise OnnxImportError(f"{source}: initializer {init.name!r} is stored in an external file, which "
                                      "ember.onnx.load does not read")
            arr = onnx.numpy_helper.to_array(init).copy()
            key = _state_key(init.name, self._keys.values())
            t = Tensor._make(arr)
            is_buffer = arr.dtype.kind != "f" or init.name in buffers_only
            try:
                _attach(self, key, t if is_buffer else Parameter(t), is_buffer)
            except (KeyError, AttributeError, TypeError):
                key = _state_key(init.name.replace(".", "_"), self._keys.values())
                _attach(self, key, t if is_buffer else Parameter(t), is_buffer)
            self._keys[init.name] = key
        self.input_names, self._input_specs = [], []
        for vi in graph.input:
            if vi.name in self._keys:
                continue
            tt = vi.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            self.input_names.append(vi.name)
            self._input_specs.append((dims if tt.HasField("shape") else None, tt.elem_type))
        self.output_names = [o.name for o in graph.output]
        defined = set(self._keys) | set(self.input_names) | {""}
        self._nodes = []
        for node in graph.node:
            if node.domain not in ("", "ai.onnx"):
                raise OnnxImportError(f"{source}: node {node.name!r} uses the custom domain {node.domain!r}")
            for name in node.input:
                if name not in defined:
                    raise OnnxImportError(f"{source}: node {node.name or node.op_type} reads {name!r}, which no earlier "
                                          "node, input or initializer defines (a malformed or unsorted graph)")
            defined.update(node.output)
            self._nodes.append((node.op_type, list(node.input), list(node.output), _attrs(node, onnx),
                                node.name or node.op_type))
        for name in self.output_names:
            if name not in defined:
                raise OnnxImportError(f"{source}: graph output {name!r} is never computed")

    def _bind(self, args, kwargs):
        names = self.input_names
        if len(args) > len(names):
            raise TypeError(f"this ONNX graph takes {len(names)} input(s) {names}, got {len(args)}")
        feeds = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"this ONNX graph has no input named {name!r}; its inputs are {names}")
            if name in feeds:
                raise TypeError(f"input {name!r} given twice")
            feeds[name] = value
        missing = [n for n in names if n not in feeds]
        if missing:
            raise TypeError(f"missing ONNX graph input(s) {missing}; the graph's inputs are {names}")
        for name, (dims, elem) in zip(names, self._input_specs):
            t = feeds[name]
            if not isinstance(t, Tensor):
                raise TypeError(f"input {name!r} must be a Tensor, got {type(t).__name__}")
            if dims is not None and (len(dims) != t.dim() or any(d and d != s for d, s in zip(dims, t.shape))):
                want = [d if d else "?" for d in dims]
                raise ValueError(f"input {name!r} has shape {list(t.shape)}, but the graph expects {want}")
            if elem in DTYPES and DTYPES[elem] != t.dtype:
                raise ValueError(f"input {name!r} has dtype {t.dtype}, but the graph expects {DTYPES[elem]}")
        return feeds

    def forward(self, *args, **kwargs):
        env = self._bind(args, kwargs)
        named = dict(self.named_parameters(remove_duplicate=False))
        named.update(self.named_buffers(remove_duplicate=False))
        for onnx_name, key in self._keys.items():
            env[onnx_name] = named[key]
        for op_type, ins, outs, attrs, label in self._nodes:
            if op_type == "Constant":
                env[outs[0]] = _constant(attrs, label)
                continue
            try:
                res = OPS[op_type]([env[n] if n else None for n in ins], attrs)
            except OnnxImportError:
                raise
            except Exception as exc:
                raise OnnxImportError(f"{self.source}: node {label} ({op_type}) failed: {exc}") from exc
            res = res if isinstance(res, tuple) else (res,)
            for name, value in zip(outs, res):
                if name:
                    env[name] = value
        result = tuple(env[n] for n in self.output_names)
        return result[0] if len(result) == 1 else result

    def extra_repr(self):
        return f"inputs={self.input_names}, outputs={self.output_names}, nodes={len(self._nodes)}, opset={self.opset}"


def _constant(attrs, label):
    if "value" in attrs:
        arr = attrs["value"]
    elif "value_float" in attrs:
        arr = np.asarray(attrs["value_float"], dtype=np.float32)
    elif "value_floats" in attrs:
        arr = np.asarray(attrs["value_floats"], dtype=np.float32)
    elif "value_int" in attrs:
        arr = np.asarray(attrs["value_int"], dtype=np.int64)
    elif "value_ints" in attrs:
        arr = np.asarray(attrs["value_ints"], dtype=np.int64)
    else:
        raise OnnxImportError(f"Constant node {label}: only tensor, float(s) and int(s) values are supported")
    return Tensor._make(np.array(arr))


def load(f):
    """Read an ONNX model (a path or binary file) as an :class:`OnnxModule` running it with ember ops.

    Supported: the default ONNX domain, opsets 13 to 21, the op types in ``ember.onnx.supported_onnx_ops()``.
    A malformed or truncated file, another opset or an unsupported op raises :class:`OnnxImportError`
    naming the problem. The file is only parsed and checked: no code from it is ever run.
    """
    from ._export import require_onnx

    onnx = require_onnx()
    data, where = _read(f)
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:
        raise OnnxImportError(f"{where} is not a valid ONNX model (truncated or corrupt file?): {exc}") from None
    if not proto.HasField("graph") or not proto.graph.output:
        raise OnnxImportError(f"{where} is not a valid ONNX model: it has no graph with outputs (truncated or not an "
                              "ONNX file?)")
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise OnnxImportError(f"{where} fails onnx.checker (malformed or truncated): {exc}") from None
    opset = None
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            opset = imp.version
        else:
            raise OnnxImportError(f"{where} uses the operator domain {imp.domain!r}; ember.onnx.load runs the default "
                                  "ONNX domain only")
    if opset is None or not MIN_OPSET <= opset <= MAX_OPSET:
        raise OnnxImportError(f"{where} uses ONNX opset {opset}; ember.onnx.load supports opsets {MIN_OPSET} to "
                              f"{MAX_OPSET} (re-export it, or convert it with onnx.version_converter)")
    missing = sorted({n.op_type for n in proto.graph.node if n.op_type not in OPS and n.op_type != "Constant"})
    if missing:
        raise OnnxImportError(f"{where}: ONNX operator(s) {', '.join(missing)} (opset {opset}) are not supported by "
                              "ember.onnx.load")
    return OnnxModule(proto, opset, where)


def supported_onnx_ops():
    """The ONNX op types ``load`` can run."""
    return sorted(set(OPS) | {"Constant"})
