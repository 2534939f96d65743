"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2019)."""

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Implements RAdam with PyTorch's update rule and state keys (``step``, ``exp_avg``, ``exp_avg_sq``)."""

    _sparse_error = "RAdam does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach=None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _lr_check(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "decoupled_weight_decay": False, "capturable": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                xp = backend.array_module(p._data)
                arrays = [p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data]
                kernel = _radam_kernel(
                    xp, lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction1, bias_correction2**0.5, rect
                )
                _blockwise(kernel, arrays, 3)
                _touch(p)
        return loss


def _radam_kernel(xp, lr, beta1, beta2, eps, wd, decoupled, maximize, bc1, bc2_sqrt, rect):
    w1, w2 = 1 - beta1, 1 - beta2

    def kernel(p, g, m, v, t1, t2, t3):
        if wd != 0 and decoupled:
            xp.multiply(p, 1 - lr * wd, out=p)
            g = _prep_grad(xp, p, g, maximize, 0, t1, t2)
        else:
            g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        _lerp(xp, m, g, w1, t2)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, w2, out=t2)
        xp.multiply(t2, g, out=t2)
        xp.add(v, t2, out=v)
        xp.divide(m, bc1, out=t3)
        xp.multiply(t3, lr, out=t3)  # bias_corrected_exp_avg * lr
        if rect is not None:
            xp.sqrt(v, out=t2)
            xp.add(t2, eps, out=t2)
            xp.reciprocal(t2, out=t2)
            xp.multiply(t2, bc2_sqrt, out=t2)  # adaptive lr (PyTorch's scalar / tensor)
            xp.multiply(t3, t2, out=t3)
            xp.multiply(t3, rect, out=t3)
        xp.subtract(p, t3, out=p)

    return kernel
