"""``embervision.utils``: make_grid, save_image and draw_bounding_boxes."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

import ember


def _as_batch(tensor) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        tensor = ember.stack(list(tensor), dim=0)
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor).__name__}")
    arr = tensor.detach().cpu().numpy().astype(np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid expects 2-, 3- or 4-D input, got {tensor.ndim}-D")
    if arr.shape[1] == 1:
        arr = np.repeat(arr, 3, axis=1)
    return arr


def _normalize(arr, value_range, scale_each):
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

    def norm(a, lo, hi):
        np.clip(a, lo, hi, out=a)
        a -= lo
        a /= max(hi - lo, 1e-5)

    if scale_each:
        for img in arr:  # one image at a time: each gets its own range
            lo, hi = value_range if value_range is not None else (float(img.min()), float(img.max()))
            norm(img, lo, hi)
    else:
        lo, hi = value_range if value_range is not None else (float(arr.min()), float(arr.max()))
        norm(arr, lo, hi)
    return arr


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> ember.Tensor:
    """Tile a batch (B, C, H, W) or list of images into one (3, H', W') image, ``nrow`` per row."""
    arr = _as_batch(tensor)
    if normalize:
        arr = _normalize(arr.copy(), value_range, scale_each)
    if arr.shape[0] == 1:
        return ember.from_numpy(np.ascontiguousarray(arr[0]))
    n, c, h, w = arr.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((c, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=np.float32)
    for k in range(n):  # one slice assignment per image, not per pixel
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding : y * height + padding + h, x * width + padding : x * width + padding + w] = arr[k]
    return ember.from_numpy(grid)


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Save a tensor (or a batch, tiled with ``make_grid(**kwargs)``) as an image file."""
    grid = make_grid(tensor, **kwargs).numpy()
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr).save(fp, format=format)


def _palette(n):
    base = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [tuple(int(v) for v in (i * base) % 255) for i in range(n)]


def _color(c):
    return ImageColor.getrgb(c) if isinstance(c, str) else tuple(int(v) for v in c)


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None, font_size=None,
                        label_colors=None) -> ember.Tensor:
    """Draw ``boxes`` (N, 4) in (xmin, ymin, xmax, ymax) pixels on a uint8 (C, H, W) image; returns a new image."""
    if not isinstance(image, ember.Tensor) or image.dtype is not ember.uint8:
        raise ValueError(f"Tensor uint8 expected, got {getattr(image, 'dtype', type(image))}")
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError("Pass an image of shape (C, H, W) with 1 or 3 channels")
    box_arr = boxes.detach().cpu().numpy() if isinstance(boxes, ember.Tensor) else np.asarray(boxes)
    if box_arr.ndim != 2 or box_arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {box_arr.shape}")
    if ((box_arr[:, 0] > box_arr[:, 2]) | (box_arr[:, 1] > box_arr[:, 3])).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to convert them")
    n = box_arr.shape[0]
    if labels is not None and len(labels) != n:
        raise ValueError(f"Number of boxes ({n}) and labels ({len(labels)}) mismatch. Please specify labels for each box.")
    if colors is None:
        color_list = _palette(n)
    elif isinstance(colors, list):
        if len(colors) < n:
            raise ValueError(f"Number of colors ({len(colors)}) is less than number of boxes ({n}). ")
        color_list = [_color(c) for c in colors]
    else:
        color_list = [_color(colors)] * n
    arr = image.cpu().numpy().transpose(1, 2, 0)
    pil = Image.fromarray(np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else np.ascontiguousarray(arr))
    draw = ImageDraw.Draw(pil, "RGBA" if fill else None)
    txt_font = ImageFont.load_default() if font is None else ImageFont.truetype(font, size=font_size or 10)
    for i, (bbox, color) in enumerate(zip(box_arr.tolist(), color_list)):
        if fill:
            draw.rectangle(bbox, width=width, outline=color, fill=color + (100,))
        else:
            draw.rectangle(bbox, width=width, outline=color)
        if labels is not None:
            margin = width + 1
            draw.text((bbox[0] + margin, bbox[1] + margin), labels[i], fill=color, font=txt_font)
    out = np.asarray(pil).transpose(2, 0, 1)
    if image.shape[0] == 1:
        out = out[:1]
    return ember.from_numpy(np.ascontiguousarray(out))


__all__ = ["make_grid", "save_image", "draw_bounding_boxes"]
