"""Reverse-mode execution: walk the graph from the outputs in dependency order.

Gradients reaching a node are summed per output; when all of a node's consumers have run, the node
runs once. Shapes and dtypes of returned gradients are fixed up in one place (``_validate``): a
gradient that was broadcast is summed back to its input's shape and cast to its dtype.
"""

from __future__ import annotations

import numpy as _np

from .. import backend
from ..tensor import Tensor
from .function import AccumulateGrad, edge_of
from .grad_mode import STATE


def _ones_like(t):
    arr = t._data
    ones = (_np if type(arr) is _np.ndarray else backend.array_module(arr)).empty(arr.shape, dtype=arr.dtype)
    ones.fill(1)
    return Tensor._make(ones)


def _make_roots(tensors, grad_tensors):
    roots = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, got {type(t).__name__}")
        g = grad_tensors[i] if grad_tensors is not None else None
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind != "f" and not t.is_floating_point():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {t.dtype}")
            g = _ones_like(t)
        else:
            if not isinstance(g, Tensor):
                from ..creation import tensor as _tensor

                g = _tensor(g, dtype=t.dtype, device=t.device)
            if tuple(g._data.shape) != tuple(t._data.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_fmt(g._data.shape)} and output[{i}] "
                    f"has a shape of {_fmt(t._data.shape)}."
                )
        roots.append((edge_of(t), g))
    return roots


def _fmt(shape):
    return f"torch.Size({list(shape)})"


def _dependencies(roots):
    """Dependency counts (number of consumers) of every node reachable from the roots (0 for a root that
    no other reachable node consumes)."""
    deps = {}
    stack = []
    for (node, _), _g in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        for e in stack.pop()._edges:
            if e:
                child = e[0]
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    stack.append(child)
    return deps


def _topo(roots):
    """Dependency counts (number of consumers) of every node reachable from the roots, and a
    post-order (children before parents)."""
    deps = {}
    order = []
    seen = set()
    for (node, _), _g in roots:
        if node in seen:
            continue
        seen.add(node)
        stack = [(node, iter(node._edges))]
        while stack:
            n, it = stack[-1]
            for e in it:
                if e:
                    child = e[0]
                    deps[child] = deps.get(child, 0) + 1
                    if child not in seen:
                        seen.add(child)
                        stack.append((child, iter(child._edges)))
                        break
            else:
                stack.pop()
                order.append(n)
    return deps, order


_callbacks: list = []
_depth = 0


def queue_callback(callback) -> None:
    """Run ``callback()`` once the backward pass now executing has finished (used by DistributedDataParallel)."""
    if not _depth:
        raise RuntimeError("queue_callback can only be called during the backward pass")
    _callbacks.append(callback)


def execute(roots, retain_graph, create_graph, capture=None, accumulate=True):
    global _depth
    _depth += 1
    try:
        captured = _execute(roots, retain_graph, create_graph, capture, accumulate)
        if _depth == 1:
            while _callbacks:
                _callbacks.pop(0)()
    finally:
        _depth -= 1
        if not _depth:
            _callbacks.clear()
    return captured


def _execute(roots, retain_graph, create_graph, capture=None, accumulate=True):
    """Run backward from ``roots`` [((node, nr), grad)]; return captured gradients for ``capture``,
    a list of (node, nr) pairs (non-leaf inputs) or AccumulateGrad nodes (leaf inputs)."""
    roots = [(e, g) for e, g in roots if e is not None]
    needed = None
    captured = None
    if capture is None:
        deps = _dependencies(roots)
    else:
        deps, order = _topo(roots)
        captured = [None] * len(capture)
        cap_index = {}
        for i, key in enumerate(capture):
            cap_index.setdefault(key, []).append(i)
        cap_nodes = {k[0] if isinstance(k, tuple) else k for k in capture}
        needed = set()
        for n in order:  # children first
            if n in cap_nodes or any(e and e[0] in needed for e in n._edges):
                needed.add(n)

    buffers = {}
    for (node, nr), g in roots:
        buf = buffers.setdefault(node, [None] * node._num_outputs)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [n for n in buffers if not deps.get(n, 0)]

    prev_enabled = STATE.enabled
    STATE.enabled = bool(create_graph)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is None:  # every consumer ran and sent nothing: just release the children
                _propagate(node, None, buffers, deps, ready)
                continue
            if node._pre_hooks:
                grads = _run_pre_hooks(node, grads)
            if captured is not None:
                for nr, g in enumerate(grads):
                    for i in cap_index.get((node, nr), ()):
                        captured[i] = g
                if isinstance(node, AccumulateGrad):
                    for i in cap_index.get(node, ()):
                        captured[i] = grads[0]
                if node not in needed or (isinstance(node, AccumulateGrad) and not accumulate):
                    continue
            if type(node) is AccumulateGrad:
                node.apply(grads, create_graph)
                continue
            results = node.apply(grads, create_graph) if grads.count(None) != len(grads) else None
            if node._hooks:
                for hook in node._hooks:
                    hook(results if isinstance(results, tuple) else (results,), tuple(grads))
            if not retain_graph:
                node._release()
            _propagate(node, results, buffers, deps, ready)
            results = None  # the buffers hold the gradients now: a leaf may then keep its own (AccumulateGrad)
    finally:
        STATE.enabled = prev_enabled
    return captured


