"""Averaged SGD (Polyak & Juditsky 1992)."""

from __future__ import annotations

import numpy

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .optimizer import Optimizer, _bump_step, _check_common, _lr_check, _new_step, _real_view, _to_scalar, _touch, _zeros_like

__all__ = ["ASGD"]


def _scalar_state(value: float) -> Tensor:
    return Tensor._make(numpy.array(value, dtype=numpy.float32))


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent with PyTorch's update rule and state keys
    (``step``, ``eta``, ``mu``, ``ax``: the running average of the parameter).

    Args:
        params (iterable): parameters or parameter groups to optimize.
        lr (float, optional): learning rate (default: 1e-2).
        lambd (float, optional): decay term (default: 1e-4).
        alpha (float, optional): power for the eta update (default: 0.75).
        t0 (float, optional): the step at which averaging starts (default: 1e6).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective instead of minimizing (default: False).
    """

    _sparse_error = "ASGD does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach=None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _lr_check(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["eta"] = _scalar_state(lr)
                    state["mu"] = _scalar_state(1.0)
                    state["ax"] = _zeros_like(p)
                step = _bump_step(state)
                xp = backend.array_module(p._data)
                param, ax = _real_view(p._data), _real_view(state["ax"]._data)
                g = _real_view(p.grad._data)
                if maximize:
                    g = -g
                if wd != 0:
                    g = g + wd * param
                eta = float(state["eta"]._data)
                xp.multiply(param, 1 - lambd * eta, out=param)
                xp.add(param, g * -eta, out=param)
                mu = float(state["mu"]._data)
                if mu != 1:
                    xp.add(ax, (param - ax) * mu, out=ax)
                else:
                    ax[...] = param
                state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"]._data[...] = 1 / max(1, step - t0)
                _touch(p)
        return loss
