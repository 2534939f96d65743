"""``ember.onnx.export``: trace the model, translate each primitive through the table in ``_symbolic``,
check the result with ``onnx.checker`` and write it."""

from __future__ import annotations

import numpy as np

from .. import __version__
from ..autograd.grad_mode import no_grad
from ..jit import record
from ..jit._graph import Value
from ..tensor import Tensor
from ._context import ExportContext
from ._symbolic import SYMBOLICS, requires_opset
from ._symbolic_spectral import COMPLEX_SYMBOLICS, is_complex
from .errors import OnnxExporterError, UnsupportedOperatorError

MIN_OPSET, MAX_OPSET = 13, 21


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ember.onnx needs the 'onnx' package: install it with `pip install onnx` (or `pip install ember[onnx]`, "
            "which also installs onnxruntime to run the exported files)"
        ) from None
    return onnx


def _args_tuple(args):
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, (tuple, list)):
        if args and isinstance(args[-1], dict):
            if args[-1]:
                raise OnnxExporterError("ember.onnx.export: keyword arguments to forward are not supported")
            args = args[:-1]
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                raise OnnxExporterError(f"ember.onnx.export: argument {i} must be a Tensor, got {type(a).__name__}")
        return tuple(args)
    raise OnnxExporterError(f"ember.onnx.export: args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")


def _flat(obj):
    if isinstance(obj, Value):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    out = []
    for o in obj:
        out += _flat(o)
    return out


def _axes_of(spec, name):
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(spec)}
    raise OnnxExporterError(f"dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes")


def _growths(args, in_dyn, trace=1, scaled=True):
    """How much each named dynamic axis grows in resized trace ``trace`` (1 or 2): the same for every input
    sharing the name, and different per axis both in amount and relative to the size, so that a size
    derived from one axis (the length plus one, or twice the batch) is never mistaken for another axis's
    size; the two traces grow the axes by different ratios, so that a size fitting both by chance (a
    frame count that happens to triple with the batch) is rare, and one fitting the three sizes rarer.

    ``scaled``: the k-th named axis grows to about (k + 1 + trace) times its size. Sizes computed by floor
    division (a frame count ``1 + length // hop``) then change too (a step of one or two samples may leave
    them equal, and they would be exported as constants). Without ``scaled``, the steps are small (for
    models that refuse larger inputs, such as a positional table of fixed length)."""
    from fractions import Fraction

    labels = list(dict.fromkeys(label for axes in in_dyn.values() for label in axes.values()))
    growth, ratios = {}, set()
    for i, axes in in_dyn.items():
        for ax, label in axes.items():
            if label in growth:
                continue
            size, k = max(1, args[i].shape[ax]), labels.index(label)
            step = (k + trace) * size + trace if scaled else k + 1 + (trace - 1) * len(labels)
            while step in growth.values() or Fraction(step, size) in ratios:
                step += 1
            growth[label] = step
            ratios.add(Fraction(step, size))
    return growth


def _resized(t, growth):
    """``t`` grown along each axis of ``growth`` (axis -> extra size); values repeat cyclically, so that
    indices stay valid."""
    arr = t.detach().cpu().numpy()
    for ax, extra in growth.items():
        arr = np.take(arr, np.arange(arr.shape[ax] + extra), axis=ax, mode="wrap")
    return Tensor._make(np.ascontiguousarray(arr)).to(t.device)


def _all_shapes(graph):
    shapes = {v.name: v.shape for v in list(graph.inputs) + list(graph.params)}
    shapes.update({k: tuple(a.shape) for k, a in graph.constants.items()})
    for node in graph.nodes:
        for v in node.outputs:
            shapes[v.name] = v.shape
    return shapes


_ELEM = {
    "float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9, "float16": 10,
    "float64": 11,
}


def elem_type(dtype):
    try:
        return _ELEM[np.dtype(dtype).name]
    except KeyError:
        raise OnnxExporterError(f"ember.onnx.export: dtype {np.dtype(dtype)} has no ONNX element type here") from None


def _host(arr):
    return arr.get() if hasattr(arr, "get") else np.asarray(arr)


def _onnx_array(arr):
    """``arr`` as ONNX Runtime holds it: a complex array as its real view (a trailing dimension of 2)."""
    arr = _host(arr)
    return np.stack([arr.real, arr.imag], axis=-1) if arr.dtype.kind == "c" else arr


