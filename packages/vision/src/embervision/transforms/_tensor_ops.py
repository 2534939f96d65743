"""Image operations on (..., C, H, W) arrays: the tensor half of ``transforms.functional``.

Everything here is whole-array NumPy (resampling is two small matrix products, sampling for
rotations/affine one gather), matching torchvision's tensor kernels.
"""

from __future__ import annotations

import numpy as np


def is_float(arr) -> bool:
    return arr.dtype.kind == "f"


def max_value(dtype) -> float:
    if np.dtype(dtype).kind == "f":
        return 1.0
    if np.dtype(dtype) == np.bool_:
        return 1
    return np.iinfo(dtype).max


# -- resampling ------------------------------------------------------------------------------------
def _filter(mode):
    if mode == "bilinear":
        return 1.0, lambda x: np.clip(1.0 - np.abs(x), 0.0, None)
    if mode == "bicubic":
        a = -0.5  # PIL's (and torchvision's antialiased) cubic

        def cubic(x):
            x = np.abs(x)
            return np.where(
                x < 1, ((a + 2) * x - (a + 3)) * x * x + 1, np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0)
            )

        return 2.0, cubic
    raise ValueError(f"unsupported interpolation {mode}")


def resample_matrix(in_size: int, out_size: int, mode: str, antialias: bool) -> np.ndarray:
    """(out, in) weights of a separable resize, as PIL computes them (support widened when downscaling)."""
    if mode in ("nearest", "nearest-exact"):
        scale = in_size / out_size
        offset = 0.5 if mode == "nearest-exact" else 0.0
        src = np.minimum(np.floor((np.arange(out_size) + offset) * scale).astype(np.int64), in_size - 1)
        m = np.zeros((out_size, in_size))
        m[np.arange(out_size), src] = 1.0
        return m
    support, kernel = _filter(mode)
    scale = in_size / out_size
    filterscale = max(scale, 1.0) if antialias else 1.0
    centers = (np.arange(out_size) + 0.5) * scale
    x = np.arange(in_size) + 0.5
    w = kernel((x[None, :] - centers[:, None]) / filterscale)
    if not antialias:
        # plain interpolation: sample at centres, clamp at the borders (align_corners=False)
        src = np.clip(centers - 0.5, 0, in_size - 1)
        w = kernel(np.arange(in_size)[None, :] - src[:, None])
    total = w.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return w / total


def resize(arr: np.ndarray, size, mode: str, antialias: bool) -> np.ndarray:
    h, w = arr.shape[-2:]
    oh, ow = size
    if (oh, ow) == (h, w):
        return arr.copy()
    src = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32)
    mh = resample_matrix(h, oh, mode, antialias).astype(src.dtype)
    mw = resample_matrix(w, ow, mode, antialias).astype(src.dtype)
    out = np.matmul(np.matmul(mh, src), mw.T)
    return _cast_back(out, arr.dtype)


def _cast_back(out, dtype):
    if np.dtype(dtype).kind == "f":
        return out.astype(dtype)
    info = np.iinfo(dtype) if np.dtype(dtype) != np.bool_ else None
    out = np.round(out)
    if info is not None:
        out = np.clip(out, info.min, info.max)
    return out.astype(dtype)


# -- geometry --------------------------------------------------------------------------------------
def pad(arr: np.ndarray, left, top, right, bottom, fill=0, mode="constant") -> np.ndarray:
    """Pad the last two dims; negative pads crop, as torchvision does."""
    crop = (slice(max(-top, 0), arr.shape[-2] - max(-bottom, 0)), slice(max(-left, 0), arr.shape[-1] - max(-right, 0)))
    arr = arr[..., crop[0], crop[1]]
    widths = [(0, 0)] * (arr.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[mode]
    if np_mode == "constant":
        if isinstance(fill, (list, tuple)) and arr.ndim >= 3:
            out = np.pad(arr, widths, mode="constant")
            mask = np.ones(arr.shape[-2:], dtype=bool)
            mask = np.pad(mask, widths[-2:], mode="constant")
            fill_arr = np.asarray(fill, dtype=arr.dtype).reshape(-1, 1, 1)
            return np.where(mask, out, fill_arr)
        return np.pad(arr, widths, mode="constant", constant_values=fill)
    return np.pad(arr, widths, mode=np_mode)


def affine_sample(arr: np.ndarray, matrix, mode: str, fill, out_size=None) -> np.ndarray:
    """Sample ``arr`` at the inverse-affine positions: output pixel (x, y), measured from the image
    centre, reads input position ``matrix @ (x, y, 1)`` (also from the centre), like torchvision's
    tensor affine/rotate (``align_corners=False`` grid sampling)."""
    h, w = arr.shape[-2:]
    oh, ow = out_size or (h, w)
    # torchvision builds the sampling grid in the image's float dtype (float32 for integer images),
    # normalised to [-1, 1], and grid_sample un-normalises it; doing the same float32 arithmetic
    # makes nearest-neighbour picks agree exactly at rounding boundaries.
    gdt = arr.dtype if is_float(arr) else np.float32
    theta = np.asarray(matrix, dtype=gdt).reshape(2, 3)
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=gdt)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=gdt)
    base = np.empty((oh, ow, 3), dtype=gdt)
    base[..., 0], base[..., 1], base[..., 2] = xs, ys[:, None], 1
    grid = base.reshape(-1, 3) @ (theta.T / np.asarray([0.5 * w, 0.5 * h], dtype=gdt))
    return _sample(arr, grid[:, 0].reshape(oh, ow), grid[:, 1].reshape(oh, ow), mode, fill)


