"""A folder of labelled audio clips: ``root/<class name>/*.wav`` (as torchvision's ImageFolder)."""

from __future__ import annotations

import os
from pathlib import Path

from ember.utils.data import Dataset

from .._io import load

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


class AudioFolder(Dataset):
    """Items are ``(waveform, sample_rate, class_index)``; classes are the sorted sub-folder names."""

    def __init__(self, root, extensions=AUDIO_EXTENSIONS) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"Audio folder not found: {root}")
        self.classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"{root} has no class sub-folders (expected root/<class>/*.wav)")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = [(str(p), self.class_to_idx[c]) for c in self.classes
                        for p in sorted((root / c).rglob("*")) if p.suffix.lower() in extensions]
        if not self.samples:
            raise FileNotFoundError(f"No audio files ({', '.join(extensions)}) under {root}")
        self.targets = [t for _, t in self.samples]

    def __getitem__(self, n: int):
        path, target = self.samples[n]
        waveform, sample_rate = load(path)
        return waveform, sample_rate, target

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return f"AudioFolder({len(self)} clips, {len(self.classes)} classes at {os.fspath(self.samples[0][0]).rsplit(os.sep, 2)[0]})"
