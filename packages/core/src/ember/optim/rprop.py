"""Rprop: resilient backpropagation (Riedmiller & Braun 1993)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _bump_step, _check_common, _lr_check, _new_step, _real_view, _to_scalar, _touch, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm with PyTorch's update rule and state keys
    (``step``, ``prev``, ``step_size``).

    Each element keeps its own step size, multiplied by ``etas[1]`` while the gradient keeps its
    sign and by ``etas[0]`` when it flips (then that element is not moved), clamped to ``step_sizes``.

    Args:
        params (iterable): parameters or parameter groups to optimize.
        lr (float, optional): initial step size (default: 1e-2).
        etas (Tuple[float, float], optional): (etaminus, etaplus) (default: (0.5, 1.2)).
        step_sizes (Tuple[float, float], optional): minimal and maximal step sizes (default: (1e-6, 50)).
        maximize (bool, optional): maximize the objective instead of minimizing (default: False).
    """

    _sparse_error = "Rprop does not support sparse gradients"

    def __init__(
        self,
        params,
        lr=1e-2,
        etas=(0.5, 1.2),
        step_sizes=(1e-6, 50),
        *,
        capturable: bool = False,
        foreach=None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _lr_check(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["prev"] = _zeros_like(p)
                    state["step_size"] = _zeros_like(p.grad)
                    _real_view(state["step_size"]._data)[...] = float(_to_scalar(group["lr"]))
                _bump_step(state)
                xp = backend.array_module(p._data)
                param = _real_view(p._data)
                prev, step_size = _real_view(state["prev"]._data), _real_view(state["step_size"]._data)
                grad = _real_view(p.grad._data)
                grad = -grad if maximize else grad.copy()
                sign = xp.sign(grad * prev)
                factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1.0)).astype(param.dtype)
                xp.multiply(step_size, factor, out=step_size)
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                grad[sign < 0] = 0  # a flipped sign: skip this element's update
                xp.subtract(param, xp.sign(grad) * step_size, out=param)
                prev[...] = grad
                _touch(p)
        return loss
