"""Data preparation for ``emberaudio.train``: every dataset becomes fixed-length mono clips in memory.

Clips are resampled to the training rate; longer ones keep their loudest window, shorter ones are centred in
zeros. YESNO recordings are cut into their eight words by an energy threshold chosen per file so that exactly
eight voiced regions appear.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import ember

from . import datasets
from .functional import resample

BUNDLED_FSDD = Path(__file__).resolve().parent / "_data" / "fsdd_small"


def fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop ``x`` (T,) to its loudest window of ``length`` samples, or centre it in zeros."""
    n = x.shape[0]
    if n >= length:
        energy = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
        start = int(np.argmax(energy[length:] - energy[:-length]))
        return x[start:start + length]
    out = np.zeros(length, dtype=np.float32)
    off = (length - n) // 2
    out[off:off + n] = x
    return out


def _to_rate(wave, sr, target):
    return wave if sr == target else resample(wave, sr, target)


def _clips(items, sample_rate, length):
    """``items``: iterable of (waveform Tensor[C, T], sr, label) -> (N, length) float32, (N,) int64."""
    xs, ys = [], []
    for wave, sr, label in items:
        mono = _to_rate(wave, sr, sample_rate).mean(0).numpy()
        xs.append(fit_length(mono, length))
        ys.append(label)
    if not xs:
        raise RuntimeError("the dataset is empty")
    return np.stack(xs).astype(np.float32), np.asarray(ys, dtype=np.int64)


def fsdd(root, train, sample_rate, length, folder="FSDD"):
    ds = datasets.FSDD(root, split="train" if train else "test", folder_in_archive=folder)
    x, y = _clips(((w, sr, lab) for w, sr, lab, _, _ in (ds[i] for i in range(len(ds)))), sample_rate, length)
    return x, y, [str(d) for d in range(10)]


def fsdd_small(root, train, sample_rate, length):
    return fsdd(BUNDLED_FSDD, train, sample_rate, length)


def word_segments(x: np.ndarray, hop: int = 80, words: int = 8):
    """Split a recording into ``words`` voiced regions, as (start, end) sample indices."""
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    e = 10 * np.log10((frames.astype(np.float64) ** 2).mean(1) + 1e-10)

    def regions(thr, gap=10, minlen=10):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], (e > thr).astype(np.int8), [0]])))
        merged = []
        for s, t in zip(edges[::2], edges[1::2]):
            if merged and s - merged[-1][1] < gap:
                merged[-1] = (merged[-1][0], t)
            else:
                merged.append((s, t))
        return [m for m in merged if m[1] - m[0] >= minlen]

    thresholds = np.arange(np.median(e) + 2, e.max() - 2, 0.5)
    good = [t for t in thresholds if len(regions(t)) == words]
    if good:
        segs = regions(good[len(good) // 2])
    else:  # split the longest region / drop the shortest until the count is right
        segs = max((regions(t) for t in thresholds), key=lambda r: (min(len(r), words), -abs(len(r) - words)))
        while len(segs) < words:
            k = max(range(len(segs)), key=lambda i: segs[i][1] - segs[i][0])
            s, t = segs[k]
            mid = (s + t) // 2
            segs[k:k + 1] = [(s, mid), (mid, t)]
        while len(segs) > words:
            segs.pop(min(range(len(segs)), key=lambda i: segs[i][1] - segs[i][0]))
    margin = 5
    return [(max(0, (s - margin) * hop), min(len(x), (t + margin) * hop)) for s, t in segs]


def yesno_words(root, train, sample_rate, length):
    """YESNO cut into words; files sorted by name, every fourth one (15 files, 120 words) is the test set."""
    ds = datasets.YESNO(root)
    xs, ys = [], []
    for i in range(len(ds)):
        if (i % 4 == 0) == train:
            continue
        wave, sr, labels = ds[i]
        mono = _to_rate(wave, sr, sample_rate).mean(0).numpy()
        for (s, t), label in zip(word_segments(mono, hop=sample_rate // 100), labels):
            xs.append(fit_length(mono[s:t], length))
            ys.append(label)
    return np.stack(xs).astype(np.float32), np.asarray(ys, dtype=np.int64), ["no", "yes"]


def speechcommands(root, train, sample_rate, length):
    ds = datasets.SPEECHCOMMANDS(root, subset="training" if train else "testing")
    path = Path(ds._path)
    labels = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("_"))
    index = {lab: i for i, lab in enumerate(labels)}
    x, y = _clips(((w, sr, index[lab]) for w, sr, lab, _, _ in (ds[i] for i in range(len(ds)))), sample_rate, length)
    return x, y, labels


def folder(root, train, sample_rate, length):
    """``root/train/<class>/*.wav`` and ``root/test/<class>/*.wav`` (or ``val/``)."""
    sub = "train" if train else next((d for d in ("test", "val", "valid") if os.path.isdir(os.path.join(root, d))), None)
    if sub is None:
        raise FileNotFoundError(f"{root} needs a train/ folder and a test/ (or val/) folder, each with one sub-folder per class")
    ds = datasets.AudioFolder(os.path.join(root, sub))
    x, y = _clips((ds[i] for i in range(len(ds))), sample_rate, length)
    return x, y, ds.classes


LOADERS = {"fsdd-small": fsdd_small, "fsdd": fsdd, "yesno": yesno_words, "speechcommands": speechcommands, "folder": folder}


def load(name, root, train, sample_rate, length):
    """(waveforms Tensor[N, 1, length], labels Tensor[N], class names) for one split of dataset ``name``."""
    x, y, classes = LOADERS[name](root, train, sample_rate, length)
    return ember.from_numpy(x[:, None, :]), ember.from_numpy(y), classes
