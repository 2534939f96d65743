"""Tiny PNG charts with Pillow (no plotting dependency): loss/accuracy curves and prediction grids."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def _panel(draw, box, title, series, font):
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((x0 + 6, y0 - 16), title, fill=(0, 0, 0), font=font)
    values = [v for _, ys in series for v in ys if v is not None]
    if not values:
        return
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    n = max(len(ys) for _, ys in series)
    for i, (label, ys) in enumerate(series):
        color = _COLORS[i % len(_COLORS)]
        pts = [
            (x0 + 8 + (x1 - x0 - 16) * (k / max(n - 1, 1)), y1 - 8 - (y1 - y0 - 16) * ((v - lo) / (hi - lo)))
            for k, v in enumerate(ys) if v is not None
        ]
        if len(pts) > 1:
            draw.line(pts, fill=color, width=2)
        for p in pts:
            draw.ellipse((p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2), fill=color)
        draw.text((x1 - 110, y0 + 6 + 14 * i), label, fill=color, font=font)
    draw.text((x0 + 4, y0 + 4), f"{hi:.4g}", fill=(90, 90, 90), font=font)
    draw.text((x0 + 4, y1 - 16), f"{lo:.4g}", fill=(90, 90, 90), font=font)


def save_curves(history: dict, path: str) -> None:
    """Two panels (loss, accuracy) over epochs from ``history`` lists: train_loss, test_loss, train_acc, test_acc."""
    img = Image.new("RGB", (720, 320), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    _panel(draw, (20, 30, 350, 300), "loss per epoch", [("train", history.get("train_loss", [])), ("test", history.get("test_loss", []))], font)
    _panel(draw, (380, 30, 700, 300), "accuracy per epoch", [("train", history.get("train_acc", [])), ("test", history.get("test_acc", []))], font)
    img.save(path)


def save_predictions(images: np.ndarray, preds, targets, classes, path: str, ncol: int = 8) -> None:
    """A grid of images (N, H, W) or (N, C, H, W) in [0, 1], each captioned 'pred (true)'; wrong ones in red."""
    if images.ndim == 3:
        images = images[:, None]
    n, c, h, w = images.shape
    scale = max(1, 64 // max(h, w))
    cell_w, cell_h = w * scale + 8, h * scale + 22
    rows = (n + ncol - 1) // ncol
    canvas = Image.new("RGB", (cell_w * ncol, cell_h * rows), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for k in range(n):
        arr = np.clip(images[k].transpose(1, 2, 0) * 255, 0, 255).astype(np.uint8)
        tile = Image.fromarray(arr[:, :, 0] if c == 1 else arr).resize((w * scale, h * scale), Image.NEAREST)
        r, col = divmod(k, ncol)
        canvas.paste(tile.convert("RGB"), (col * cell_w + 4, r * cell_h + 2))
        ok = int(preds[k]) == int(targets[k])
        name = lambda i: str(classes[i]).split(" - ")[0] if classes else str(i)  # noqa: E731
        draw.text((col * cell_w + 4, r * cell_h + h * scale + 6), f"{name(int(preds[k]))} ({name(int(targets[k]))})",
                  fill=(0, 120, 0) if ok else (200, 0, 0), font=font)
    canvas.save(path)
