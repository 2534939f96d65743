"""``ScriptModule``: a module that replays a traced graph (no Python model code involved)."""

from __future__ import annotations

from .. import backend
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from ._graph import map_values


def run_graph(graph, inputs, tensors):
    """Evaluate ``graph`` on ``inputs`` with parameters/buffers ``tensors`` (name -> Tensor)."""
    env = {}
    for v, t in zip(graph.inputs, inputs):
        env[v.name] = t
    for v in graph.params:
        env[v.name] = tensors[v.name]
    if graph.constants:
        dev = inputs[0].device if inputs else None
        for name, arr in graph.constants.items():
            env[name] = Tensor._make(backend.to_device(arr, dev) if dev is not None else arr)
    lookup = env.__getitem__

    def value(v):
        return lookup(v.name)

    for node in graph.nodes:
        out = node.op.apply(*map_values(node.args, value), **map_values(node.kwargs, value))
        if node.single:
            env[node.outputs[0].name] = out
        else:
            for v, o in zip(node.outputs, out):
                env[v.name] = o
    return map_values(graph.outputs, value)


def _attach(root, name, tensor, is_buffer):
    *path, leaf = name.split(".")
    mod = root
    for part in path:
        child = mod._modules.get(part)
        if child is None:
            child = Module()
            mod.add_module(part, child)
        mod = child
    if is_buffer:
        mod.register_buffer(leaf, tensor)
    else:
        mod.register_parameter(leaf, tensor if isinstance(tensor, Parameter) else Parameter(tensor))


class ScriptModule(Module):
    """The result of :func:`ember.jit.trace`: calling it replays the recorded graph.

    ``graph`` is the IR (printable), ``code`` a Python-like listing; the parameters and buffers keep the
    traced module's ``state_dict`` names. ``save(path)`` writes it in ember's checkpoint format
    (no pickle); :func:`ember.jit.load` reads it back.
    """

    def __init__(self, graph, named, buffers=(), training=False, name="TracedModule"):
        super().__init__()
        self._graph = graph
        self.original_name = name
        for pname in named:
            _attach(self, pname, named[pname], pname in buffers)
        self.train(training)

    @property
    def graph(self):
        return self._graph

    inlined_graph = graph

    @property
    def code(self) -> str:
        return self._graph.code()

    def _tensors(self):
        named = dict(self.named_parameters(remove_duplicate=False))
        named.update(self.named_buffers(remove_duplicate=False))
        return named

    def forward(self, *inputs):
        graph = self._graph
        if len(inputs) != len(graph.inputs):
            raise RuntimeError(
                f"{self.original_name}: the traced graph takes {len(graph.inputs)} input(s), got {len(inputs)}"
            )
        for i, (v, t) in enumerate(zip(graph.inputs, inputs)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self.original_name}: input {i} must be a Tensor, got {type(t).__name__}")
            if tuple(t.shape) != v.shape or t._data.dtype != v.dtype:
                raise RuntimeError(
                    f"{self.original_name}: input {i} has shape {list(t.shape)} and dtype {t._data.dtype}, but the "
                    f"graph was traced for shape {list(v.shape)} and dtype {v.dtype}; shapes are baked into a "
                    "trace: trace again with this shape, or use ember.onnx.export(..., dynamic_axes=...) for "
                    "variable batch sizes and lengths"
                )
        return run_graph(graph, inputs, self._tensors())

    def save(self, f):
        """Write the graph, parameters and buffers to ``f`` (a path or binary file) in ember's own
        JSON-and-raw-buffers format (no pickle: ``ember.save`` writes PyTorch's pickled layout)."""
        import os

        from ..serialization import _format
        from ._serialize import dump

        named = self._tensors()
        buffers = {n for n, _ in self.named_buffers(remove_duplicate=False)}
        archive = dump(self._graph, named, buffers, {"name": self.original_name, "training": self.training})
        if isinstance(f, (str, bytes, os.PathLike)):
            with open(os.fsdecode(f), "wb") as fh:
                _format.save(archive, fh)
        else:
            _format.save(archive, f)

    def extra_repr(self):
        return f"original_name={self.original_name}"


__all__ = ["ScriptModule", "run_graph"]
