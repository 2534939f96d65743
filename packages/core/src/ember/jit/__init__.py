"""Tracing (``ember.jit.trace``): record one forward pass as a graph of ember's primitives.

``trace`` runs the module or function once on example inputs while every primitive call
(``ember.ops``) is recorded, and returns a :class:`ScriptModule` that replays the graph without the
Python model code. The graph is what :func:`ember.onnx.export` translates to ONNX.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import TRACE_HOOK
from ..nn.module import Module
from ..tensor import Tensor
from ._graph import Graph, Node, Value
from ._module import ScriptModule, run_graph
from ._tracer import Recorder, TracerWarning, TracingCheckError, tracing

def _as_tuple(example_inputs):
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        for i, t in enumerate(example_inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"ember.jit.trace: example input {i} must be a Tensor, got {type(t).__name__}")
        return tuple(example_inputs)
    raise TypeError(f"ember.jit.trace: example_inputs must be a Tensor or a tuple of Tensors, got "
                    f"{type(example_inputs).__name__}")

def _check_strict(outputs):
    if isinstance(outputs, (list, dict)):
        kind = "list" if isinstance(outputs, list) else "dict"
        raise RuntimeError(
            f"Encountering a {kind} at the output of the tracer might cause the trace to be incorrect, this is "
            "only valid if the container structure does not change based on the module's inputs. Consider "
            f"using a constant container instead (e.g. for `list`, use a `tuple` instead. for `dict`, use a "
            "`NamedTuple` instead). If you absolutely need this and know the side effects, pass strict=False "
            "to trace() to allow this behavior."
        )

def record(func, inputs, strict=True, warn_dropout=True):
    """Run ``func(*inputs)`` once while recording: (graph, eager outputs, the module's parameters and
    buffers by name, buffer names)."""
    named, buffers = [], set()
    if isinstance(func, Module):
        named = list(func.named_parameters(remove_duplicate=False))
        bufs = list(func.named_buffers(remove_duplicate=False))
        buffers = {n for n, _ in bufs}
        named += bufs
    rec = Recorder(inputs, named)
    rec.warn_dropout = warn_dropout
    with tracing(rec):
        outputs = func(*inputs)
    if strict:
        _check_strict(outputs)
    graph = rec.finish(outputs)
    return graph, outputs, dict(named) if named else rec.param_tensors, buffers

def _flat(outputs):
    if isinstance(outputs, Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    found = []
    for o in outputs:
        found += _flat(o)
    return found

def _compare(expected, got, rtol, atol, what):
    exp, res = _flat(expected), _flat(got)
    if len(exp) != len(res):
        raise TracingCheckError(f"{what}: the trace returned {len(res)} tensors, the eager run {len(exp)}")
    for i, (e, r) in enumerate(zip(exp, res)):
        ea, ra = e.detach().cpu().numpy(), r.detach().cpu().numpy()
        if ea.shape != ra.shape or not np.allclose(ra, ea, rtol=rtol, atol=atol, equal_nan=True):
            diff = np.abs(ra.astype(np.float64) - ea.astype(np.float64)).max() if ea.shape == ra.shape else None
            raise TracingCheckError(
                f"{what}: output {i} of the traced graph does not match the eager run "
                f"(shapes {list(ra.shape)} and {list(ea.shape)}, largest difference {diff}). The trace may "
                "have baked in values computed from the inputs (see any TracerWarning above)."
            )

def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    """Trace ``func`` (a Module or a function of tensors) on ``example_inputs``; returns a ScriptModule.

    The module is traced in its current mode (``train()``/``eval()``): dropout and batch norm behave as
    they do now. Python control flow and conversions to Python values (``.item()``, ``.tolist()``,
    ``bool(tensor)``) are evaluated once and baked in; each conversion raises a :class:`TracerWarning`
    naming the line. ``check_trace`` replays the graph on the example inputs and compares with the eager
    result; ``check_inputs`` (a list of input tuples) does the same on other inputs, which catches values
    baked in from the example. Shapes are fixed by the example inputs.
    """
    if example_kwarg_inputs is not None:
        raise NotImplementedError("ember.jit.trace: example_kwarg_inputs is not supported; pass example_inputs")
    if TRACE_HOOK[0] is not None:
        raise RuntimeError("ember.jit.trace can't be nested inside another trace")
    inputs = _as_tuple(example_inputs)
    graph, outputs, named, buffers = record(func, inputs, strict)
    training = func.training if isinstance(func, Module) else False
    name = type(func).__name__ if isinstance(func, Module) else getattr(func, "__name__", "function")
    module = ScriptModule(graph, named, buffers, training, name)
    if check_trace:
        tol = check_tolerance
        _compare(outputs, module(*inputs), tol, tol, "check_trace")
        for k, extra in enumerate(check_inputs or ()):
            extra = _as_tuple(extra)
            _compare(func(*extra), module(*extra), tol, tol, f"check_inputs[{k}]")
    return module

def trace_module(mod, inputs, **kwargs):
    """``trace`` of ``mod.forward`` with ``inputs = {"forward": example_inputs}``."""
    if set(inputs) != {"forward"}:
        raise NotImplementedError("ember.jit.trace_module traces only the 'forward' method")
    return trace(mod, inputs["forward"], **kwargs)

def script(obj, optim=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Not available: ember has no TorchScript compiler."""
    raise NotImplementedError(
        "ember.jit.script is not supported: ember does not compile Python source. Use ember.jit.trace(model, "
        "example_inputs) to record a graph, or ember.onnx.export(model, args, 'model.onnx') to deploy it."
    )

def load(f, map_location=None, _extra_files=None):
    """Read a ScriptModule written by ``ScriptModule.save``."""
    from ..serialization import load as _load
    from ._serialize import restore

    graph, named, buffers, meta = restore(_load(f, map_location=map_location, weights_only=True))
    return ScriptModule(graph, named, buffers, bool(meta.get("training", False)), meta.get("name", "TracedModule"))

def save(m, f, _extra_files=None):
    """``m.save(f)``."""
    if not isinstance(m, ScriptModule):
        raise TypeError(f"ember.jit.save expects a ScriptModule (from ember.jit.trace), got {type(m).__name__}")
    m.save(f)

def is_tracing() -> bool:
    """Whether a trace is being recorded right now."""
    return TRACE_HOOK[0] is not None

def is_scripting() -> bool:
    return False

def ignore(drop=False, **kwargs):
    """Decorator kept for API compatibility: tracing sees through the function anyway."""
    if callable(drop):
        return drop
    return lambda fn: fn

def unused(fn):
    return fn

ScriptFunction = ScriptModule
TopLevelTracedModule = ScriptModule

__all__ = [
    "Graph", "Node", "Value", "ScriptModule", "ScriptFunction", "TracerWarning", "TracingCheckError",
    "trace", "trace_module", "script", "load", "save", "is_tracing", "is_scripting", "ignore", "unused",
    "run_graph", "record",
]

