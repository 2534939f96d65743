"""``embervision.transforms.functional``: each op works on PIL images and on (..., C, H, W) tensors.

PIL images go through Pillow (as torchvision does); tensors through whole-array NumPy kernels in
``_tensor_ops`` (on the CPU: a CUDA tensor is processed on the host and moved back).
"""

from __future__ import annotations

import enum
import math
import numbers

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

import ember

from . import _tensor_ops as T


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_INTERP = {
    InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.NEAREST_EXACT: Image.NEAREST,
    InterpolationMode.BILINEAR: Image.BILINEAR, InterpolationMode.BICUBIC: Image.BICUBIC,
    InterpolationMode.BOX: Image.BOX, InterpolationMode.HAMMING: Image.HAMMING, InterpolationMode.LANCZOS: Image.LANCZOS,
}


def _interp(mode) -> InterpolationMode:
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int):
        return {v: k for k, v in _PIL_INTERP.items() if k is not InterpolationMode.NEAREST_EXACT}[mode]
    return InterpolationMode(mode)


def _is_pil(img) -> bool:
    return isinstance(img, Image.Image)


def _check(img):
    if not (_is_pil(img) or isinstance(img, ember.Tensor)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _arr(t: ember.Tensor) -> np.ndarray:
    if t.ndim < 2:
        raise TypeError(f"Tensor is not a torch image: expected at least 2 dims, got {t.ndim}")
    return t.detach().cpu().numpy()


def _wrap(arr: np.ndarray, like: ember.Tensor) -> ember.Tensor:
    out = ember.from_numpy(np.ascontiguousarray(arr))
    return out if like.device.type == "cpu" else out.to(like.device)


def get_dimensions(img):
    """[channels, height, width]."""
    _check(img)
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    c = 1 if img.ndim == 2 else img.shape[-3]
    return [c, img.shape[-2], img.shape[-1]]


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


# -- conversion ------------------------------------------------------------------------------------
def to_tensor(pic) -> ember.Tensor:
    """PIL image or (H, W, C) uint8 array -> float32 (C, H, W) tensor in [0, 1]."""
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        out = np.ascontiguousarray(arr.transpose(2, 0, 1))
        return ember.from_numpy(out.astype(np.float32) / 255.0 if out.dtype == np.uint8 else out.copy())
    if pic.mode == "1":
        arr = 255 * np.asarray(pic, dtype=np.uint8)
    else:
        arr = np.asarray(pic)
        if pic.mode == "I;16":
            arr = arr.astype(np.int16)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    out = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if out.dtype == np.uint8:
        return ember.from_numpy(out.astype(np.float32) / np.float32(255.0))
    return ember.from_numpy(out.copy())


def pil_to_tensor(pic) -> ember.Tensor:
    """PIL image -> (C, H, W) tensor of its own dtype (uint8 for 8-bit modes), unscaled."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.asarray(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None) -> Image.Image:
    """(C, H, W) tensor or (H, W, C) array -> PIL image; float input is scaled by 255."""
    if isinstance(pic, ember.Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = _arr(pic)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * 255).astype(np.uint8)
        arr = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    c = arr.shape[2]
    if c == 1:
        arr = arr[:, :, 0]
        mode = mode or {np.uint8: "L", np.int16: "I;16", np.int32: "I", np.float32: "F"}.get(arr.dtype.type)
        if mode is None:
            raise TypeError(f"Input type {arr.dtype} is not supported")
    else:
        mode = mode or {2: "LA", 3: "RGB", 4: "RGBA"}.get(c)
        if mode is None:
            raise ValueError(f"pic should not have > 4 channels. Got {c} channels.")
    return Image.fromarray(np.ascontiguousarray(arr), mode=mode)


def convert_image_dtype(image: ember.Tensor, dtype=ember.float32) -> ember.Tensor:
    """Convert between image dtypes, rescaling values (uint8 [0, 255] <-> float [0, 1])."""
    if not isinstance(image, ember.Tensor):
        raise TypeError("Input img should be Tensor Image")
    arr = _arr(image)
    target = np.dtype(dtype.name if dtype is not ember.bool else "bool")
    if arr.dtype == target:
        return image
    if arr.dtype.kind == "f":
        if target.kind == "f":
            return _wrap(arr.astype(target), image)
        if (arr.dtype == np.float32 and target in (np.int32, np.int64)) or (arr.dtype == np.float64 and target == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        eps = 1e-3
        return _wrap((arr * (T.max_value(target) + 1.0 - eps)).astype(target), image)
    in_max = T.max_value(arr.dtype)
    if target.kind == "f":
        return _wrap((arr.astype(target) / in_max).astype(target), image)
    out_max = T.max_value(target)
    if in_max > out_max:
        factor = (in_max + 1) // (out_max + 1)
        return _wrap((arr // factor).astype(target), image)
    factor = (out_max + 1) // (in_max + 1)
    return _wrap(arr.astype(target) * factor, image)


def normalize(tensor: ember.Tensor, mean, std, inplace: bool = False) -> ember.Tensor:
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tuple(tensor.shape)}")
    dt = tensor.dtype
    mean_t = ember.as_tensor(mean, dtype=dt, device=tensor.device)
    std_t = ember.as_tensor(std, dtype=dt, device=tensor.device)
    if (std_t == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dt}, leading to division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.view(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.view(-1, 1, 1)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


# -- geometry --------------------------------------------------------------------------------------
def _output_size(h, w, size, max_size):
    if isinstance(size, numbers.Number):
        size = [int(size)]
    size = list(size)
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        if max_size is not None:
            if max_size <= size[0]:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge")
    return size[0], size[1]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` ([h, w]) or so that the smaller edge is ``size`` (keeping the aspect ratio)."""
    _check(img)
    interpolation = _interp(interpolation)
    _, h, w = get_dimensions(img)
    oh, ow = _output_size(h, w, size, max_size)
    if _is_pil(img):
        if (oh, ow) == (h, w):
            return img
        return img.resize((ow, oh), _PIL_INTERP[interpolation])
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT, InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"Tensor resize supports nearest, bilinear and bicubic, not {interpolation.value}")
    return _wrap(T.resize(_arr(img), (oh, ow), interpolation.value, bool(antialias)), img)


