"""Adadelta (Zeiler 2012)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from .adam import _prep_grad
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

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Implements Adadelta with PyTorch's update rule and state keys (``step``, ``square_avg``, ``acc_delta``).

    .. math::
        v_t = \rho v_{t-1} + (1 - \rho) g_t^2,\quad
        \Delta x_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t,\quad
        u_t = \rho u_{t-1} + (1 - \rho) \Delta x_t^2,\quad
        \theta_t = \theta_{t-1} - \gamma \Delta x_t

    Args:
        params (iterable): parameters or parameter groups to optimize.
        lr (float, optional): coefficient scaling delta before it is applied (default: 1.0).
        rho (float, optional): decay of the running averages (default: 0.9).
        eps (float, optional): added inside the square roots (default: 1e-6).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective instead of minimizing (default: False).
    """

    _sparse_error = "Adadelta does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach=None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _lr_check(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
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
            rho, eps, wd, maximize = group["rho"], group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                _bump_step(state)
                xp = backend.array_module(p._data)
                arrays = [p._data, p.grad._data, state["square_avg"]._data, state["acc_delta"]._data]
                _blockwise(_adadelta_kernel(xp, lr, rho, eps, wd, maximize), arrays, 3)
                _touch(p)
        return loss


def _adadelta_kernel(xp, lr, rho, eps, wd, maximize):
    w = 1 - rho

    def kernel(p, g, sq, acc, t1, t2, t3):
        g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        xp.multiply(sq, rho, out=sq)
        xp.multiply(g, w, out=t2)
        xp.multiply(t2, g, out=t2)
        xp.add(sq, t2, out=sq)
        xp.add(sq, eps, out=t2)
        xp.sqrt(t2, out=t2)  # std
        xp.add(acc, eps, out=t3)
        xp.sqrt(t3, out=t3)
        xp.divide(t3, t2, out=t3)
        xp.multiply(t3, g, out=t3)  # delta
        xp.multiply(acc, rho, out=acc)
        xp.multiply(t3, w, out=t2)
        xp.multiply(t2, t3, out=t2)
        xp.add(acc, t2, out=acc)
        xp.multiply(t3, -lr, out=t3)
        xp.add(p, t3, out=p)

    return kernel
