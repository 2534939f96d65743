"""``ember.func``: function transforms (``torch.func``): ``functional_call``, ``grad``, ``grad_and_value``,
``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``. Transforms nest (``grad(grad(f))``). ``vmap`` is not
available: Ember has no batching transform."""

from __future__ import annotations

import functools

from ..autograd import differentiate as _d
from ..autograd.engine import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .functional_call import functional_call

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]


_depth = 0


class _Level:
    """Tracks nesting: results leave the outermost transform detached unless an input was part of an outer
    (ordinary autograd) graph, so ``grad(f)(x)`` is a plain tensor while ``grad(grad(f))`` still works."""

    def __init__(self, args):
        self.tracked = any(isinstance(t, Tensor) and t.requires_grad for a in args for t in _flat(a))

    def __enter__(self):
        global _depth
        _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        _depth -= 1

    def finish(self, value):
        if _depth > 1 or self.tracked:  # called inside the level: 1 means outermost
            return value
        if isinstance(value, Tensor):
            return value.detach()
        if isinstance(value, (tuple, list)):
            return type(value)(self.finish(v) for v in value)
        if isinstance(value, dict):
            return {k: self.finish(v) for k, v in value.items()}
        return value


def _alias(t):
    return t.view_as(t) if t.requires_grad else t.detach().requires_grad_(True)


def _leaves(args, argnums):
    """Differentiable stand-ins for the arguments in ``argnums`` (aliases when an outer transform tracks them).
    An argument may be a tensor or a dict / list / tuple of tensors (one level of pytree)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    for n in nums:
        if n >= len(args) or n < -len(args):
            raise RuntimeError(f"Got argnums={argnums}, but only {len(args)} positional inputs")
        t = args[n]
        if isinstance(t, Tensor):
            args[n] = _alias(t)
        elif isinstance(t, dict) and all(isinstance(v, Tensor) for v in t.values()):
            args[n] = {k: _alias(v) for k, v in t.items()}
        elif isinstance(t, (list, tuple)) and all(isinstance(v, Tensor) for v in t):
            args[n] = type(t)(_alias(v) for v in t)
        else:
            raise RuntimeError(f"Expected argument {n} to be a Tensor or a dict/list/tuple of Tensors, got "
                               f"{type(t).__name__}")
    return args, nums


def _flat(arg):
    return list(arg.values()) if isinstance(arg, dict) else list(arg) if isinstance(arg, (list, tuple)) else [arg]



def _rebuild(arg, flat):
    if isinstance(arg, dict):
        return dict(zip(arg.keys(), flat))
    if isinstance(arg, (list, tuple)):
        return type(arg)(flat)
    return flat[0]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of scalar ``func`` with respect to the ``argnums`` arguments."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _Level(args) as level, enable_grad():
            xs, nums = _leaves(args, argnums)
            out = func(*xs, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                                   f"with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            targets = [t for n in nums for t in _flat(xs[n])]
            if out.requires_grad:
                flat = _autograd_grad(out, tuple(targets), create_graph=True, allow_unused=True)
            else:
                flat = (None,) * len(targets)
            flat = [g if g is not None else t.new_zeros(t.shape) for g, t in zip(flat, targets)]
            grads, i = [], 0
            for n in nums:
                size = len(_flat(xs[n]))
                grads.append(_rebuild(xs[n], flat[i:i + size]))
                i += size
            g = grads[0] if isinstance(argnums, int) else tuple(grads)
            return level.finish((g, (out, aux)) if has_aux else (g, out))

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of scalar ``func`` with respect to the ``argnums`` arguments."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns one gradient per primal."""
    level = _Level(primals)
    with level, enable_grad():
        xs, _ = _leaves(primals, tuple(range(len(primals))))
        out = func(*xs)
        aux = None
        if has_aux:
            out, aux = out
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        shown = level.finish(out)

    def vjp_fn(*cotangents):
        cts = cotangents[0] if len(cotangents) == 1 and not isinstance(out, Tensor) else cotangents
        cts = (cts,) if isinstance(cts, Tensor) else tuple(cts)
        if len(cts) != len(outs):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function: {len(outs)} outputs, {len(cts)} cotangents")
        with _Level(primals + cts) as inner, enable_grad():
            grads = _autograd_grad(outs, tuple(t for x in xs for t in _flat(x)), cts, retain_graph=True,
                                   create_graph=True, allow_unused=True)
            flat = [g if g is not None else t.new_zeros(t.shape)
                    for g, t in zip(grads, (t for x in xs for t in _flat(x)))]
            result, i = [], 0
            for x in xs:
                size = len(_flat(x))
                result.append(_rebuild(x, flat[i:i + size]))
                i += size
            return inner.finish(tuple(result))

    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)`` (forward-mode product, by double backward)."""
    if has_aux:
        raise NotImplementedError("ember.func.jvp(has_aux=True) is not implemented yet")
    with _Level(tuple(primals) + tuple(tangents)) as level:
        return level.finish(_d.jvp(lambda *a: func(*a), tuple(primals), tuple(tangents), create_graph=True,
                                   strict=strict))


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """A function returning the Jacobian of ``func`` with respect to the ``argnums`` arguments (reverse mode)."""
    return _jacobian_transform(func, argnums, "reverse-mode", has_aux)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of ``func`` with respect to the ``argnums`` arguments (forward mode)."""
    return _jacobian_transform(func, argnums, "forward-mode", has_aux)


def _jacobian_transform(func, argnums, strategy, has_aux):
    if has_aux:
        raise NotImplementedError("ember.func jacobians with has_aux=True are not implemented yet")

    @functools.wraps(func)
    def wrapper(*args):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

        def partial(*chosen):
            full = list(args)
            for n, t in zip(nums, chosen):
                full[n] = t
            return func(*full)

        with _Level(args) as level:
            res = _d.jacobian(partial, tuple(args[n] for n in nums), create_graph=True, strategy=strategy)
            if isinstance(argnums, int) and isinstance(res, tuple):
                res = res[0]
            return level.finish(res)

    return wrapper


def hessian(func, argnums=0):
    """A function returning the Hessian of scalar ``func`` (``jacfwd(jacrev(func))``)."""
    return jacfwd(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    raise NotImplementedError("ember.func.vmap is not implemented yet: Ember has no batching transform. Write the "
                              "function for batched inputs (most ember ops broadcast over leading dimensions), or use "
                              "ember.func.jacrev / autograd.functional.jacobian for Jacobians")