def crop(img, top: int, left: int, height: int, width: int):
    """Crop a box; regions outside the image are zero-filled."""
    _check(img)
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr = _arr(img)
    h, w = arr.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        arr = T.pad(arr[..., max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)],
                    max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0))
        return _wrap(arr, img)
    return _wrap(arr[..., top:bottom, left:right].copy(), img)


def center_crop(img, output_size):
    """Crop the centre; pads with zeros when the crop is larger than the image."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    th, tw = output_size
    if tw > w or th > h:
        padding = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0, (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if tw == w and th == h:
            return img
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _parse_padding(padding):
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = list(padding)
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad each border; ``padding`` is int, (lr, tb) or (l, t, r, b); modes constant/edge/reflect/symmetric."""
    _check(img)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    if _is_pil(img):
        if padding_mode == "constant" and min(left, top, right, bottom) >= 0:
            fill_color = fill if not isinstance(fill, (list, tuple)) else tuple(fill)
            if img.mode == "P":
                out = ImageOps.expand(img, border=(left, top, right, bottom), fill=fill_color)
                out.putpalette(img.getpalette())
                return out
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=fill_color)
        arr = np.asarray(img)
        chw = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        out = T.pad(chw, left, top, right, bottom, fill, padding_mode)
        out = out[0] if arr.ndim == 2 else out.transpose(1, 2, 0)
        res = Image.fromarray(np.ascontiguousarray(out), mode=img.mode if img.mode != "P" else "L")
        if img.mode == "P":
            res = res.convert("P")
            res.putpalette(img.getpalette())
        return res
    return _wrap(T.pad(_arr(img), left, top, right, bottom, fill, padding_mode), img)


def hflip(img):
    _check(img)
    if _is_pil(img):
        return img.transpose(Image.FLIP_LEFT_RIGHT)
    return _wrap(_arr(img)[..., ::-1].copy(), img)


