"""SparseAdam: Adam for sparse gradients (``Embedding(sparse=True)``), updating only the rows a step touches."""

from __future__ import annotations

import math

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .optimizer import Optimizer, _to_scalar, _touch, _zeros_like

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Implements the lazy version of Adam for sparse gradients, with PyTorch's update rule and state keys
    (``step`` a Python int, ``exp_avg``, ``exp_avg_sq``): only the moments and parameter rows present in a
    step's gradient change.

    Args:
        params (iterable): parameters or parameter groups to optimize (dense tensors with sparse gradients).
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        maximize (bool, optional): maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        complex_params = [[i, j] for i, g in enumerate(self.param_groups) for j, p in enumerate(g["params"])
                          if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters")

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps, lr, maximize = group["eps"], float(_to_scalar(group["lr"])), group.get("maximize", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                state["step"] += 1
                grad = p.grad.coalesce()
                rows, values = grad._rows, grad._vals
                if values.size == 0:
                    continue
                if maximize:
                    values = -values
                xp = backend.array_module(values)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                old_avg, old_sq = exp_avg[rows], exp_avg_sq[rows]
                avg_update = (values - old_avg) * (1 - beta1)
                sq_update = (values * values - old_sq) * (1 - beta2)
                exp_avg[rows] += avg_update
                exp_avg_sq[rows] += sq_update
                numer = avg_update + old_avg
                denom = xp.sqrt(sq_update + old_sq) + eps
                step = state["step"]
                step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
                p._data[rows] += (-step_size) * (numer / denom)
                _touch(p)
        return loss
