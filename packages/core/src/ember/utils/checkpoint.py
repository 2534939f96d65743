"""``ember.utils.checkpoint``: activation checkpointing. The wrapped function runs without recording a graph
in the forward pass; backward runs it again (with the same random state, so dropout draws the same masks)
and back-propagates through that recomputation. Peak memory drops to the segment boundaries' activations."""

from __future__ import annotations

import warnings

from .. import random as _random
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..creation import empty
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]

_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants.")


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, run, preserve_rng_state, anchor, *args):
        ctx.run = run
        ctx.rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.args = args
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            out = run(*args)
        ctx.tuple_out = isinstance(out, tuple)
        return out

    @staticmethod
    def backward(ctx, *grads):
        saved = iter(ctx.saved_tensors)
        inputs = []
        for a in ctx.args:
            if isinstance(a, Tensor):
                t = next(saved)
                d = t.detach()
                d.requires_grad_(t.requires_grad)
                inputs.append(d)
            else:
                inputs.append(a)
        current = None
        if ctx.rng_state is not None:
            current = _random.get_rng_state()
            _random.set_rng_state(ctx.rng_state)
        try:
            with enable_grad():
                out = ctx.run(*inputs)
        finally:
            if current is not None:
                _random.set_rng_state(current)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            engine.backward(tuple(o for o, _ in pairs), tuple(g for _, g in pairs))
        return (None, None, None) + tuple(t.grad if isinstance(t, Tensor) and t.requires_grad else None
                                          for t in inputs)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its activations; recompute them during backward.

    Gradients reach the function's parameters and the tensor arguments that require them, as if it had
    run normally. ``preserve_rng_state`` replays the random state, so dropout inside gives equal gradients.
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    if context_fn is not None:
        raise NotImplementedError("ember.utils.checkpoint: context_fn is not supported")
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    run = (lambda *a: function(*a, **kwargs)) if kwargs else function
    # the anchor keeps the output in the graph when no argument requires grad (parameters inside still do)
    anchor = empty(0, requires_grad=not use_reentrant)
    return _Checkpoint.apply(run, preserve_rng_state, anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a ``Sequential`` (or list of modules) into ``segments`` checkpointed chunks; the last runs normally."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)

    def run_range(start, end):
        def run(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return run

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_range(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=kwargs.get("preserve_rng_state", True))
    return run_range(end + 1, len(functions) - 1)(input)
