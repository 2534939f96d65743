"""Spatial transformer ops: ``affine_grid`` (sampling grids from batches of affine matrices) and
``grid_sample`` / ``grid_sampler`` (reading an input at the grid's locations), 2-D and 3-D.

``grid_sample`` is one primitive for every mode: each output location reads 2**d corners (bilinear),
4x4 taps (bicubic) or one pixel (nearest) with one row ``take`` per tap from a channels-last copy of the
input; the backward adds the weighted output gradient onto the same positions with a bincount per tap (a
scatter-add, repeats accumulate) and forms the grid gradient from the same tap values. No loop runs over
batch items or pixels; the loops are over the (at most 16) taps. The coordinate arithmetic follows
PyTorch's CPU kernels (its vectorised 2-D kernel and its generic 3-D one), so the floor of a coordinate,
and with it the one-sided grid gradient at whole-pixel positions, is PyTorch's.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import _fast, backend
from ..autograd.autocast import autocast_op
from ..autograd.function import Primitive, once_differentiable
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._common import xp_of
from .unary import check_tensor, scalar_type_name

__all__ = ["GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES", "affine_grid", "grid_sample"]

GRID_SAMPLE_INTERPOLATION_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
GRID_SAMPLE_PADDING_MODES = {"zeros": 0, "border": 1, "reflection": 2}
_MODES, _PADDINGS = GRID_SAMPLE_INTERPOLATION_MODES, GRID_SAMPLE_PADDING_MODES
_BILINEAR, _NEAREST, _BICUBIC = 0, 1, 2
_ZEROS, _BORDER, _REFLECTION = 0, 1, 2
_CUBIC_A = -0.75
_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def _sizes(t):
    return str(list(t.shape))


# ------------------------------------------------------------------------------------------------
# source coordinates along one axis
# ------------------------------------------------------------------------------------------------
def _scale(size, align):
    """d(source coordinate) / d(grid value) before padding."""
    return (size - 1) / 2 if align else size / 2


def _unnormalize(g, size, align, generic):
    """Grid values in [-1, 1] to pixel coordinates, in the grid's dtype with PyTorch's operation order
    (its vectorised 2-D kernel scales once; its generic 3-D kernel halves last)."""
    if generic:
        return ((g + 1) / 2) * (size - 1) if align else ((g + 1) * size - 1) / 2
    return (g + 1) * _scale(size, align) if align else (g + 1) * _scale(size, align) - 0.5


def _clip(xp, c, size):
    """Clamp to [0, size - 1]; the gradient multiplier is 0 on and beyond the borders (PyTorch's)."""
    out = xp.minimum(xp.maximum(c, 0), size - 1)
    return out, (c > 0) & (c < size - 1)


def _reflect(xp, c, size, align):
    """Reflect about the borders (pixel centres with align_corners, pixel edges without) until in range;
    also the sign of d(reflected) / d(c)."""
    if align and size <= 1:
        return xp.zeros_like(c), xp.zeros(c.shape, dtype=bool)
    low, twice_span = (0.0, 2.0 * (size - 1)) if align else (-0.5, 2.0 * size)
    d = c - low if low else c
    extra = xp.fmod(xp.abs(d), twice_span)
    mirrored = twice_span - extra
    flip = extra > mirrored
    out = xp.where(flip, mirrored, extra)
    return (out + low if low else out), flip ^ (d < 0)


def _source(xp, g, size, padding, align, generic):
    """(source coordinate, d coordinate / d grid value) for one axis after padding."""
    c = _unnormalize(g, size, align, generic)
    mult = _scale(size, align)
    if padding == _BORDER:
        c, inside = _clip(xp, c, size)
        mult = xp.where(inside, mult, 0).astype(c.dtype)
    elif padding == _REFLECTION:
        c, negative = _reflect(xp, c, size, align)
        c, inside = _clip(xp, c, size)
        mult = xp.where(inside, xp.where(negative, -mult, mult), 0).astype(c.dtype)
    return c, mult


def _tap_index(xp, c, size, padding, align):
    """Integer-valued tap coordinates (bicubic) to (index, in-bounds mask) after padding."""
    if padding == _BORDER:
        c = _clip(xp, c, size)[0]
    elif padding == _REFLECTION:
        c = _clip(xp, _reflect(xp, c, size, align)[0], size)[0]
    ok = (c > -1) & (c < size)
    return xp.where(ok, c, 0).astype(np.int64), ok


# ------------------------------------------------------------------------------------------------
# taps
# ------------------------------------------------------------------------------------------------
def _linear_taps(xp, coords, sizes, strides):
    """The 2**d corners around each location: (flat spatial index [N, Q], weight masked to the input, in-bounds
    mask, corner offsets, per-axis weights) each; out-of-bounds corners point at pixel 0 with weight 0."""
    floors = [xp.floor(c) for c in coords]
    fracs = [c - f for c, f in zip(coords, floors)]
    taps = []
    for offs in itertools.product((0, 1), repeat=len(coords)):
        lin, ok, ws = 0, None, []
        for c_f, t, o, size, stride in zip(floors, fracs, offs, sizes, strides):
            i = c_f + o
            inside = (i > -1) & (i < size)
            ok = inside if ok is None else ok & inside
            lin = lin + xp.where(inside, i, 0).astype(np.int64) * stride
            ws.append(t if o else 1 - t)
        w = ws[0]
        for wa in ws[1:]:
            w = w * wa
        taps.append((lin, xp.where(ok, w, 0), ok, offs, ws))
    return taps


def _cubic_coeffs(t):
    """Cubic-convolution weights (alpha = -0.75) of the taps at -1, 0, 1, 2 for fraction t."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_coeffs_grad(t):
    """d(coefficient) / dt of ``_cubic_coeffs``."""
    a = _CUBIC_A

    def near(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    return [far(t + 1), near(t), -near(1 - t), -far(2 - t)]


# ------------------------------------------------------------------------------------------------
# the primitive
# ------------------------------------------------------------------------------------------------
def _gather(xp, rows_in, rows, ok):
    """Channels-last rows_in [N * P, C] at rows [N, Q] -> [N, Q, C]; zeros where ``ok`` is False. (Taking
    whole rows of C values is several times faster than a per-element gather in the [N, C, P] layout.)"""
    v = xp.take(rows_in, rows, axis=0)
    return v if ok is None else v * ok[:, :, None]


def _layout(x, grid):
    """Sizes and strides of the input's spatial axes and the grid's components per axis ([N, Q] each)."""
    nd = grid.shape[-1]
    N, C = x.shape[:2]
    sizes = x.shape[2:]
    strides = [int(np.prod(sizes[a + 1:], dtype=np.int64)) for a in range(nd)]
    Q = int(np.prod(grid.shape[1:-1], dtype=np.int64))
    g = grid.reshape(N, Q, nd)
    generic = nd == 3
    comps = [g[:, :, nd - 1 - a] for a in range(nd)]  # the grid's last axis is (x, y[, z]): W first
    return nd, N, C, sizes, strides, Q, comps, generic


def _sample(x, grid, mode, padding, align, want_grad):
    """The output [N, Q, C] (channels last) and, when ``want_grad``, what backward needs."""
    xp = xp_of(x)
    nd, N, C, sizes, strides, Q, comps, generic = _layout(x, grid)
    P = int(np.prod(sizes, dtype=np.int64))
    compiled = mode not in (_BICUBIC, _NEAREST) and grid.dtype == x.dtype and _fast.usable(x)
    if compiled:  # one more row, of zeros, for the taps out of bounds to read
        padded = xp.empty((N * P + 1, C), dtype=x.dtype)
        padded[-1] = 0
        rows_in = padded[:-1]
        rows_in.reshape(N, P, C)[...] = x.reshape(N, C, P).transpose(0, 2, 1)
    else:
        rows_in = xp.ascontiguousarray(x.reshape(N, C, P).transpose(0, 2, 1)).reshape(N * P, C)
    nbase = xp.arange(N, dtype=np.int64)[:, None] * P  # row of pixel 0 of each batch item
    if mode == _BICUBIC:
        raw = [_unnormalize(gc, s, align, generic) for gc, s in zip(comps, sizes)]
        floors = [xp.floor(c) for c in raw]
        fracs = [c - f for c, f in zip(raw, floors)]
        cy, cx = _cubic_coeffs(fracs[0]), _cubic_coeffs(fracs[1])
        ys = [_tap_index(xp, floors[0] + (j - 1), sizes[0], padding, align) for j in range(4)]
        xs = [_tap_index(xp, floors[1] + (i - 1), sizes[1], padding, align) for i in range(4)]
        out, vals = None, {}
        for j in range(4):
            row = None
            for i in range(4):
                rows = nbase + ys[j][0] * strides[0] + xs[i][0]
                ok = ys[j][1] & xs[i][1]
                v = _gather(xp, rows_in, rows, ok)
                vals[j, i] = (rows, ok, v)
                term = v * cx[i][:, :, None]
                row = term if row is None else row + term
            term = row * cy[j][:, :, None]
            out = term if out is None else out + term
        state = (raw, fracs, vals) if want_grad else None
        return out, state
    coords, mults = zip(*(_source(xp, gc, s, padding, align, generic) for gc, s in zip(comps, sizes)))
    if mode == _NEAREST:
        lin, ok = 0, None
        for c, size, stride in zip(coords, sizes, strides):
            r = xp.rint(c)
            inside = (r > -1) & (r < size)
            ok = inside if ok is None else ok & inside
            lin = lin + xp.where(inside, r, 0).astype(np.int64) * stride
        rows = nbase + lin
        out = _gather(xp, rows_in, rows, ok)
        return out, ([(rows, ok.astype(x.dtype))] if want_grad else None)
    taps = [(nbase + t[0],) + t[1:] for t in _linear_taps(xp, coords, sizes, strides)]
    if compiled:
        rows = xp.stack([xp.where(ok, r, N * P) for r, _, ok, _, _ in taps], axis=-1)
        weights = xp.stack([w for _, w, _, _, _ in taps], axis=-1)
        out = xp.empty((N, Q, C), dtype=x.dtype)
        _fast.kernels().taps_sum(padded, rows, weights, out)
        return out, (("compiled", padded, rows, weights, taps, mults) if want_grad else None)
    # out-of-bounds taps read pixel 0 with weight 0: without a backward (whose grid gradient reads the values),
    # masking the values too matters only for a non-finite input
    finite = not want_grad and x.dtype.kind == "f" and bool(xp.isfinite(rows_in).all())
    out, vals = None, []
    for rows, w, ok, _, _ in taps:
        v = _gather(xp, rows_in, rows, None if finite else ok)
        vals.append(v)
        term = v * w[:, :, None].astype(x.dtype, copy=False)
        out = term if out is None else out + term
    return out, ((taps, vals, mults) if want_grad else None)


def _linear_dcoord(nd, lin_taps, sums, mults):
    """d out / d source coordinate per axis from each (bi/tri)linear tap's sum over channels of grad * value:
    each tap's weight is a product of per-axis factors t or 1 - t."""
    dcoord = [0] * nd
    for (_, _, _, offs, ws), s in zip(lin_taps, sums):
        for a in range(nd):
            others = None
            for b in range(nd):
                if b != a:
                    others = ws[b] if others is None else others * ws[b]
            term = s if others is None else s * others
            dcoord[a] = dcoord[a] + term if offs[a] else dcoord[a] - term
    return [dc * m for dc, m in zip(dcoord, mults)]


class _GridSampler(Primitive):
    """``grid_sampler(input, grid, mode, padding, align_corners)`` on validated [N, C, *S] / [N, *O, d]."""

    _bf16_native = True  # coordinates in the grid's own precision, as PyTorch (pixel choices follow them)

    @staticmethod
    def forward(ctx, input, grid, mode, padding, align):
        x, g = input._data, grid._data
        want = ctx.needs_input_grad is not None and any(ctx.needs_input_grad[:2])
        out, state = _sample(x, g, mode, padding, align, want)
        if want:
            ctx.state = (x.shape, g.shape, mode, padding, align, state)
            ctx.save_for_backward(input, grid)
        return out.transpose(0, 2, 1).reshape(x.shape[:2] + g.shape[1:-1]).astype(x.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x_shape, g_shape, mode, padding, align, state = ctx.state
        input, grid = ctx.saved_tensors
        go = grad._data
        xp = xp_of(go)
        N, C = x_shape[:2]
        nd = g_shape[-1]
        P = int(np.prod(x_shape[2:], dtype=np.int64))
        go = go.reshape(N, C, int(np.prod(g_shape[1:-1], dtype=np.int64))).transpose(0, 2, 1)  # [N, Q, C]
        dtype = input._data.dtype
        need_in, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_in = None  # (N, P, C) when a branch below computes it
        # the (input row, weight) of every tap, and d out / d coordinate summed over channels
        if mode == _NEAREST:
            taps = state
            dcoord = None
        elif mode == _BICUBIC:
            raw, fracs, vals = state
            cy, cx = _cubic_coeffs(fracs[0]), _cubic_coeffs(fracs[1])
            dy, dx = _cubic_coeffs_grad(fracs[0]), _cubic_coeffs_grad(fracs[1])
            taps, gy, gx = [], 0, 0
            for (j, i), (rows, ok, v) in vals.items():
                taps.append((rows, xp.where(ok, cx[i] * cy[j], 0)))
                if need_grid:
                    s = (go * v).sum(axis=2)
                    gy = gy + s * (cx[i] * dy[j])
                    gx = gx + s * (dx[i] * cy[j])
            sizes = x_shape[2:]
            dcoord = [gy * _scale(sizes[0], align), gx * _scale(sizes[1], align)] if need_grid else None
        elif state[0] == "compiled":  # the padded rows, tap rows and weights of the compiled forward
            _, padded, rows, weights, lin_taps, mults = state
            go = xp.ascontiguousarray(go)
            taps = None
            dcoord = None
            if need_grid:
                dots = xp.empty(rows.shape, dtype=go.dtype)
                _fast.kernels().taps_dot(go, padded, rows, dots)
                dcoord = _linear_dcoord(nd, lin_taps, [dots[:, :, t] for t in range(rows.shape[2])], mults)
            if need_in:
                gin = xp.zeros(padded.shape, dtype=go.dtype)
                _fast.kernels().taps_scatter(go, rows, weights, gin)
                grad_in = gin[:-1].reshape(N, P, C)
        else:
            lin_taps, vals, mults = state
            taps = [(rows, w) for rows, w, _, _, _ in lin_taps]
            dcoord = None
            if need_grid:
                dcoord = _linear_dcoord(nd, lin_taps, [(go * v).sum(axis=2) for v in vals], mults)
        grad_grid = None
        if need_in and taps is not None:
            # one bincount (scatter-add; repeats accumulate) per tap into the channels-last layout of the
            # gather: per tap keeps the index arrays small, where one call over all taps had to concatenate them
            chan = xp.arange(C, dtype=np.int64)
            gin = None
            for rows, w in taps:
                part = xp.bincount((rows[:, :, None] * C + chan).reshape(-1), weights=(go * w[:, :, None]).reshape(-1),
                                   minlength=N * P * C)
                gin = part if gin is None else gin.__iadd__(part)
            grad_in = gin.astype(dtype, copy=False).reshape(N, P, C)
        if grad_in is not None:
            grad_in = Tensor._make(xp.ascontiguousarray(grad_in.transpose(0, 2, 1)).reshape(x_shape))
        if need_grid:
            gg = xp.zeros((N, go.shape[1], nd), dtype=grid._data.dtype)
            if dcoord is not None:
                for a in range(nd):
                    gg[:, :, nd - 1 - a] = dcoord[a]
            grad_grid = Tensor._make(gg.reshape(g_shape))
        return grad_in, grad_grid, None, None, None


# ------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------
def _check_sampler_args(input, grid, mode):
    """ATen's checks of ``grid_sampler`` (common, then 2-D or 3-D), then the dtypes its kernels accept."""
    check_tensor(input, "grid_sampler")
    check_tensor(grid, "grid_sampler", "grid", 2)
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    for t in (input, grid):
        if t.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_sizes(input)} and grid with sizes {_sizes(grid)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, but got "
                           f"grid with sizes {_sizes(grid)}")
    for i in range(2, input.ndim):
        if input.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {_sizes(input)} with dimension {i} being empty")
    d = 2 if input.ndim == 4 else 3
    if d == 2 and grid.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                           f"input with sizes {_sizes(input)} and grid with sizes {_sizes(grid)}")
    if d == 3:
        if input.ndim != 5 or grid.ndim != 5:
            raise RuntimeError(f"grid_sampler(): expected 5D input and grid with same number of dimensions, but got "
                               f"input with sizes {_sizes(input)} and grid with sizes {_sizes(grid)}")
        if mode == _BICUBIC:
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    kind = input._data.dtype
    # PyTorch's 2-D kernel returns an empty output before looking at dtypes; its 3-D one checks the input's
    empty = input.shape[0] * input.shape[1] * int(np.prod(grid.shape[1:-1], dtype=np.int64)) == 0
    if empty and d == 2:
        if not input.is_floating_point() and is_grad_enabled() and (input.requires_grad or grid.requires_grad):
            raise RuntimeError(f"Autograd not support dtype: {scalar_type_name(kind)}")
        return d
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if d == 2 else "grid_sampler3d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type_name(kind)}'")
    if not empty and grid._data.dtype != kind:
        raise RuntimeError(f"expected scalar type {scalar_type_name(kind)} but found "
                           f"{scalar_type_name(grid._data.dtype)}")
    return d


