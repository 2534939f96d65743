"""Adam (and the shared machinery of the Adam family: state init, option checks)."""

from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from ..ops import _cuda_kernels as _cuda
from ..tensor import Tensor
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

__all__ = ["Adam"]


def _check_betas_eps_wd(betas, eps, weight_decay):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _lerp(xp, a, b, w, t):
    """``a.lerp_(b, w)`` with PyTorch's formula (``a + w * (b - a)`` for ``|w| < 0.5``), using scratch ``t``."""
    xp.subtract(b, a, out=t)
    if abs(w) < 0.5:
        xp.multiply(t, w, out=t)
        xp.add(a, t, out=a)
    else:
        xp.multiply(t, 1.0 - w, out=t)
        xp.subtract(b, t, out=a)


def _prep_grad(xp, p, g, maximize, wd, t_out, t_tmp):
    """``-g if maximize``, then ``+ wd * p`` (coupled weight decay); never modifies ``g``."""
    if maximize:
        xp.negative(g, out=t_out)
        g = t_out
    if wd != 0:
        xp.multiply(p, wd, out=t_tmp)
        xp.add(g, t_tmp, out=t_out)
        g = t_out
    return g


class Adam(Optimizer):
    """Implements Adam (Kingma & Ba), with PyTorch's update rule and state keys
    (``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``)."""

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach=None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused=None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _lr_check(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")  # noqa: TRY004 (PyTorch raises ValueError)
        betas = tuple(map(_to_scalar, betas))
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        _check_common(defaults)
        super().__init__(params, defaults)

    _group_defaults_on_unpickle = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False, "differentiable": False, "fused": None, "decoupled_weight_decay": False}

    @no_grad()
    def step(self, closure=None):
        """Perform a single optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = (float(_to_scalar(b)) for b in group["betas"])
            eps, wd = group["eps"], group["weight_decay"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                arrays = [p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data]
                if amsgrad:
                    arrays.append(state["max_exp_avg_sq"]._data)
                if _cuda.usable(*arrays):  # one fused launch per parameter
                    _cuda.adam_step(*arrays[:4], arrays[4] if amsgrad else None, beta1=beta1, beta2=beta2, eps=eps,
                                    wd=wd, lr=lr, decoupled=decoupled, maximize=maximize, step_size=step_size,
                                    bc2_sqrt=bias_correction2_sqrt)
                    _touch(p)
                    continue
                xp = backend.array_module(p._data)
                kernel = _adam_kernel(
                    xp, lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize, step_size, bias_correction2_sqrt
                )
                _blockwise(kernel, arrays, 2)
                _touch(p)
        return loss


def _adam_kernel(xp, lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize, step_size, bc2_sqrt):
    w1 = 1 - beta1
    w2 = 1 - beta2
    decay = 1 - lr * wd
    neg_step = -step_size

    def kernel(p, g, m, v, *rest):
        if amsgrad:
            vmax, t1, t2 = rest
        else:
            t1, t2 = rest
        if wd != 0 and decoupled:
            xp.multiply(p, decay, out=p)
            g = _prep_grad(xp, p, g, maximize, 0, t1, t2)
        else:
            g = _prep_grad(xp, p, g, maximize, wd, t1, t2)
        _lerp(xp, m, g, w1, t2)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, w2, out=t2)
        xp.multiply(t2, g, out=t2)
        xp.add(v, t2, out=v)
        # g (possibly t1) is dead from here on
        if amsgrad:
            xp.maximum(vmax, v, out=vmax)
            xp.sqrt(vmax, out=t1)
        else:
            xp.sqrt(v, out=t1)
        xp.divide(t1, bc2_sqrt, out=t1)
        xp.add(t1, eps, out=t1)
        xp.multiply(m, neg_step, out=t2)
        xp.divide(t2, t1, out=t2)
        xp.add(p, t2, out=p)

    return kernel
