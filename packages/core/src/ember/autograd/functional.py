"""``autograd.functional``: derivatives of Python functions (``vjp``, ``jvp``, ``jacobian``, ``hessian``,
``vhp``, ``hvp``) and the finite-difference checks ``gradcheck`` / ``gradgradcheck``."""

from __future__ import annotations

import numpy

from .. import backend
from ..tensor import Tensor
from .engine import grad as autograd_grad
from .differentiate import hessian, hvp, jacobian, jvp, vhp, vjp  # noqa: F401
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable_outputs(func, inputs):
    outs = _as_tuple(func(*inputs))
    return tuple(o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind in "fc")


def _evaluate(func, inputs):
    """Outputs as float64 host copies (an output may be a view of the input being perturbed)."""
    with no_grad():
        outs = _as_tuple(func(*inputs))
    return [backend.to_device(o._data, backend.CPU).astype(numpy.float64, copy=True) for o in outs]


def _numerical_jacobian(func, inputs, wrt, eps):
    """Central differences: column j is d(outputs)/d(input element j)."""
    n_out = sum(o.size for o in _evaluate(func, inputs))
    jac = numpy.zeros((wrt._data.size, n_out))
    flat = wrt._data.reshape(-1) if wrt._data.flags.c_contiguous else None
    if flat is None:
        raise ValueError("gradcheck needs contiguous inputs")
    for j in range(flat.size):
        orig = flat[j].item()
        flat[j] = orig + eps
        plus = _evaluate(func, inputs)
        flat[j] = orig - eps
        minus = _evaluate(func, inputs)
        flat[j] = orig
        diff = [(p - m).reshape(-1) for p, m in zip(plus, minus)]
        jac[j] = numpy.concatenate(diff) / (2 * eps) if diff else jac[j]
    return jac


def _analytical_jacobian(outputs, wrt_list):
    """Row i of each Jacobian is the gradient of output element i (one backward per element)."""
    n_out = sum(o._data.size for o in outputs)
    jacs = [numpy.zeros((w._data.size, n_out)) for w in wrt_list]
    col = 0
    for o in outputs:
        xp = backend.array_module(o._data)
        for k in range(o._data.size):
            go = xp.zeros(o._data.shape, dtype=o._data.dtype)
            go.reshape(-1)[k] = 1
            grads = autograd_grad((o,), wrt_list, (Tensor._make(go),), retain_graph=True, allow_unused=True)
            for jac, g in zip(jacs, grads):
                if g is not None:
                    jac[:, col] = backend.to_device(g._data, backend.CPU).astype(numpy.float64).reshape(-1)
            col += 1
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Use float64 inputs with ``requires_grad=True``; returns True, or raises ``GradcheckError`` naming
    the input and the largest mismatch.
    """
    inputs = _as_tuple(inputs)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t._requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    outputs = _differentiable_outputs(func, inputs)
    if not any(o._requires_grad for o in outputs):
        raise GradcheckError("gradcheck: no output requires grad; the function is not differentiable w.r.t. its inputs")
    keep = [k for k, o in enumerate(outputs) if o._requires_grad]
    outputs = tuple(outputs[k] for k in keep)
    analytical = _analytical_jacobian(outputs, wrt)

    def kept_outputs(*xs):
        outs = _differentiable_outputs(func, xs)
        return tuple(outs[k] for k in keep)

    for i, (w, a) in enumerate(zip(wrt, analytical)):
        n = _numerical_jacobian(kept_outputs, inputs, w, eps)
        if n.shape != a.shape or not numpy.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
            err = numpy.abs(a - n).max() if a.shape == n.shape else float("nan")
            msg = (
                f"Jacobian mismatch for output 0 with respect to input {i} (shape {tuple(w._data.shape)}): "
                f"max abs difference {err:.3g}\nnumerical:{n}\nanalytical:{a}\n"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second-order gradients: gradcheck of the gradients of ``func`` (computed with create_graph)."""
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(func, inputs)
    if grad_outputs is None:
        rng = numpy.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._make(backend.to_device(rng.standard_normal(o._data.shape).astype(o._data.dtype), o.device)).requires_grad_(True)
            for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    wrt_pos = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]

    def first_grads(*args):
        xs, gos = args[:n_in], args[n_in:]
        with enable_grad():  # the finite differences run under no_grad; the first gradients need a graph
            outs = tuple(o for o in _differentiable_outputs(func, xs) if o._requires_grad)
            wrt = [xs[i] for i in wrt_pos]
            grads = autograd_grad(outs, wrt, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
