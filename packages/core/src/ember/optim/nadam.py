"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

import numpy

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
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

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Implements NAdam with PyTorch's update rule and state keys
    (``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``)."""

    _sparse_error = "NAdam does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach=None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _lr_check(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False, "decoupled_weight_decay": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            momentum_decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["mu_product"] = Tensor._make(numpy.array(1.0, dtype=numpy.float32))
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mp = state["mu_product"]._data  # float32 scalar tensor, updated in place like PyTorch
                mp[...] = mp * numpy.float32(mu)
                mu_product = float(mp)
                mu_product_next = mu_product * mu_next
                c_grad = -lr * (1.0 - mu) / (1.0 - mu_product)
                c_avg = (-lr * mu_next) / (1.0 - mu_product_next)
                xp = backend.array_module(p._data)
                arrays = [p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data]
                kernel = _nadam_kernel(xp, lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction2, c_grad, c_avg)
                _blockwise(kernel, arrays, 3)
                _touch(p)
        return loss


def _nadam_kernel(xp, lr, beta1, beta2, eps, wd, decoupled, maximize, bc2, c_grad, c_avg):
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
        xp.divide(v, bc2, out=t2)
        xp.sqrt(t2, out=t2)
        xp.add(t2, eps, out=t2)  # denom
        xp.multiply(g, c_grad, out=t3)
        xp.divide(t3, t2, out=t3)
        xp.add(p, t3, out=p)
        xp.multiply(m, c_avg, out=t3)
        xp.divide(t3, t2, out=t3)
        xp.add(p, t3, out=p)

    return kernel