@autocast_op
def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """ATen's ``grid_sampler``: ``grid_sample`` with integer modes (bilinear 0, nearest 1, bicubic 2;
    zeros 0, border 1, reflection 2) and a required boolean ``align_corners``."""
    if type(align_corners) is not bool:
        raise TypeError(f"grid_sampler(): argument 'align_corners' (position 5) must be bool, not "
                        f"{type(align_corners).__name__}")
    if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): unknown interpolation mode {interpolation_mode} or padding mode "
                           f"{padding_mode}")
    _check_sampler_args(input, grid, interpolation_mode)
    return _GridSampler.apply(input, grid, int(interpolation_mode), int(padding_mode), align_corners)


def _sampler_nd(nd):
    def fn(input, grid, interpolation_mode, padding_mode, align_corners):
        if isinstance(input, Tensor) and input.ndim != nd + 2:
            raise RuntimeError(f"grid_sampler(): expected {nd + 2}D input and grid with same number of dimensions, "
                               f"but got input with sizes {_sizes(input)} and grid with sizes "
                               f"{_sizes(grid) if isinstance(grid, Tensor) else grid}")
        return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)

    fn.__name__ = fn.__qualname__ = f"grid_sampler_{nd}d"
    fn.__doc__ = f"``grid_sampler`` for {nd + 2}-D inputs."
    return fn


