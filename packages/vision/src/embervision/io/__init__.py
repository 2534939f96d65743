"""``embervision.io``: read, decode, encode and write images as uint8 (C, H, W) tensors, via Pillow."""

from __future__ import annotations

import enum
import io as _io

import numpy as np
from PIL import Image, UnidentifiedImageError

import ember


class ImageReadMode(enum.Enum):
    """Which channels ``read_image``/``decode_image`` return."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4


_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def read_file(path) -> ember.Tensor:
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return ember.from_numpy(np.frombuffer(f.read(), dtype=np.uint8).copy())


def write_file(filename, data: ember.Tensor) -> None:
    with open(filename, "wb") as f:
        f.write(_bytes_of(data))


def _bytes_of(data) -> bytes:
    if not isinstance(data, ember.Tensor) or data.dtype is not ember.uint8 or data.ndim != 1:
        raise RuntimeError("Expected a 1-D uint8 tensor of encoded bytes")
    return data.cpu().numpy().tobytes()


def _to_tensor(img: Image.Image, mode) -> ember.Tensor:
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if mode != ImageReadMode.UNCHANGED:
        img = img.convert(_PIL_MODE[mode])
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> ember.Tensor:
    """Decode PNG/JPEG/GIF/BMP/WebP bytes (a 1-D uint8 tensor or a path) to a uint8 (C, H, W) tensor."""
    if not isinstance(input, ember.Tensor):
        input = read_file(input)
    try:
        img = Image.open(_io.BytesIO(_bytes_of(input)))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise RuntimeError(f"Could not decode the image: {exc}") from exc
    if apply_exif_orientation:
        from PIL import ImageOps

        img = ImageOps.exif_transpose(img)
    return _to_tensor(img, mode)


decode_png = decode_jpeg = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> ember.Tensor:
    """Read an image file into a uint8 (C, H, W) tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _to_pil(input: ember.Tensor) -> Image.Image:
    if not isinstance(input, ember.Tensor) or input.dtype is not ember.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {getattr(input, 'dtype', type(input))}")
    if input.ndim != 3 or input.shape[0] not in (1, 2, 3, 4):
        raise RuntimeError(f"The input tensor must have shape (C, H, W) with C in 1..4, got {tuple(input.shape)}")
    arr = input.cpu().numpy().transpose(1, 2, 0)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[2]]
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else np.ascontiguousarray(arr), mode=mode)


def encode_png(input: ember.Tensor, compression_level: int = 6) -> ember.Tensor:
    if not 0 <= compression_level <= 9:
        raise ValueError("Compression level should be between 0 and 9")
    buf = _io.BytesIO()
    _to_pil(input).save(buf, format="PNG", compress_level=compression_level)
    return ember.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def encode_jpeg(input: ember.Tensor, quality: int = 75) -> ember.Tensor:
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    img = _to_pil(input)
    if img.mode in ("LA", "RGBA"):
        raise RuntimeError("JPEG cannot store an alpha channel; pass 1 or 3 channels")
    buf = _io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return ember.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_png(input: ember.Tensor, filename, compression_level: int = 6) -> None:
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input: ember.Tensor, filename, quality: int = 75) -> None:
    write_file(filename, encode_jpeg(input, quality))


__all__ = [
    "ImageReadMode", "read_file", "write_file", "decode_image", "decode_png", "decode_jpeg", "read_image",
    "encode_png", "encode_jpeg", "write_png", "write_jpeg",
]