def vflip(img):
    _check(img)
    if _is_pil(img):
        return img.transpose(Image.FLIP_TOP_BOTTOM)
    return _wrap(_arr(img)[..., ::-1, :].copy(), img)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy)
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def _fill_for_pil(img, fill):
    if fill is None:
        return None
    bands = len(img.getbands())
    if isinstance(fill, (list, tuple)):
        fill = tuple(int(f) if img.mode != "F" else float(f) for f in fill)
        if len(fill) == 1:
            fill = fill * bands
        return fill[0] if bands == 1 else fill
    return fill if bands == 1 else tuple([fill] * bands)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by ``angle`` degrees, translate by ``translate`` pixels, scale and shear, about the centre."""
    _check(img)
    interpolation = _interp(interpolation)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear) + [0.0] * (2 - len(shear)) if len(shear) < 2 else list(shear)
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    _, h, w = get_dimensions(img)
    if _is_pil(img):
        center_f = [w * 0.5, h * 0.5] if center is None else list(center)
        matrix = _get_inverse_affine_matrix(center_f, angle, translate, scale, shear)
        return img.transform((w, h), Image.AFFINE, matrix, _PIL_INTERP[interpolation], fillcolor=_fill_for_pil(img, fill))
    center_f = [0.0, 0.0] if center is None else [(c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [float(t) for t in translate], scale, shear)
    mode = "nearest" if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT) else "bilinear"
    return _wrap(T.affine_sample(_arr(img), matrix, mode, fill), img)


def _affine_output_size(matrix, w, h):
    """(h, w) of the box holding the image under ``matrix``, computed as torchvision does (float32, corners
    relative to the centre, ceil/floor after truncating to 1e-4) so that sizes agree to the pixel."""
    f32 = np.float32
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=f32)
    new = pts @ np.asarray(matrix, dtype=f32).reshape(2, 3).T
    shift = np.array([w * 0.5, h * 0.5], dtype=f32)
    lo, hi = new.min(axis=0) + shift, new.max(axis=0) + shift
    tol = f32(1e-4)
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[1]), int(size[0])


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees."""
    _check(img)
    interpolation = _interp(interpolation)
    if _is_pil(img):
        return img.rotate(angle, _PIL_INTERP[interpolation], expand, center, fillcolor=_fill_for_pil(img, fill))
    _, h, w = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [(c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out_size = None
    if expand:
        out_size = _affine_output_size(matrix, w, h)
    mode = "nearest" if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT) else "bilinear"
    return _wrap(T.affine_sample(_arr(img), matrix, mode, fill, out_size), img)


def _get_perspective_coeffs(startpoints, endpoints):
    """The (a, b, c, d, e, f, g, h) mapping an output pixel (x, y) of ``endpoints`` to the input pixel
    ``((ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy + 1))`` of ``startpoints`` (least squares)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints and {len(endpoints)} endpoints."
        )
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):  # 4 corners: the 8x8 system itself
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    return np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32).tolist()


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the corners ``startpoints`` ([top-left, top-right, bottom-right, bottom-left]) move to
    ``endpoints``."""
    _check(img)
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _interp(interpolation)
    if _is_pil(img):
        return img.transform(img.size, Image.PERSPECTIVE, coeffs, _PIL_INTERP[interpolation],
                             fillcolor=_fill_for_pil(img, fill))
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    mode = "nearest" if interpolation == InterpolationMode.NEAREST else "bilinear"
    return _wrap(T.perspective_sample(_arr(img), coeffs, mode, fill), img)


def five_crop(img, size):
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif len(size) == 1:
        size = (size[0], size[0])
    _, h, w = get_dimensions(img)
    ch, cw = size
    if cw > w or ch > h:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(h, w)}")
    return (crop(img, 0, 0, ch, cw), crop(img, 0, w - cw, ch, cw), crop(img, h - ch, 0, ch, cw),
            crop(img, h - ch, w - cw, ch, cw), center_crop(img, [ch, cw]))


def ten_crop(img, size, vertical_flip=False):
    first = five_crop(img, size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first + five_crop(flipped, size)


# -- colour ----------------------------------------------------------------------------------------
def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Luma (ITU-R 601-2) with 1 or 3 output channels."""
    _check(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        gray = img.convert("L")
        return Image.merge("RGB", [gray, gray, gray]) if num_output_channels == 3 else gray
    arr = _arr(img)
    if arr.shape[-3] == 1:
        gray = arr.copy()
    elif arr.shape[-3] == 3:
        gray = T.rgb_to_grayscale(arr)
    else:
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {arr.shape[-3]}")
    if num_output_channels == 3:
        gray = np.repeat(gray, 3, axis=-3)
    return _wrap(gray, img)


to_grayscale = rgb_to_grayscale


def _check_factor(name, factor):
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")


def adjust_brightness(img, brightness_factor: float):
    _check_factor("brightness_factor", brightness_factor)
    if _is_pil(img):
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    arr = _arr(img)
    return _wrap(T.blend(arr, 0.0, brightness_factor), img)


def adjust_contrast(img, contrast_factor: float):
    _check_factor("contrast_factor", contrast_factor)
    if _is_pil(img):
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    arr = _arr(img)
    gray = T.rgb_to_grayscale(arr) if arr.shape[-3] == 3 else arr
    mean = gray.astype(np.float32).mean(axis=(-3, -2, -1), keepdims=True)
    return _wrap(T.blend(arr, mean, contrast_factor), img)


def adjust_saturation(img, saturation_factor: float):
    _check_factor("saturation_factor", saturation_factor)
    if _is_pil(img):
        return ImageEnhance.Color(img).enhance(saturation_factor)
    arr = _arr(img)
    if arr.shape[-3] == 1:
        return img
    return _wrap(T.blend(arr, T.rgb_to_grayscale(arr), saturation_factor), img)


def adjust_hue(img, hue_factor: float):
    """Shift the hue by ``hue_factor`` in [-0.5, 0.5] of a full turn."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        if img.mode in ("L", "1", "I", "F"):
            return img
        input_mode = img.mode
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h = (np_h.astype(np.int16) + int(hue_factor * 255)).astype(np.uint8)  # wraps around as uint8
        h = Image.fromarray(np_h, "L")
        return Image.merge("HSV", (h, s, v)).convert(input_mode)
    arr = _arr(img)
    if arr.shape[-3] == 1:
        return img
    floatimg = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr
    hsv = T.rgb_to_hsv(floatimg)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + hue_factor, 1.0)
    hsv[..., 0, :, :] = np.where(hsv[..., 0, :, :] < 0, hsv[..., 0, :, :] + 1.0, hsv[..., 0, :, :])
    out = T.hsv_to_rgb(hsv)
    if arr.dtype == np.uint8:
        out = (out * 255.0).astype(np.uint8)
    return _wrap(out, img)


