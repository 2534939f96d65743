"""Stochastic gradient descent (optionally with momentum / Nesterov momentum)."""

from __future__ import annotations

import numpy

from .. import _fast, backend
from ..autograd.grad_mode import no_grad
from ..ops import _cuda_kernels as _cuda
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _blockwise,
    _check_common,
    _lr_check,
    _to_scalar,
    _touch,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), with PyTorch's update rule.

    ``buf = momentum * buf + (1 - dampening) * g``; ``p -= lr * (g + momentum * buf if nesterov else buf)``.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach=None,
        differentiable: bool = False,
        fused=None,
    ) -> None:
        _lr_check(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            momentum = group["momentum"]
            dampening = group["dampening"]
            wd = group["weight_decay"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                xp = backend.array_module(p._data)
                state = self.state[p] if momentum != 0 else None
                buf = state.get("momentum_buffer") if momentum != 0 else None
                first = momentum != 0 and buf is None
                if first:
                    buf = state["momentum_buffer"] = Tensor._make(xp.empty(g.shape, dtype=g.dtype))
                arrays = [p._data, g] if momentum == 0 else [p._data, g, buf._data]
                if _cuda.usable(*arrays):  # one fused launch per parameter
                    _cuda.sgd_step(p._data, g, None if momentum == 0 else buf._data, lr=lr, momentum=momentum,
                                   dampening=dampening, wd=wd, nesterov=nesterov, maximize=maximize, first=first)
                    _touch(p)
                    continue
                if _fast_sgd(arrays, lr, momentum, dampening, wd, nesterov, maximize, first):
                    _touch(p)
                    continue
                _blockwise(_sgd_kernel(xp, lr, momentum, dampening, wd, nesterov, maximize, first), arrays, 2)
                _touch(p)
        return loss


def _fast_sgd(arrays, lr, momentum, dampening, wd, nesterov, maximize, first):
    """The compiled one-pass update (``ember[fast]``) on contiguous float32 CPU arrays, shared out among
    threads for large parameters; False where it does not apply (the NumPy kernel runs instead)."""
    if not _fast.usable(*arrays) or not all(a.flags.c_contiguous for a in arrays):
        return False
    from .. import _fast_optim

    flats = [a.reshape(-1) for a in arrays]
    p, g = flats[0], flats[1]
    buf = flats[2] if len(flats) > 2 else p
    f32 = numpy.float32
    args = (f32(lr), f32(momentum), f32(1 - dampening), f32(wd), bool(nesterov), bool(maximize), bool(first),
            len(flats) > 2)

    def part(r0, r1):
        _fast_optim.sgd(p[r0:r1], g[r0:r1], buf[r0:r1], *args)

    n = p.shape[0]
    if n < _PARALLEL_MIN:
        part(0, n)
    else:
        _fast.share(part, n, -(-n // 4))
    return True


_PARALLEL_MIN = 1 << 20  # elements: smaller parameters are updated on the calling thread


def _sgd_kernel(xp, lr, momentum, dampening, wd, nesterov, maximize, first):
    neg_lr = -lr
    damp = 1 - dampening

    def kernel(p, g, *rest):
        if momentum != 0:
            buf, t1, t2 = rest
        else:
            t1, t2 = rest
        if maximize:
            xp.negative(g, out=t1)
            g = t1
        if wd != 0:
            xp.multiply(p, wd, out=t2)
            xp.add(g, t2, out=t1)
            g = t1
        if momentum != 0:
            if first:
                xp.copyto(buf, g)
            else:
                xp.multiply(buf, momentum, out=buf)
                if damp == 1:
                    xp.add(buf, g, out=buf)
                else:
                    xp.multiply(g, damp, out=t2)
                    xp.add(buf, t2, out=buf)
            if nesterov:
                xp.multiply(buf, momentum, out=t2)
                xp.add(g, t2, out=t1)
                g = t1
            else:
                g = buf
        xp.multiply(g, neg_lr, out=t2)
        xp.add(p, t2, out=p)

    return kernel