def _run_pre_hooks(node, grads):
    grads = list(grads)
    retain = []
    for key, hook in node._pre_hooks:
        if key is None:
            res = hook(tuple(grads))
            if res is not None:
                grads = list(res)
        elif isinstance(key, tuple):  # retain_grad runs after the user's hooks
            retain.append((key[1], hook))
        elif grads[key] is not None:
            res = hook(grads[key])
            if res is not None:
                grads[key] = res
    for nr, hook in retain:
        if grads[nr] is not None:
            hook(grads[nr])
    return grads


def _propagate(node, results, buffers, deps, ready):
    edges = node._edges
    if results is None:
        results = ()
    else:
        if not isinstance(results, tuple):
            results = (results,)
        if len(results) < len(edges) and not getattr(node._fn, "_primitive", True):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected {len(edges)}, got {len(results)})"
            )
    n = len(results)
    for i, e in enumerate(edges):
        if not e:
            continue
        child = e[0]
        g = results[i] if i < n else None
        if g is not None:
            if type(g) is not Tensor or g._data.shape != e[2] or g._data.dtype != e[3]:
                g = _validate(node, i, g, e)
            buf = buffers.get(child)
            if buf is None:
                buf = buffers[child] = [None] * child._num_outputs
            nr = e[1]
            buf[nr] = g if buf[nr] is None else buf[nr] + g
        d = deps[child] - 1
        deps[child] = d
        if d == 0:
            ready.append(child)


def _validate(node, i, g, edge):
    if not isinstance(g, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} at index {i}, expected a Tensor or None")
    shape, np_dtype = edge[2], edge[3]
    if g._data.shape != shape:
        from .. import ops

        try:
            g = ops.sum_to_size(g, shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got {list(g._data.shape)} "
                f"but expected shape compatible with {list(shape)}"
            ) from None
    if g._data.dtype != np_dtype:
        g = g.to(dtype=_dtype_of(np_dtype))
    return g


def _dtype_of(np_dtype):
    from .. import dtypes

    return dtypes.from_numpy_dtype(np_dtype)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves (or only of ``inputs``)."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _make_roots(tuple(tensors), grad_tensors)
    if inputs is None:
        execute(roots, retain_graph, create_graph)
        return
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = execute(roots, retain_graph, create_graph, [_capture_key(t) for t in inputs], accumulate=False)
    for t, g in zip(inputs, grads):
        if g is None:
            continue
        if t.grad is None:
            t.grad = g if create_graph else Tensor._make(g._data.copy())
        else:
            t.grad = t.grad + g if create_graph else _inplace_add(t.grad, g)


def _inplace_add(acc, g):
    acc._data += g._data
    return acc


def _capture_key(t):
    if not t._requires_grad:
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    return t._grad_accumulator()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (without touching ``.grad``)."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by ember (it needs vmap)")
    single_out = isinstance(outputs, Tensor)
    outputs = (outputs,) if single_out else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs and {len(outputs)} outputs"
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    keep = [i for i, o in enumerate(outputs) if o._requires_grad]
    roots = _make_roots(
        tuple(outputs[i] for i in keep),
        tuple(grad_outputs[i] for i in keep) if grad_outputs is not None else None,
    ) if keep else []
    if not keep:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    keys = [_capture_key(t) for t in inputs]
    grads = execute(roots, retain_graph, create_graph, keys, accumulate=False)
    result = []
    for t, g in zip(inputs, grads):
        if g is None:
            if materialize_grads:
                from .. import backend

                xp = backend.array_module(t._data)
                g = Tensor._make(xp.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph and g.grad_fn is not None:
            g = g.detach()
        result.append(g)
    return tuple(result)