grid_sampler_2d = _sampler_nd(2)
grid_sampler_3d = _sampler_nd(3)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    r"""Sample ``input`` at the locations in ``grid`` (Spatial Transformer Networks).

    Args:
        input (Tensor): :math:`(N, C, H_{in}, W_{in})` or :math:`(N, C, D_{in}, H_{in}, W_{in})`.
        grid (Tensor): :math:`(N, H_{out}, W_{out}, 2)` or :math:`(N, D_{out}, H_{out}, W_{out}, 3)`,
            normalised locations (``x``, ``y``[, ``z``]) where -1 and 1 are the input's extremes.
        mode (str): ``'bilinear'`` (trilinear for 5-D input) | ``'nearest'`` | ``'bicubic'`` (4-D only).
        padding_mode (str): ``'zeros'`` | ``'border'`` | ``'reflection'``: the values outside the input.
        align_corners (bool, optional): whether -1 and 1 are the centres (True) or the outer edges (False)
            of the corner pixels. Default: ``False`` (with a warning when not given, as PyTorch).

    Returns:
        Tensor: :math:`(N, C, H_{out}, W_{out})` or :math:`(N, C, D_{out}, H_{out}, W_{out})`.
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, _MODES[mode], _PADDINGS[padding_mode], align_corners)


# ------------------------------------------------------------------------------------------------
# affine_grid
# ------------------------------------------------------------------------------------------------
def _steps(n, align):
    """n evenly spaced values in [-1, 1] (pixel centres: scaled by (n - 1) / n without align_corners)."""
    if n <= 1:
        return np.zeros(max(n, 0))
    r = np.linspace(-1.0, 1.0, n)
    return r if align else r * (n - 1) / n


def affine_grid_generator(theta, size, align_corners):
    """ATen's ``affine_grid_generator``: the grid of ``affine_grid`` without its argument checks."""
    size = [int(s) for s in size]
    nd = len(size) - 2
    spatial = size[2:]
    # the base grid's columns are (x, y[, z], 1): W varies fastest
    axes = [_steps(n, align_corners) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m.reshape(-1) for m in reversed(mesh)] + [np.ones(int(np.prod(spatial)))], axis=-1)
    if theta.ndim == 3 and theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {nd + 1}] "
                           f"but got: [{theta.shape[0]}, {theta.shape[2]}].")
    xp = xp_of(theta._data)
    with backend.device_guard(theta.device):
        base_t = Tensor._make(xp.asarray(base.astype(theta._data.dtype if theta._data.dtype.kind == "f" else np.float32)))
    from .linalg import matmul

    out = matmul(base_t.to(theta.dtype), theta.transpose(1, 2))
    return out.reshape([size[0]] + spatial + [nd])


def affine_grid(theta, size, align_corners=None):
    r"""Sampling grids for ``grid_sample`` from a batch of affine matrices.

    Args:
        theta (Tensor): :math:`(N, 2, 3)` for 2-D or :math:`(N, 3, 4)` for 3-D transforms (floating point).
        size (sequence of int): the output size :math:`(N, C, H, W)` or :math:`(N, C, D, H, W)`.
        align_corners (bool, optional): as in :func:`grid_sample` (use the same value there).
            Default: ``False`` (with a warning when not given, as PyTorch).

    Returns:
        Tensor: :math:`(N, H, W, 2)` or :math:`(N, D, H, W, 3)`, differentiable in ``theta``.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)
