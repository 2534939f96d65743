"""YESNO (OpenSLR SLR1): 60 recordings of 8 Hebrew yes/no words each."""

from __future__ import annotations

import os
from pathlib import Path

from ember.utils.data import Dataset

from .._io import load
from .utils import download_and_extract

_RELEASE_CONFIGS = {
    "release1": {
        "folder_in_archive": "waves_yesno",
        "url": "http://www.openslr.org/resources/1/waves_yesno.tar.gz",
        "checksum": "c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73",
    }
}


class YESNO(Dataset):
    """YesNo dataset: items are ``(waveform, sample_rate, labels)`` with ``labels`` eight 0/1 ints (1 = yes).

    Reads ``root/waves_yesno/*.wav``; ``download=True`` fetches and extracts the OpenSLR archive into ``root``.
    """

    def __init__(self, root, url: str = _RELEASE_CONFIGS["release1"]["url"],
                 folder_in_archive: str = _RELEASE_CONFIGS["release1"]["folder_in_archive"], download: bool = False) -> None:
        root = Path(root)
        archive = root / os.path.basename(url)
        self._path = root / folder_in_archive
        if download and not self._path.is_dir():
            checksum = _RELEASE_CONFIGS["release1"]["checksum"] if url == _RELEASE_CONFIGS["release1"]["url"] else None
            download_and_extract(url, archive, root, checksum)
        if not self._path.is_dir():
            raise RuntimeError(f"Dataset not found at {self._path}. Please use `download=True` to download it.")
        self._walker = sorted(p.stem for p in self._path.glob("*.wav"))

    def __getitem__(self, n: int):
        fileid = self._walker[n]
        waveform, sample_rate = load(self._path / (fileid + ".wav"))
        return waveform, sample_rate, [int(c) for c in fileid.split("_")]

    def __len__(self) -> int:
        return len(self._walker)
