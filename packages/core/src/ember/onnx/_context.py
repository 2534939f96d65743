"""What a symbolic function (one primitive -> ONNX nodes) works with while a graph is exported."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .errors import OnnxExporterError


class ExportContext:
    """Collects ONNX nodes and initializers for one traced graph.

    ``shapes`` maps each traced value name to its shape in the example trace; ``later`` holds the same
    maps for the traces with the dynamic axes resized (empty without dynamic axes; ``shapes2`` is the
    first of them): a dimension that differs between the traces is dynamic and is computed at run time
    from the inputs' shapes.
    """

    def __init__(self, onnx, opset, shapes, later, values, dim_names):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset = opset
        self.shapes, self.later = shapes, list(later)
        self.shapes2 = self.later[0] if self.later else shapes
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
        first = self.shapes[v.name]
        return [i for i in range(len(first)) if any(t[v.name][i] != first[i] for t in self.later)]

    def is_dynamic(self, v) -> bool:
        return bool(self.dynamic_dims(v))

    def _sizes(self, v, dims):
        """The product of dimensions ``dims`` of ``v`` in each trace (the example's first)."""
        return [math.prod(t[v.name][j] for j in dims) for t in [self.shapes] + self.later]

    def _dim_of(self, src, j):
        return self.op("Gather", [self.op("Shape", [self.name(src)]), self.ints([j])], axis=0)

    def _dim_expr(self, v, k, sources):
        """ONNX int64 [1] tensor for dimension ``k`` of ``v``, found from its sizes in the traces: a product
        of dynamic dimensions of one source times ``p / q``; else one dynamic dimension plus a constant;
        else a quotient of dynamic dimensions of any sources (``_quotient``). A candidate must fit every
        trace: each grows the named axes by different amounts and ratios, so that sizes related to
        different axes (a frame count ``1 + length // hop`` and a batch size) can't fit them all by chance."""
        out = self._sizes(v, [k])
        for src in sources:
            dyn = [j for j in self.dynamic_dims(src) if self.shapes[src.name][j] != 0]
            subsets = [[j] for j in dyn] + [list(c) for r in range(2, len(dyn) + 1) for c in itertools.combinations(dyn, r)]
            for js in subsets:
                ins = self._sizes(src, js)
                g = math.gcd(out[0], ins[0]) or 1
                p, q = out[0] // g, ins[0] // g
                if any(i * p != o * q for i, o in zip(ins[1:], out[1:])):
                    continue
                dim = None
                for j in js:
                    d = self._dim_of(src, j)
                    dim = d if dim is None else self.op("Mul", [dim, d])
                if p != 1:
                    dim = self.op("Mul", [dim, self.ints([p])])
                if q != 1:
                    dim = self.op("Div", [dim, self.ints([q])])
                return dim
        for src in sources:  # else a dynamic dimension plus a constant (a prepended CLS token: length + 1)
            for j in self.dynamic_dims(src):
                ins = self._sizes(src, [j])
                if all(o - i == out[0] - ins[0] for i, o in zip(ins, out)):
                    dim = self._dim_of(src, j)
                    return self.op("Add", [dim, self.ints([out[0] - ins[0]])]) if out[0] != ins[0] else dim
        found = self._quotient(out, sources)
        if found is not None:
            return found
        raise OnnxExporterError(
            f"can't express dimension {k} of %{v.name} (size {out[0]} in the example, {', '.join(map(str, out[1:]))} "
            "with the dynamic axes resized) from the dynamic axes of its inputs; export without dynamic_axes for "
            "this axis"
        )

    def _quotient(self, out, sources):
        """A dimension of sizes ``out`` (one per trace) as (one or two dynamic dimensions) / (another dynamic
        dimension) * p / q, the dimensions taken from any of ``sources``: e.g. the frame count of a
        (batch * frames, mels) matrix reshaped back to (batch, frames, mels) is its first dimension divided
        by the batch size of the graph input."""
        dims = []
        for src in sources:
            dims += [(src, j, self._sizes(src, [j])) for j in self.dynamic_dims(src) if 0 not in self._sizes(src, [j])]
        numerators = [[d] for d in dims] + [list(c) for c in itertools.combinations(dims, 2)]
        for num in numerators:
            ns = [math.prod(d[2][t] for d in num) for t in range(len(out))]
            for den in dims:
                if any(den[0] is d[0] and den[1] == d[1] for d in num):
                    continue
                g = math.gcd(out[0] * den[2][0], ns[0]) or 1
                p, q = out[0] * den[2][0] // g, ns[0] // g  # out = num / den * p / q
                if any(o * dn * q != n * p for o, dn, n in zip(out[1:], den[2][1:], ns[1:])):
                    continue
                value = None
                for src, j, _ in num:
                    d = self._dim_of(src, j)
                    value = d if value is None else self.op("Mul", [value, d])
                if p != 1:
                    value = self.op("Mul", [value, self.ints([p])])
                divisor = self._dim_of(den[0], den[1])
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
