"""Derivatives of Python functions: ``autograd.functional``'s vjp / jvp / jacobian / hessian / vhp / hvp.

Forward-mode products use the double-backward identity: for ``y = f(x)`` and a dummy ``u``,
``g(u) = J^T u`` is linear in ``u``, so the gradient of ``<g(u), v>`` with respect to ``u`` is ``J v``.
"""

from __future__ import annotations

from ..tensor import Tensor
from .engine import grad as autograd_grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tuple(x, name, fn):
    single = isinstance(x, Tensor)
    seq = (x,) if single else tuple(x)
    for i, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple of Tensors but the value "
                            f"at index {i} has type {type(t)}.")
    return single, seq


def _grad_ready(inputs, create_graph):
    """Inputs to differentiate: fresh leaves, or (when building a graph) differentiable aliases of them."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _fill_none(grads, like):
    return tuple(g if g is not None else t.new_zeros(t.shape) for g, t in zip(grads, like))


def _strict_check(grads, strict, fn, what="the input"):
    if strict:
        for i, g in enumerate(grads):
            if g is None:
                raise RuntimeError(f"The output of the user-provided function is independent of {what} {i}. This is "
                                   f"not allowed in strict mode.")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product of ``func`` at ``inputs``."""
    single_in, inputs = _tuple(inputs, "inputs", "vjp")
    with enable_grad():
        xs = _grad_ready(inputs, create_graph)
        out = func(*xs)
        single_out, outs = _tuple(out, "outputs of the user-provided function", "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            vs = (outs[0].new_ones(outs[0].shape),)
        else:
            vs = _tuple(v, "v", "vjp")[1]
        diff = [(o, g) for o, g in zip(outs, vs) if o.requires_grad]
        grads = autograd_grad(tuple(o for o, _ in diff), xs, tuple(g for _, g in diff), create_graph=create_graph,
                              allow_unused=True) if diff else (None,) * len(xs)
    _strict_check(grads, strict, "vjp")
    grads = _fill_none(grads, xs)
    outs = tuple(o if create_graph else o.detach() for o in outs)
    grads = tuple(g if create_graph else g.detach() for g in grads)
    return (outs[0] if single_out else outs), (grads[0] if single_in else grads)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product of ``func`` at ``inputs``."""
    single_in, inputs = _tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        vs = (inputs[0].new_ones(inputs[0].shape),)
    else:
        vs = _tuple(v, "v", "jvp")[1]
    with enable_grad():
        xs = _grad_ready(inputs, True)
        out = func(*xs)
        single_out, outs = _tuple(out, "outputs of the user-provided function", "jvp")
        dummies = tuple(o.new_zeros(o.shape).requires_grad_(True) for o in outs)
        diff = [(o, u) for o, u in zip(outs, dummies) if o.requires_grad]
        if not diff:
            jv = tuple(o.new_zeros(o.shape) for o in outs)
        else:
            g = autograd_grad(tuple(o for o, _ in diff), xs, tuple(u for _, u in diff), create_graph=True,
                              allow_unused=True)
            pairs = [(gi, vi) for gi, vi in zip(g, vs) if gi is not None]
            _strict_check(g, strict, "jvp")
            jv = autograd_grad(tuple(gi for gi, _ in pairs), dummies, tuple(vi for _, vi in pairs),
                               create_graph=create_graph, allow_unused=True) if pairs else (None,) * len(dummies)
            jv = _fill_none(jv, outs)
    outs = tuple(o if create_graph else o.detach() for o in outs)
    jv = tuple(j if create_graph else j.detach() for j in jv)
    return (outs[0] if single_out else outs), (jv[0] if single_out else jv)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    One backward pass per output element (``strategy='reverse-mode'``) or one forward product per input
    element (``'forward-mode'``); ``vectorize`` is accepted and runs the same loop.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                         'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer '
                         'to use "reverse-mode".')
    single_in, inputs = _tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        xs = _grad_ready(inputs, create_graph)
        out = func(*xs)
        single_out, outs = _tuple(out, "outputs of the user-provided function", "jacobian")
        if strategy == "forward-mode":
            return _jacobian_forward(func, inputs, outs, single_in, single_out, create_graph, strict)
        rows = [[[] for _ in xs] for _ in outs]
        for i, o in enumerate(outs):
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                grads = (autograd_grad(flat[k], xs, retain_graph=True, create_graph=create_graph, allow_unused=True)
                         if o.requires_grad else (None,) * len(xs))
                _strict_check(grads, strict, "jacobian")
                for j, (g, x) in enumerate(zip(grads, xs)):
                    rows[i][j].append(g if g is not None else x.new_zeros(x.shape))
    from ..ops.joining import stack

    jac = tuple(tuple(stack(rows[i][j]).reshape(*outs[i].shape, *xs[j].shape) if rows[i][j]
                      else outs[i].new_zeros(tuple(outs[i].shape) + tuple(xs[j].shape))
                      for j in range(len(xs))) for i in range(len(outs)))
    if not create_graph:
        jac = tuple(tuple(t.detach() for t in row) for row in jac)
    return _shape_result(jac, single_in, single_out)


def _jacobian_forward(func, inputs, outs, single_in, single_out, create_graph, strict):
    from ..ops.joining import stack

    cols = [[[] for _ in inputs] for _ in outs]
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            basis = [t.new_zeros(t.shape) for t in inputs]
            basis[j].reshape(-1)[k] = 1
            _, jv = jvp(func, inputs, tuple(basis), create_graph=create_graph, strict=strict)
            jv = (jv,) if isinstance(jv, Tensor) else jv
            for i, col in enumerate(jv):
                cols[i][j].append(col)
    jac = tuple(tuple(stack(cols[i][j], -1).reshape(*outs[i].shape, *inputs[j].shape)
                      for j in range(len(inputs))) for i in range(len(outs)))
    return _shape_result(jac, single_in, single_out)


def _shape_result(jac, single_in, single_out):
    if single_out:
        jac = jac[0]
        return jac[0] if single_in else jac
    return tuple(row[0] for row in jac) if single_in else jac


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function ``func`` at ``inputs``."""
    single_in, inputs = _tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        g = autograd_grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        return tuple(gi if gi is not None else x.new_zeros(x.shape) for gi, x in zip(g, xs))

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)
    if single_in:
        return res[0] if isinstance(res, tuple) and len(res) == 1 and isinstance(res[0], Tensor) else res[0][0]
    return res


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func`` (H is symmetric for smooth functions, so this is vhp)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, name):
    single_in, inputs = _tuple(inputs, "inputs", name)
    vs = _tuple(v, "v", name)[1] if v is not None else None
    if vs is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        vs = (inputs[0].new_ones(inputs[0].shape),)
    with enable_grad():
        xs = _grad_ready(inputs, True)
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor with a single element")
        g = autograd_grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        _strict_check(g, strict, name)
        pairs = [(gi, vi) for gi, vi in zip(g, vs) if gi is not None]
        res = autograd_grad(tuple(p for p, _ in pairs), xs, tuple(q for _, q in pairs), create_graph=create_graph,
                            allow_unused=True) if pairs else (None,) * len(xs)
        res = _fill_none(res, xs)
    res = tuple(r if create_graph else r.detach() for r in res)
    out = out if create_graph else out.detach()
    return out, (res[0] if single_in else res)