def adjust_gamma(img, gamma: float, gain: float = 1):
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    if _is_pil(img):
        input_mode = img.mode
        img = img.convert("RGB")
        gamma_map = [int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma)) for ele in range(256)] * 3
        return img.point(gamma_map).convert(input_mode)
    arr = _arr(img)
    result = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr
    result = np.clip(gain * result**gamma, 0, 1)
    if arr.dtype == np.uint8:
        result = (result * (255 + 1.0 - 1e-3)).astype(np.uint8)
    return _wrap(result, img)


def adjust_sharpness(img, sharpness_factor: float):
    _check_factor("sharpness_factor", sharpness_factor)
    if _is_pil(img):
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    arr = _arr(img)
    if arr.shape[-1] <= 2 or arr.shape[-2] <= 2:
        return img
    return _wrap(T.blend(arr, T.sharpness_blur(arr), sharpness_factor), img)


def autocontrast(img):
    if _is_pil(img):
        return ImageOps.autocontrast(img)
    arr = _arr(img)
    bound = T.max_value(arr.dtype)
    src = arr.astype(np.float32)
    lo = src.min(axis=(-2, -1), keepdims=True)
    hi = src.max(axis=(-2, -1), keepdims=True)
    eq = hi == lo
    lo = np.where(eq, 0, lo)
    hi = np.where(eq, bound, hi)
    scale = bound / (hi - lo)
    out = np.clip((src - lo) * scale, 0, bound).astype(arr.dtype)
    return _wrap(out, img)


def equalize(img):
    if _is_pil(img):
        return ImageOps.equalize(img)
    arr = _arr(img)
    if arr.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    flat = arr.reshape(-1, arr.shape[-2], arr.shape[-1])
    out = np.stack([T.equalize_channel(ch) for ch in flat])  # one LUT per channel plane
    return _wrap(out.reshape(arr.shape), img)


def posterize(img, bits: int):
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if _is_pil(img):
        return ImageOps.posterize(img, bits)
    arr = _arr(img)
    if arr.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    mask = np.uint8(-int(2 ** (8 - bits)) & 0xFF)
    return _wrap(arr & mask, img)


def solarize(img, threshold: float):
    if _is_pil(img):
        return ImageOps.solarize(img, threshold)
    arr = _arr(img)
    bound = T.max_value(arr.dtype)
    if threshold > bound:
        raise TypeError("Threshold should be less than bound of img.")
    return _wrap(np.where(arr >= threshold, bound - arr, arr).astype(arr.dtype), img)


def invert(img):
    if _is_pil(img):
        return ImageOps.invert(img)
    arr = _arr(img)
    bound = T.max_value(arr.dtype)
    return _wrap((bound - arr).astype(arr.dtype) if arr.dtype != np.bool_ else ~arr, img)


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a separable Gaussian kernel (odd ``kernel_size``; sigma default 0.3*((k-1)*0.5-1)+0.8)."""
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    kernel_size = list(kernel_size)
    if len(kernel_size) == 1:
        kernel_size = kernel_size * 2
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    sigma = list(sigma)
    if len(sigma) == 1:
        sigma = sigma * 2
    if any(s <= 0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    pil = _is_pil(img)
    t = pil_to_tensor(img) if pil else img
    arr = _arr(t)
    kx = T.gaussian_kernel1d(kernel_size[0], sigma[0]).astype(np.float32)
    ky = T.gaussian_kernel1d(kernel_size[1], sigma[1]).astype(np.float32)
    out = T.conv_separable(arr.astype(np.float32), kx, ky)
    if arr.dtype != np.float32:
        out = T._cast_back(out, arr.dtype) if arr.dtype.kind != "f" else out.astype(arr.dtype)
    res = _wrap(out, t)
    return to_pil_image(res, mode=img.mode) if pil else res


def erase(img: ember.Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> ember.Tensor:
    """Set ``img[..., i:i+h, j:j+w] = v`` (tensor images only)."""
    if not isinstance(img, ember.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    arr = _arr(img) if inplace else _arr(img).copy()
    arr[..., i : i + h, j : j + w] = v.detach().cpu().numpy() if isinstance(v, ember.Tensor) else v
    return img if inplace and img.device.type == "cpu" else _wrap(arr, img)
