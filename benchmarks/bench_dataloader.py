"""DataLoader throughput on an image-decoding dataset: ``num_workers=0`` vs worker processes.

``python -m benchmarks.bench_dataloader [--images 384] [--size 384] [--workers 2] [--batch 32]``

PNG files are written to a temporary directory; ``__getitem__`` reads and decodes one (PIL when installed,
else a NumPy/zlib decoder for the filter types written here), random-crops, flips, downsamples 2x and
normalises it to a float32 CHW array, like a typical ImageNet-style pipeline.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import resource
import struct
import sys
import tempfile
import time
import zlib

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "packages" / "core" / "src"))


# -- a minimal PNG writer / reader (8-bit RGB, one filter type for all rows) -----------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, img: np.ndarray) -> None:
    """``img``: (H, W, 3) uint8. Rows use the PNG 'Up' filter (type 2)."""
    h, w, _ = img.shape
    up = img.astype(np.int16)
    up[1:] -= img[:-1]
    rows = np.concatenate([np.full((h, 1), 2, np.uint8), (up % 256).astype(np.uint8).reshape(h, w * 3)], axis=1)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
                + _chunk(b"IEND", b""))


def read_png(path) -> np.ndarray:
    """Decode an 8-bit RGB PNG whose rows all use filter 0 (None), 1 (Sub) or 2 (Up)."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except ImportError:
        pass
    data = pathlib.Path(path).read_bytes()
    pos, idat, w, h = 8, [], None, None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, w * 3 + 1)
    kinds, px = np.unique(raw[:, 0]), raw[:, 1:]
    if len(kinds) != 1 or kinds[0] not in (0, 1, 2):
        raise NotImplementedError(f"PNG filter types {kinds.tolist()} need PIL")
    if kinds[0] == 2:
        px = np.cumsum(px, axis=0, dtype=np.uint8)  # uint8 arithmetic wraps mod 256, as PNG does
    elif kinds[0] == 1:
        px = np.cumsum(px.reshape(h, w, 3), axis=1, dtype=np.uint8)
    return px.reshape(h, w, 3)


_MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
_STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)


class PNGFolder:
    """Map-style dataset over PNG files: returns (float32 CHW image, label). Works with ember and torch."""

    def __init__(self, files, crop):
        self.files, self.crop = list(files), crop

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = read_png(self.files[i])
        rng = np.random.default_rng(i)
        h, w, _ = img.shape
        top, left = rng.integers(0, h - self.crop + 1), rng.integers(0, w - self.crop + 1)
        img = img[top:top + self.crop, left:left + self.crop]
        if rng.random() < 0.5:
            img = img[:, ::-1]
        img = img.astype(np.float32)
        img = (img[0::2, 0::2] + img[1::2, 0::2] + img[0::2, 1::2] + img[1::2, 1::2]) * 0.25  # 2x2 area mean
        chw = (img.transpose(2, 0, 1) / 255.0 - _MEAN) / _STD
        return np.ascontiguousarray(chw, dtype=np.float32), i % 10


def make_images(root, count, size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    files = []
    for i in range(count):  # smooth gradients plus noise: compresses like a photo, not like random bytes
        base = (np.stack([xx, yy, xx + yy], -1) * (i % 7 + 1)) % 256
        img = (base + rng.integers(0, 24, (size, size, 3))).astype(np.uint8)
        path = pathlib.Path(root) / f"img_{i:05d}.png"
        write_png(path, img)
        files.append(path)
    return files


def time_epoch(lib, dataset, workers, batch):
    """(wall seconds, main-process CPU seconds, worker CPU seconds) of one epoch, worker start-up included."""
    dl = lib.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers)
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    n = 0
    for x, y in dl:
        n += x.shape[0]
    wall = time.perf_counter() - t0
    assert n == len(dataset)
    del dl  # the workers were joined when the epoch ended, so their CPU time is in RUSAGE_CHILDREN now
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(a, b):
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)

    return wall, cpu(self0, self1), cpu(kids0, kids1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=256)
    p.add_argument("--size", type=int, default=384, help="PNG side length")
    p.add_argument("--crop", type=int, default=320, help="crop side (even); output is crop/2")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3, help="epochs per setting, interleaved; the best is reported")
    p.add_argument("--torch", action="store_true", help="also time torch.utils.data.DataLoader")
    args = p.parse_args(argv)

    import ember

    with tempfile.TemporaryDirectory() as root:
        files = make_images(root, args.images, args.size)
        ds = PNGFolder(files, args.crop)
        t0 = time.perf_counter()
        for i in range(16):
            ds[i]
        per_item_ms = (time.perf_counter() - t0) / 16 * 1000
        print(f"{args.images} PNGs {args.size}x{args.size} -> float32 3x{args.crop // 2}x{args.crop // 2}, "
              f"batch {args.batch}; {per_item_ms:.2f} ms per sample in one process; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
              f"decoder: {'PIL' if _has_pil() else 'numpy+zlib'}")
        libs = [("ember", ember)]
        if args.torch:
            import torch

            torch.set_num_threads(1)
            libs.append(("torch", torch))
        rows = {}
        for name, lib in libs:
            runs = {0: [], args.workers: []}
            for _ in range(args.repeat):
                for w in runs:
                    runs[w].append(time_epoch(lib, ds, w, args.batch))
            best = {w: min(r) for w, r in runs.items()}
            (w0, m0, _), (ww, mw, kw) = best[0], best[args.workers]
            rows[name] = {"wall_0": w0, "wall_w": ww, "speedup": w0 / ww, "main_cpu_0": m0, "main_cpu_w": mw,
                          "worker_cpu": kw}
            print(f"{name:>6}: num_workers=0 {w0:6.2f} s/epoch ({args.images / w0:6.1f} img/s, main CPU {m0:5.2f} s) | "
                  f"num_workers={args.workers} {ww:6.2f} s/epoch ({args.images / ww:6.1f} img/s, main CPU {mw:5.2f} s, "
                  f"workers CPU {kw:5.2f} s) | speedup {w0 / ww:.2f}x")
    return rows


def _has_pil():
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
