"""What a symbolic function (one primitive -> ONNX nodes) works with while a graph is exported."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .errors import OnnxExporterError


class ExportContext:
    """Collects ONNX nodes and initializers for one traced graph.

    ``shapes`` / ``shapes2`` map each traced value name to its shape in the example trace and in a second
    trace with the dynamic axes resized (equal to ``shapes`` without dynamic axes): a dimension that
    differs between them is dynamic and is computed at run time from the inputs' shapes.
    """

    def __init__(self, onnx, opset, shapes, shapes2, values, dim_names):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset = opset
        self.shapes, self.shapes2 = shapes, shapes2
        self.values = values  # traced name -> array (from replaying the trace), for constants
        self.dim_names = dim_names
        self.nodes, self.initializers = [], {}
        self.names = {}  # traced value name -> ONNX tensor name
        self.graph_inputs = []  # traced input Values
        self._n = 0
        self._consts = {}
        self.named = {}  # the module's parameters and buffers by state_dict name
        self.folded = {}  # traced name -> Tensor for values computed from parameters and constants only
        self.twins = {}  # id(node) -> the node at its place in the second trace (with dynamic axes)

    def param_initializer(self, name):
        """The initializer named ``name`` holding that parameter/buffer (added on first use)."""
        if name not in self.initializers:
            arr = self.named[name]._data
            self.initializers[name] = arr.get() if hasattr(arr, "get") else arr
        return name

    def constant_value(self, v):
        """The array of traced Value ``v`` when it is known at export time (parameters, folded constants)."""
        t = self.folded.get(v.name)
        if t is None:
            return None
        arr = t._data
        return arr.get() if hasattr(arr, "get") else np.asarray(arr)

    # -- names -----------------------------------------------------------------------------------
    def fresh(self, hint="t"):
        self._n += 1
        return f"/{hint}_{self._n}"

    def name(self, v):
        """The ONNX name carrying traced Value ``v``."""
        try:
            return self.names[v.name]
        except KeyError:
            raise OnnxExporterError(f"internal error: value %{v.name} is used before it is defined") from None

    def op(self, op_type, inputs, outputs=1, domain=None, **attrs):
        """Append a node; returns its output name (or the list of names when ``outputs`` > 1)."""
        outs = [self.fresh(op_type) for _ in range(outputs)] if isinstance(outputs, int) else list(outputs)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=outs[0].lstrip("/") + "_node",
                                                **({"domain": domain} if domain else {}), **attrs))
        return outs[0] if len(outs) == 1 else outs

    def const(self, array, hint="const"):
        """An initializer holding ``array`` (small constants are shared)."""
        arr = np.asarray(array)
        key = None
        if arr.size <= 16:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers[name] = arr
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64), "ints")

    def scalar(self, value, dtype):
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    # -- shapes ----------------------------------------------------------------------------------
    def shape(self, v):
        return self.shapes[v.name]

    def dynamic_dims(self, v):
        return [i for i, (a, b) in enumerate(zip(self.shapes[v.name], self.shapes2[v.name])) if a != b]

    def is_dynamic(self, v) -> bool:
        return bool(self.dynamic_dims(v))

    def _dim_expr(self, v, k, sources):
        """ONNX int64 [1] tensor for dimension ``k`` of ``v``: a product of dynamic dimensions of one
        source times ``p / q``, or else one dynamic dimension plus a constant, found from the sizes in
        the two traces (each named dynamic axis grows by a different amount, so the match is unique)."""
        o1, o2 = self.shapes[v.name][k], self.shapes2[v.name][k]
        for src in sources:
            s1, s2 = self.shapes[src.name], self.shapes2[src.name]
            dyn = [j for j, (a, b) in enumerate(zip(s1, s2)) if a != b and a != 0]
            subsets = [[j] for j in dyn] + [list(c) for r in range(2, len(dyn) + 1) for c in itertools.combinations(dyn, r)]
            for js in subsets:
                i1, i2 = math.prod(s1[j] for j in js), math.prod(s2[j] for j in js)
                g = math.gcd(o1, i1) or 1
                p, q = o1 // g, i1 // g
                if i2 * p != o2 * q:
                    continue
                shape = self.op("Shape", [self.name(src)])
                dim = None
                for j in js:
                    d = self.op("Gather", [shape, self.ints([j])], axis=0)
                    dim = d if dim is None else self.op("Mul", [dim, d])
                if p != 1:
                    dim = self.op("Mul", [dim, self.ints([p])])
                if q != 1:
                    dim = self.op("Div", [dim, self.ints([q])])
                return dim
        for src in sources:  # else a dynamic dimension plus a constant (a prepended CLS token: length + 1)
            s1, s2 = self.shapes[src.name], self.shapes2[src.name]
            for j, (a, b) in enumerate(zip(s1, s2)):
                if a != b and b - a == o2 - o1:
                    dim = self.op("Gather", [self.op("Shape", [self.name(src)]), self.ints([j])], axis=0)
                    return self.op("Add", [dim, self.ints([o1 - a])]) if o1 != a else dim
        found = self._quotient(o1, o2, sources)
        if found is not None:
            return found
        raise OnnxExporterError(
            f"can't express dimension {k} of %{v.name} (size {o1}, {o2} in the two traces) from the dynamic "
            "axes of its inputs; export without dynamic_axes for this axis"
        )

    def _quotient(self, o1, o2, sources):
        """A dimension of size ``o1`` / ``o2`` in the two traces as (one or two dynamic dimensions) / (another
        dynamic dimension) * p / q, the dimensions taken from any of ``sources``: e.g. the frame count of a
        (batch * frames, mels) matrix reshaped back to (batch, frames, mels) is its first dimension divided
        by the batch size of the graph input."""
        dims = []
        for src in sources:
            s1, s2 = self.shapes[src.name], self.shapes2[src.name]
            dims += [(src, j, a, b) for j, (a, b) in enumerate(zip(s1, s2)) if a != b and a != 0 and b != 0]
        numerators = [[d] for d in dims] + [list(c) for c in itertools.combinations(dims, 2)]
        for num in numerators:
            n1, n2 = math.prod(d[2] for d in num), math.prod(d[3] for d in num)
            for den in dims:
                if any(den[:2] == d[:2] for d in num):
                    continue
                g = math.gcd(o1 * den[2], n1) or 1
                p, q = o1 * den[2] // g, n1 // g  # o1 = n1 / den1 * p / q
                if o2 * den[3] * q != n2 * p:
                    continue
                value = None
                for src, j, _, _ in num:
                    d = self.op("Gather", [self.op("Shape", [self.name(src)]), self.ints([j])], axis=0)
                    value = d if value is None else self.op("Mul", [value, d])
                if p != 1:
                    value = self.op("Mul", [value, self.ints([p])])
                divisor = self.op("Gather", [self.op("Shape", [self.name(den[0])]), self.ints([den[1]])], axis=0)
                if q != 1:
                    divisor = self.op("Mul", [divisor, self.ints([q])])
                return self.op("Div", [value, divisor])
        return None

    def shape_tensor(self, v, sources):
        """The shape of traced value ``v`` as an ONNX int64 tensor: constant where static, computed from
        the shapes of ``sources`` (traced Values, graph inputs last) along dynamic axes."""
        dyn = self.dynamic_dims(v)
        shape = self.shapes[v.name]
        if not dyn:
            return self.ints(shape)
        sources = list(sources) + [x for x in self.graph_inputs if x not in sources]
        parts, run = [], []
        for k, s in enumerate(shape):
            if k in dyn:
                if run:
                    parts.append(self.ints(run))
                    run = []
                parts.append(self._dim_expr(v, k, sources))
            else:
                run.append(s)
        if run:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=0)
