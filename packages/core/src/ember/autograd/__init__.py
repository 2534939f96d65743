"""``ember.autograd``: reverse-mode automatic differentiation."""

from .engine import backward, grad
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .functional import gradcheck, gradgradcheck
from . import graph, profiler

__all__ = [
    "backward", "grad", "Function", "once_differentiable", "enable_grad", "inference_mode",
    "is_grad_enabled", "no_grad", "set_grad_enabled", "gradcheck", "gradgradcheck", "graph",
]


def Variable(data, requires_grad=False, volatile=False):
    """Legacy wrapper (PyTorch < 0.4): returns ``data`` itself, with ``requires_grad`` set when asked."""
    if requires_grad:
        data.requires_grad_(True)
    return data
