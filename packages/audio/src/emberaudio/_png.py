"""A confusion-matrix PNG written with zlib + struct only (no imaging dependency), with a 3x5 pixel digit font."""

from __future__ import annotations

import struct
import zlib

import numpy as np

# 3x5 bitmaps of 0-9, rows top to bottom, 3 bits each (MSB = left)
_DIGITS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 7, 1, 7), "4": (5, 5, 7, 1, 1),
    "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 1, 1), "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7),
}


def write_png(path: str, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 array as an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))  # filter type 0 per scanline

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def _text(img, x, y, s, color, scale):
    for ch in s:
        rows = _DIGITS.get(ch)
        if rows is not None:
            for r, bits in enumerate(rows):
                for c in range(3):
                    if bits >> (2 - c) & 1:
                        img[y + r * scale:y + (r + 1) * scale, x + c * scale:x + (c + 1) * scale] = color
        x += 4 * scale


def confusion_png(matrix: np.ndarray, path: str, cell: int = 28) -> None:
    """Heat map of a (true x predicted) count matrix: rows = true class, columns = prediction, counts in cells,
    class indices along the top and left. Diagonal cells are green, off-diagonal errors red."""
    n = matrix.shape[0]
    margin = cell
    img = np.full((margin + n * cell + 4, margin + n * cell + 4, 3), 255, dtype=np.uint8)
    rowsum = np.maximum(matrix.sum(1, keepdims=True), 1)
    frac = matrix / rowsum
    scale = 2 if cell >= 24 else 1
    for i in range(n):
        _text(img, margin + i * cell + cell // 3, 8, str(i % 100), (0, 0, 0), scale)
        _text(img, 6, margin + i * cell + cell // 3, str(i % 100), (0, 0, 0), scale)
        for j in range(n):
            v = frac[i, j]
            base = np.array((40, 160, 60) if i == j else (210, 50, 40), dtype=np.float64)
            color = (255 - v * (255 - base)).astype(np.uint8)
            y0, x0 = margin + i * cell, margin + j * cell
            img[y0:y0 + cell - 1, x0:x0 + cell - 1] = color
            if matrix[i, j]:
                txt = str(int(matrix[i, j]))
                ink = (255, 255, 255) if v > 0.5 else (0, 0, 0)
                tw = len(txt) * 4 * scale - scale
                s = scale if tw <= cell - 4 else 1
                tw = len(txt) * 4 * s - s
                _text(img, x0 + (cell - tw) // 2, y0 + (cell - 5 * s) // 2, txt, ink, s)
    write_png(path, img)
