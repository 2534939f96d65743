"""Dropout family: elementwise, channel-wise (1d/2d/3d) and alpha dropout, as mask multiplies."""

from __future__ import annotations

from ..dtypes import np_kind as _np_kind

from ..autograd.function import Primitive
from ..random import _gen, uniform_array
from . import _cuda_kernels as _cuda
from ._common import apply_inplace, inplace_source
from .unary import scalar_type_name

_ALPHA = 1.7580993408473766  # SELU's -scale * alpha, the value alpha dropout drops to


class _ScaleShift(Primitive):
    """``x * scale + shift`` with constant arrays (the dropout mask already holds 1 / (1 - p))."""

    @staticmethod
    def forward(ctx, x, scale, shift):
        if ctx.needs_input_grad is not None:
            ctx.scale = scale
        out = x._data * scale
        if shift is not None:
            out += shift
        return out

    @staticmethod
    def backward(ctx, grad):
        return _ScaleShift.apply(grad, ctx.scale, None), None, None


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, mask_shape):
    arr = input._data
    u = uniform_array(_gen(None, input.device), mask_shape, arr.dtype)
    return u >= p


def _apply(input, scale, shift, inplace):
    if inplace:
        return apply_inplace(input, _ScaleShift.apply(inplace_source(input), scale, shift))
    return _ScaleShift.apply(input, scale, shift)


def _dropout(input, p, training, inplace, mask_shape, alpha):
    _check_p(p)
    if not training or p == 0.0:
        return input
    arr = input._data
    if _np_kind(arr.dtype) != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {scalar_type_name(arr.dtype)}")
    if not alpha and _cuda.usable(arr):  # the mask-and-scale array in one launch, from the same samples
        u = uniform_array(_gen(None, input.device), mask_shape, arr.dtype)
        return _apply(input, _cuda.dropout_scale(u, p), None, inplace)
    keep = _keep_mask(input, p, mask_shape).astype(arr.dtype)
    if alpha:
        if p == 1.0:
            return input * 0.0
        a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
        shift = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
        return _apply(input, keep * a, shift.astype(arr.dtype), inplace)
    scale = keep * (1.0 / (1.0 - p)) if p < 1.0 else keep
    return _apply(input, scale, None, inplace)


def _feature_shape(input, dims, name):
    nd = input.dim()
    if nd not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{name}: Expected {dims + 1}D or {dims + 2}D input, but received a {nd}D input. "
        )
    shape = tuple(input.shape)
    keep = 2 if nd == dims + 2 else 1
    return shape[:keep] + (1,) * (nd - keep)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)`` (training only)."""
    return _dropout(input, p, training, inplace, tuple(input.shape), False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU activations' mean and variance."""
    return _dropout(input, p, training, inplace, tuple(input.shape), True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    return _dropout(input, p, training, inplace, tuple(input.shape[:2]) + (1,) * (input.dim() - 2), True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) inputs."""
    return _dropout(input, p, training, inplace, _feature_shape(input, 1, "dropout1d"), False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) inputs."""
    _check_p(p)
    if input.dim() not in (3, 4):
        import warnings

        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead.",
            UserWarning,
            stacklevel=2,
        )
    if input.dim() < 2:
        return dropout(input, p, training, inplace)
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _dropout(input, p, training, inplace, shape, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _dropout(input, p, training, inplace, _feature_shape(input, 3, "dropout3d"), False)


# the top-level ATen forms (``torch.dropout(input, p, train)``): ``p`` and ``train`` required, ``train`` by name
def aten_dropout(input, p, train):
    """``ember.dropout(input, p, train)``: :func:`ember.nn.functional.dropout` with ATen's arguments."""
    return dropout(input, p, train)


def aten_alpha_dropout(input, p, train):
    """``ember.alpha_dropout(input, p, train)``: :func:`ember.nn.functional.alpha_dropout` with ATen's arguments."""
    return alpha_dropout(input, p, train)


def aten_feature_alpha_dropout(input, p, train):
    """``ember.feature_alpha_dropout(input, p, train)``: the functional form with ATen's arguments."""
    return feature_alpha_dropout(input, p, train)


__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]