def perspective_sample(arr: np.ndarray, coeffs, mode: str, fill) -> np.ndarray:
    """Sample ``arr`` where the perspective ``coeffs`` (a..h, output -> input pixel) map each output pixel,
    with torchvision's float grid arithmetic (``_perspective_grid``)."""
    h, w = arr.shape[-2:]
    gdt = arr.dtype if is_float(arr) else np.float32
    c = np.asarray(coeffs, dtype=gdt)
    base = np.empty((h, w, 3), dtype=gdt)
    base[..., 0] = np.linspace(0.5, w - 0.5, w, dtype=gdt)
    base[..., 1] = np.linspace(0.5, h - 0.5, h, dtype=gdt)[:, None]
    base[..., 2] = 1
    flat = base.reshape(-1, 3)
    num = flat @ (c[:6].reshape(2, 3).T / np.asarray([0.5 * w, 0.5 * h], dtype=gdt))
    den = flat @ np.array([[c[6], c[6]], [c[7], c[7]], [1, 1]], dtype=gdt)
    grid = num / den - 1.0
    return _sample(arr, grid[:, 0].reshape(h, w), grid[:, 1].reshape(h, w), mode, fill)


def _sample(arr, gx, gy, mode, fill):
    """grid_sample (align_corners=False, zeros padding) at normalised positions, then blend in ``fill``."""
    h, w = arr.shape[-2:]
    oh, ow = gx.shape
    sx = ((gx + 1) * w - 1) / 2
    sy = ((gy + 1) * h - 1) / 2
    src = arr.astype(np.float32) if not is_float(arr) else arr
    if mode == "nearest":
        ix, iy = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)  # round half to even, as grid_sample
        valid = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        out = src[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)]
        weight = valid.astype(src.dtype)
    else:
        x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
        out = np.zeros(src.shape[:-2] + (oh, ow), dtype=src.dtype)
        weight = np.zeros((oh, ow), dtype=src.dtype)
        for dy in (0, 1):  # the four bilinear taps, each a whole-image gather
            for dx in (0, 1):
                xi, yi = x0 + dx, y0 + dy
                wgt = (1 - np.abs(sx - xi)) * (1 - np.abs(sy - yi))
                valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
                wgt = np.where(valid, wgt, 0.0).astype(src.dtype)
                out += src[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)] * wgt
                weight += wgt
    fill_value = np.zeros(arr.shape[-3] if arr.ndim >= 3 else 1, dtype=src.dtype) if fill is None else np.asarray(fill, dtype=src.dtype).reshape(-1)
    fill_b = fill_value.reshape((-1, 1, 1)) if arr.ndim >= 3 else fill_value.reshape(())
    if mode == "nearest":
        out = np.where(weight > 0, out, fill_b)
    elif fill is not None:
        # torchvision blends with the sampled validity mask, multiplying the (already weighted) sample by it again
        out = out * weight + (1 - weight) * fill_b
    return _cast_back(out, arr.dtype) if not is_float(arr) else out.astype(arr.dtype)


def rgb_to_grayscale(arr: np.ndarray) -> np.ndarray:
    r, g, b = arr[..., 0, :, :], arr[..., 1, :, :], arr[..., 2, :, :]
    gray = (0.2989 * r + 0.587 * g + 0.114 * b).astype(arr.dtype)
    return gray[..., None, :, :]


def blend(img1, img2, ratio):
    bound = max_value(img1.dtype)
    out = np.clip(ratio * img1.astype(np.float32) + (1.0 - ratio) * np.asarray(img2, dtype=np.float32), 0, bound)
    return out.astype(img1.dtype)


def rgb_to_hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3)


def hsv_to_rgb(img):
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(img.shape, dtype=img.dtype)
    for k, (rr, gg, bb) in enumerate(choices):  # six hue sectors, each a whole-image select
        m = i == k
        out[..., 0, :, :] = np.where(m, rr, out[..., 0, :, :])
        out[..., 1, :, :] = np.where(m, gg, out[..., 1, :, :])
        out[..., 2, :, :] = np.where(m, bb, out[..., 2, :, :])
    return out


def gaussian_kernel1d(ksize, sigma):
    half = (ksize - 1) * 0.5
    x = np.linspace(-half, half, ksize)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def conv_separable(arr, kx, ky):
    """Reflect-padded separable 2-D convolution over the last two dims (as torchvision's blur)."""
    px, py = len(kx) // 2, len(ky) // 2
    padded = np.pad(arr, [(0, 0)] * (arr.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    h, w = arr.shape[-2:]
    tmp = sum(kx[k] * padded[..., :, k : k + w] for k in range(len(kx)))
    return sum(ky[k] * tmp[..., k : k + h, :] for k in range(len(ky)))


def sharpness_blur(img):
    """PIL's SMOOTH kernel on the interior, borders untouched (torchvision's adjust_sharpness)."""
    kernel = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13.0
    src = img.astype(np.float32)
    h, w = img.shape[-2:]
    out = src.copy()
    acc = sum(kernel[i, j] * src[..., i : h - 2 + i, j : w - 2 + j] for i in range(3) for j in range(3))
    if not is_float(img):
        acc = np.round(acc)
    out[..., 1:-1, 1:-1] = acc
    return out.astype(img.dtype)


def equalize_channel(ch):
    """Histogram equalisation of one uint8 plane, PIL's algorithm."""
    hist = np.bincount(ch.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = (nonzero[:-1].sum()) // 255 if nonzero.size else 0
    if step == 0:
        return ch
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.concatenate(([0], lut[:-1])).clip(0, 255).astype(np.uint8)
    return lut[ch]


def interp_name(mode) -> str:
    return getattr(mode, "value", mode)


__all__ = ["resize", "pad", "affine_sample", "rgb_to_grayscale", "blend", "rgb_to_hsv", "hsv_to_rgb"]