def _value_type(v):
    """(ONNX element type, extra trailing dims) of traced Value ``v`` (complex: its real view)."""
    if is_complex(v):
        return elem_type(np.float64 if v.dtype == np.complex128 else np.float32), [2]
    return elem_type(v.dtype), []


def _progression(arr, arr2):
    """(start, step) when the 1-D constants ``arr`` and ``arr2`` (the same constant in the two traces) are
    both ``start + step * arange(n)`` (an ``arange`` sized by a dynamic axis), else None."""
    if arr2 is None or arr.ndim != 1 or arr2.ndim != 1 or min(arr.size, arr2.size) < 2 or arr.dtype != arr2.dtype:
        return None
    if arr.dtype.kind not in "iuf":
        return None
    start, step = arr[0].item(), (arr[1] - arr[0]).item()
    for a in (arr, arr2):
        expected = start + step * np.arange(a.size, dtype=np.float64)
        if not np.array_equal(a.astype(np.float64), expected.astype(a.dtype).astype(np.float64)):
            return None
    return start, step


# Primitives whose table entries take their sizes from the run-time shapes (or check the resized trace
# themselves), so that recorded arguments that change with the dynamic axes (a target shape, pads, a
# pooling geometry's input size, a variance's count) are not baked into the file.
_SIZES_AT_RUN_TIME = frozenset({"Reshape", "View", "Expand", "Index", "Convolution", "MaxPool2dFn", "AvgPool2dFn",
                                "_Normalize", "_AxisTaps", "_Var"})


def _recorded(obj):
    """A comparable form of a node's recorded non-tensor arguments (tensors compare equal)."""
    if isinstance(obj, Value):
        return ("tensor",)
    if isinstance(obj, (tuple, list)):
        return tuple(_recorded(o) for o in obj)
    if isinstance(obj, dict):
        return tuple((k, _recorded(v)) for k, v in obj.items())
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and not isinstance(obj, np.generic):
        arr = _host(obj)
        return ("array", arr.shape, str(arr.dtype), arr.tobytes())
    if isinstance(obj, (int, float, complex, str, bool, slice, type, np.generic, np.dtype)) or obj is None \
            or obj is Ellipsis or callable(obj):
        return obj
    if hasattr(obj, "__slots__"):
        return (type(obj).__name__,) + tuple(_recorded(getattr(obj, a, None)) for a in obj.__slots__)
    if hasattr(obj, "__dict__"):
        return (type(obj).__name__, _recorded(dict(vars(obj))))
    return repr(obj)


def _check_sizes_kept(node, twin):
    """Refuse a primitive whose recorded sizes follow the dynamic axes but whose mapping would keep the
    example's (``F.pad(x, (0, x.shape[1]))``, ``x.repeat(x.shape[0], 1)``)."""
    if twin is None or node.kind in _SIZES_AT_RUN_TIME:
        return
    if _recorded((node.args, node.kwargs)) != _recorded((twin.args, twin.kwargs)):
        raise OnnxExporterError(
            f"{node.kind} at {node.where or 'the model'}: its recorded arguments (sizes, pads, counts read from "
            "the input's shape) change with the dynamic axes, and its ONNX mapping would keep the example's; "
            "export without dynamic_axes for these axes, or compute them from tensors"
        )


def _same_progression(arr, others):
    """Whether ``arr`` and each of ``others`` (the constant in the resized traces) are one progression."""
    found = [_progression(arr, o) for o in others]
    return bool(found) and found[0] is not None and all(f == found[0] for f in found)


