"""Adamax: Adam with the infinity norm (Kingma & Ba, section 7)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from .adam import _check_betas_eps_wd, _lerp, _prep_grad
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

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Implements Adamax with PyTorch's update rule and state keys (``step``, ``exp_avg``, ``exp_inf``)."""

    _sparse_error = "Adamax does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach=None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _lr_check(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                step = _bump_step(state)
                clr = lr / (1 - beta1**step)
                xp = backend.array_module(p._data)
                arrays = [p._data, p.grad._data, state["exp_avg"]._data, state["exp_inf"]._data]
                _blockwise(_adamax_kernel(xp, beta1, beta2, eps, wd, maximize, clr), arrays, 2)
                _touch(p)
        return loss


def _adamax_kernel(xp, beta1, beta2, eps, wd, maximize, clr):
    w1 = 1 - beta1

    def kernel(p, g, m, u, t1, t2):
        g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        _lerp(xp, m, g, w1, t2)
        xp.multiply(u, beta2, out=u)
        xp.absolute(g, out=t2)
        xp.add(t2, eps, out=t2)
        xp.maximum(u, t2, out=u)
        xp.multiply(m, -clr, out=t2)
        xp.divide(t2, u, out=t2)
        xp.add(p, t2, out=p)

    return kernel
