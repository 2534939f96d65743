"""Flatten parameters into one vector and back."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ...ops.joining import cat

    params = list(parameters)
    device = params[0].device if params else None
    for p in params:
        if p.device != device:
            raise TypeError(f"Found two parameters on different devices, this is currently not supported: {device} and {p.device}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy slices of the 1-D ``vec`` into ``parameters`` (in place)."""
    from ...tensor import Tensor

    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise RuntimeError(f"vector has {vec.numel()} elements but the parameters have {total}")
    pointer = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = vec._data[pointer : pointer + n].reshape(p._data.shape)
            p._version_counter.value += 1
            pointer += n
