"""Free Spoken Digit Dataset (Jackson et al., CC BY-SA 4.0): ``recordings/{digit}_{speaker}_{take}.wav`` at 8 kHz."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from ember.utils.data import Dataset

from .._io import load
from .utils import download_and_extract

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
SAMPLE_RATE = 8000
_SPLITS = (None, "train", "test")


class FSDD(Dataset):
    """Free Spoken Digit Dataset: items are ``(waveform, sample_rate, label, speaker_id, take)``.

    Reads ``root/<folder_in_archive>/recordings/*.wav`` (FLAC/OGG copies are read too). The official split: ``split="test"`` is takes 0-4,
    ``"train"`` takes 5-49, ``None`` everything. ``download=True`` fetches the GitHub release archive
    (``checksum``: optional SHA-256 prefix of it) and moves its ``recordings/`` folder into place.
    """

    def __init__(self, root, split: str | None = None, download: bool = False, url: str = URL,
                 folder_in_archive: str = "FSDD", checksum: str | None = None) -> None:
        if split not in _SPLITS:
            raise ValueError(f"split must be one of None, 'train', 'test'; got {split!r}")
        root = Path(root)
        self._path = root / folder_in_archive / "recordings"
        if download and not self._path.is_dir():
            staging = root / (folder_in_archive + ".extract")
            archive = root / os.path.basename(url)
            download_and_extract(url, archive, staging, checksum)
            found = sorted(glob.glob(str(staging / "**" / "recordings"), recursive=True))
            if not found:
                raise RuntimeError(f"The archive {archive} has no recordings/ folder")
            self._path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(found[0], self._path)
            shutil.rmtree(staging, ignore_errors=True)
        if not self._path.is_dir():
            raise RuntimeError(f"Dataset not found at {self._path}. Please use `download=True` to download it.")
        items = []
        for p in sorted(q for q in self._path.iterdir() if q.suffix.lower() in (".wav", ".flac", ".ogg")):
            parts = p.stem.split("_")
            if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
                continue
            take = int(parts[2])
            if split is None or (split == "test") == (take < 5):
                items.append((p.name, int(parts[0]), parts[1], take))
        self._walker = items
        self.classes = [str(d) for d in range(10)]

    def get_metadata(self, n: int):
        """``(file name, sample_rate, label, speaker_id, take)`` without loading audio."""
        name, label, speaker, take = self._walker[n]
        return name, SAMPLE_RATE, label, speaker, take

    def __getitem__(self, n: int):
        name, label, speaker, take = self._walker[n]
        waveform, sample_rate = load(self._path / name)
        return waveform, sample_rate, label, speaker, take

    def __len__(self) -> int:
        return len(self._walker)
