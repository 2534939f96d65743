"""Gradient clipping by total norm or by value, on whole arrays."""

from __future__ import annotations

import math

from ... import backend
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _to_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together (as if concatenated)."""
    tensors = _to_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ...creation import tensor

        return tensor(0.0)
    xp = backend.array_module(tensors[0]._data)
    if norm_type == math.inf:
        total = max(float(xp.abs(t._data).max()) if t._data.size else 0.0 for t in tensors)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(xp.vdot(t._data.ravel(), t._data.ravel()).real) for t in tensors))
    else:
        total = sum(float((xp.abs(t._data.astype("float64")) ** norm_type).sum()) for t in tensors) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor._make(xp.asarray(total, dtype=tensors[0]._data.dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale gradients in place by ``max_norm / (total_norm + 1e-6)`` when that is below 1."""
    grads = _grads(parameters)
    clip_coef = float(max_norm) / (float(total_norm) + 1e-6)
    if clip_coef < 1.0:
        with no_grad():
            for g in grads:
                g._data *= clip_coef
                g._version_counter.value += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """Rescale gradients so their total norm is at most ``max_norm``; returns the norm before clipping."""
    parameters = _to_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(_to_list(parameters)):
        xp = backend.array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version_counter.value += 1