def build_model(model, args, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
                do_constant_folding=True, export_params=True):
    """The ``onnx.ModelProto`` for ``model(*args)`` (``export`` without writing it)."""
    onnx = require_onnx()
    if not MIN_OPSET <= int(opset_version) <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export supports opset_version {MIN_OPSET} to {MAX_OPSET}, got {opset_version}")
    opset = int(opset_version)
    args = _args_tuple(args)
    with no_grad():
        graph, _, named, _ = record(model, args, strict=False, warn_dropout=False)
    in_names = list(input_names or [])
    if len(in_names) > len(graph.inputs):
        raise OnnxExporterError(f"{len(in_names)} input_names given for a model with {len(graph.inputs)} inputs")
    default_in = ["input"] if len(graph.inputs) == 1 else [f"input_{i}" for i in range(len(graph.inputs))]
    in_names += default_in[len(in_names):]
    outs = _flat(graph.outputs)
    out_names = list(output_names or [])
    if len(out_names) > len(outs):
        raise OnnxExporterError(f"{len(out_names)} output_names given for a model with {len(outs)} outputs")
    default_out = ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
    out_names += default_out[len(out_names):]
    dyn = {}
    for key, spec in (dynamic_axes or {}).items():
        if key not in in_names and key not in out_names:
            raise OnnxExporterError(f"dynamic_axes names {key!r}, which is neither an input nor an output name "
                                    f"(inputs {in_names}, outputs {out_names})")
        dyn[key] = _axes_of(spec, key)

    shapes = _all_shapes(graph)
    later, later_consts, twins = [], [], {}
    in_dyn = {i: dyn.get(n, {}) for i, n in enumerate(in_names)}
    if any(in_dyn.values()):
        for i, axes in in_dyn.items():
            for ax in axes:
                if not -args[i].dim() <= ax < args[i].dim():
                    raise OnnxExporterError(f"dynamic axis {ax} of input {in_names[i]!r} is out of range for its "
                                            f"shape {list(args[i].shape)}")
        for scaled in (True, False):
            try:
                resized = []
                for trace in (1, 2):
                    growth = _growths(args, in_dyn, trace, scaled)
                    args2 = tuple(_resized(a, {ax % a.dim(): growth[lb] for ax, lb in in_dyn[i].items()})
                                  for i, a in enumerate(args))
                    with no_grad():
                        resized.append(record(model, args2, strict=False, warn_dropout=False)[0])
                break
            except Exception:  # the model refuses the larger sizes: try small steps
                if not scaled:
                    raise
        if any([n.kind for n in g.nodes] != [n.kind for n in graph.nodes] for g in resized):
            raise OnnxExporterError(
                "the traced graph changes when the dynamic axes change size (the model's Python control flow "
                "depends on them); export without dynamic_axes, or with a fixed size for these axes"
            )
        later = [_all_shapes(g) for g in resized]
        later_consts = [g.constants for g in resized]
        twins = {id(a): b for a, b in zip(graph.nodes, resized[0].nodes)}

    ctx = ExportContext(onnx, opset, shapes, later, {}, dyn)

    def static(name):
        return all(t[name] == shapes[name] for t in later)

    ctx.twins = twins
    ctx.named = named
    helper = onnx.helper
    inputs_vi, initializers = [], {}
    for i, (v, name) in enumerate(zip(graph.inputs, in_names)):
        if is_complex(v):
            raise OnnxExporterError(f"input {name!r} is complex ({v.dtype}): ONNX Runtime has no complex inputs; "
                                    "pass ember.view_as_real(x) and call ember.view_as_complex in the model")
        ctx.names[v.name] = name
        ctx.graph_inputs.append(v)
        dims = [in_dyn[i].get(k, in_dyn[i].get(k - len(v.shape))) or s for k, s in enumerate(v.shape)]
        inputs_vi.append(helper.make_tensor_value_info(name, elem_type(v.dtype), dims))
    folded = ctx.folded
    for v in graph.params:
        ctx.names[v.name] = v.name
        folded[v.name] = named[v.name]
        if export_params:
            initializers[v.name] = _host(named[v.name]._data)
        else:
            inputs_vi.append(helper.make_tensor_value_info(v.name, elem_type(v.dtype), list(v.shape)))
    for name, arr in graph.constants.items():
        cv = Value(name, "const", arr.shape, arr.dtype)
        if static(name):
            ctx.names[name] = ctx.const(_onnx_array(arr), "Constant")
            folded[name] = Tensor._make(arr)
        elif arr.size and (arr == arr.reshape(-1)[0]).all():  # e.g. zero initial states sized by the batch
            value = helper.make_tensor("value", elem_type(arr.dtype), [1], [arr.reshape(-1)[0].item()])
            ctx.names[name] = ctx.op("ConstantOfShape", [ctx.shape_tensor(cv, [])], value=value)
        elif _same_progression(arr, [c.get(name) for c in later_consts]):  # arange(seq_len): positions, masks
            start, step = _progression(arr, later_consts[0][name])
            count = ctx.shape_tensor(cv, [])
            first, delta = ctx.scalar(start, arr.dtype), ctx.scalar(step, arr.dtype)
            count = ctx.op("Cast", [ctx.op("Squeeze", [count, ctx.ints([0])])], to=elem_type(arr.dtype))
            limit = ctx.op("Add", [first, ctx.op("Mul", [count, delta])])
            ctx.names[name] = ctx.op("Range", [first, limit, delta])
        else:
            raise OnnxExporterError(f"a constant of shape {list(arr.shape)} captured while tracing depends on the "
                                    "dynamic axes; it can't be exported with dynamic_axes")

    from ..jit._graph import map_values

    for node in graph.nodes:
        ins = node.inputs()
        if do_constant_folding and all(v.name in folded for v in ins) and all(
            static(o.name) for o in node.outputs
        ) and node.kind not in ("_ScaleShift",):
            res = node.op.apply(*map_values(node.args, lambda v: folded[v.name]),
                                **map_values(node.kwargs, lambda v: folded[v.name]))
            res = (res,) if node.single else res
            for v, t in zip(node.outputs, res):
                folded[v.name] = t
                ctx.names[v.name] = ctx.const(_onnx_array(t._data), "Constant")
            continue
        _check_sizes_kept(node, twins.get(id(node)))
        if any(is_complex(v) for v in ins + node.outputs):
            fn = COMPLEX_SYMBOLICS.get(node.kind)
            if fn is None:
                raise UnsupportedOperatorError(f"{node.kind} (on complex tensors)", opset)
        else:
            fn = SYMBOLICS.get(node.kind)
        if fn is None:
            raise UnsupportedOperatorError(node.kind, opset, requires_opset(node.kind, opset))
        res = fn(ctx, node, *node.args, **node.kwargs)
        res = [res] if isinstance(res, str) else list(res)
        for v, name in zip(node.outputs, res):
            if name is not None:
                ctx.names[v.name] = name

    outputs_vi = []
    for v, name in zip(outs, out_names):
        ctx.op("Identity", [ctx.name(v)], [name])
        axes = dyn.get(name, {})
        dims = []
        dynamic = ctx.dynamic_dims(v)
        for k, s1 in enumerate(shapes[v.name]):
            label = axes.get(k, axes.get(k - len(v.shape)))
            dims.append(label if label else (f"{name}_dim_{k}" if k in dynamic else s1))
        elem, extra = _value_type(v)
        outputs_vi.append(helper.make_tensor_value_info(name, elem, dims + extra))

    for name, arr in ctx.initializers.items():
        initializers[name] = arr
    used = {i for n in ctx.nodes for i in n.input}
    initializers = {k: a for k, a in initializers.items() if k in used}
    init_protos = [onnx.numpy_helper.from_array(np.ascontiguousarray(a).reshape(np.shape(a)), n)  # 0-d stays 0-d
                   for n, a in initializers.items()]
    g = helper.make_graph(ctx.nodes, getattr(model, "original_name", type(model).__name__), inputs_vi, outputs_vi,
                          init_protos)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="ember",
                          producer_version=__version__)
    m.ir_version = 8 if opset <= 17 else (9 if opset <= 20 else 10)
    onnx.checker.check_model(m, full_check=False)
    return m


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           do_constant_folding=True, export_params=True, verbose=False, **kwargs):
    """Export ``model`` (a Module or function of tensors) traced on ``args`` to the ONNX file ``f``.

    The model is traced in its current mode (call ``model.eval()`` first for inference). ``dynamic_axes``
    (``{"input": {0: "batch"}}`` or ``{"input": [0]}``) marks input/output axes whose size may change:
    shapes computed from them are exported as computations on the input shapes. Each primitive is
    translated through one table (:func:`supported_ops`); one without a mapping raises
    :class:`UnsupportedOperatorError` naming it and the opset. The file passes ``onnx.checker``.
    """
    unknown = set(kwargs) - {"training", "operator_export_type", "keep_initializers_as_inputs",
                             "custom_opsets", "export_modules_as_functions", "autograd_inlining", "dynamo"}
    if unknown:
        raise TypeError(f"export() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if kwargs.get("dynamo"):
        raise NotImplementedError("ember.onnx.export has no dynamo exporter; leave dynamo=False")
    onnx = require_onnx()
    m = build_model(model, args, input_names, output_names, dynamic_axes, opset_version, do_constant_folding,
                    export_params)
    if verbose:
        print(onnx.printer.to_text(m.graph) if hasattr(onnx, "printer") else onnx.helper.printable_graph(m.graph))
    if hasattr(f, "write"):
        f.write(m.SerializeToString())
    else:
        onnx.save(m, str(f))
