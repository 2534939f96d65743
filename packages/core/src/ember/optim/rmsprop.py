"""RMSprop (Hinton's lecture notes; centered variant of Graves 2013)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from .adam import _lerp, _prep_grad
from .optimizer import (
    Optimizer,
    _blockwise,
    _bump_step,
    _check_common,
    _lr_check,
    _new_step,
    _to_scalar,
    _touch,
    _zeros_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Implements RMSprop with PyTorch's update rule and state keys
    (``step``, ``square_avg``, ``momentum_buffer``, ``grad_avg``)."""

    _sparse_error = "RMSprop does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach=None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _lr_check(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"momentum": 0, "centered": False, "foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _bump_step(state)
                arrays = [p._data, p.grad._data, state["square_avg"]._data]
                if momentum > 0:
                    arrays.append(state["momentum_buffer"]._data)
                if centered:
                    arrays.append(state["grad_avg"]._data)
                xp = backend.array_module(p._data)
                _blockwise(_rmsprop_kernel(xp, lr, alpha, eps, wd, momentum, centered, maximize), arrays, 3)
                _touch(p)
        return loss


def _rmsprop_kernel(xp, lr, alpha, eps, wd, momentum, centered, maximize):
    w = 1 - alpha

    def kernel(p, g, sq, *rest):
        rest = list(rest)
        buf = rest.pop(0) if momentum > 0 else None
        gavg = rest.pop(0) if centered else None
        t1, t2, t3 = rest
        g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        xp.multiply(sq, alpha, out=sq)
        xp.multiply(g, w, out=t2)
        xp.multiply(t2, g, out=t2)
        xp.add(sq, t2, out=sq)
        if centered:
            _lerp(xp, gavg, g, w, t2)
            xp.multiply(gavg, -1.0, out=t2)
            xp.multiply(t2, gavg, out=t2)
            xp.add(sq, t2, out=t2)
            xp.sqrt(t2, out=t2)
        else:
            xp.sqrt(sq, out=t2)
        xp.add(t2, eps, out=t2)  # t2 = avg
        if momentum > 0:
            xp.multiply(buf, momentum, out=buf)
            xp.divide(g, t2, out=t3)
            xp.add(buf, t3, out=buf)
            xp.multiply(buf, -lr, out=t3)
            xp.add(p, t3, out=p)
        else:
            xp.multiply(g, -lr, out=t3)
            xp.divide(t3, t2, out=t3)
            xp.add(p, t3, out=p)

    return kernel
