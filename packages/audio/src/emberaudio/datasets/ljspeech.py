"""LJSpeech 1.1: 13,100 clips of one speaker reading, with ``metadata.csv`` transcripts."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ember.utils.data import Dataset

from .._io import load
from .utils import download_and_extract

_RELEASE_CONFIGS = {
    "release1": {
        "folder_in_archive": "wavs",
        "url": "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2",
        "checksum": "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
    }
}


class LJSPEECH(Dataset):
    """LJSpeech: items are ``(waveform, sample_rate, transcript, normalized_transcript)``.

    Files in ``root/LJSpeech-1.1/wavs/*.wav`` and ``root/LJSpeech-1.1/metadata.csv`` (``id|text|normalized``).
    """

    def __init__(self, root, url: str = _RELEASE_CONFIGS["release1"]["url"],
                 folder_in_archive: str = _RELEASE_CONFIGS["release1"]["folder_in_archive"], download: bool = False) -> None:
        root = Path(root)
        basename = os.path.basename(url)
        archive = root / basename
        base = Path(basename.split(".tar.bz2")[0])
        self._path = root / base / folder_in_archive
        self._metadata_path = root / base / "metadata.csv"
        if download:
            if not self._path.is_dir():
                checksum = _RELEASE_CONFIGS["release1"]["checksum"] if url == _RELEASE_CONFIGS["release1"]["url"] else None
                download_and_extract(url, archive, root, checksum)
        elif not self._path.exists():
            raise RuntimeError(f"The path {self._path} doesn't exist. Please check the ``root`` path or set "
                               "`download=True` to download it")
        with open(self._metadata_path, newline="") as metadata:
            self._flist = list(csv.reader(metadata, delimiter="|", quoting=csv.QUOTE_NONE))

    def __getitem__(self, n: int):
        fileid, transcript, normalized_transcript = self._flist[n]
        waveform, sample_rate = load(self._path / (fileid + ".wav"))
        return waveform, sample_rate, transcript, normalized_transcript

    def __len__(self) -> int:
        return len(self._flist)
