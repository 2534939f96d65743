"""Adagrad (Duchi et al.)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
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
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Implements Adagrad with PyTorch's update rule and state keys (``step``, ``sum``).

    State is created for every parameter at construction (``sum`` filled with
    ``initial_accumulator_value``), as PyTorch does."""

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach=None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused=None,
    ) -> None:
        _lr_check(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        _check_common(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _new_step()
        xp = backend.array_module(p._data)
        init = self.defaults["initial_accumulator_value"]
        if p._data.dtype.kind == "c":
            init = complex(init, init)
        state["sum"] = Tensor._make(xp.full(p._data.shape, init, dtype=p._data.dtype))

    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def share_memory(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            lr_decay, eps, wd, maximize = group["lr_decay"], group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p)
                step = _bump_step(state)
                clr = lr / (1 + (step - 1) * lr_decay)
                xp = backend.array_module(p._data)
                _blockwise(_adagrad_kernel(xp, clr, eps, wd, maximize), [p._data, p.grad._data, state["sum"]._data], 2)
                _touch(p)
        return loss


def _adagrad_kernel(xp, clr, eps, wd, maximize):
    def kernel(p, g, s, t1, t2):
        g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        xp.multiply(g, g, out=t2)
        xp.add(s, t2, out=s)
        xp.sqrt(s, out=t2)
        xp.add(t2, eps, out=t2)
        xp.multiply(g, -clr, out=t1)
        xp.divide(t1, t2, out=t1)
        xp.add(p, t1, out=p)

    return kernel
