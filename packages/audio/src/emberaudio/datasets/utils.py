"""Download + extract helpers shared by the datasets (on ember.hub / ember.utils.archive) and waveform loading."""

from __future__ import annotations

import os

from ember.hub import download_url_to_file
from ember.utils.archive import extract_archive

from .._io import load

__all__ = ["download_and_extract"]


def download_and_extract(url: str, archive: str, extract_to: str, checksum: str | None = None) -> None:
    """Fetch ``url`` to ``archive`` unless it is already there (resumable, SHA-256 prefix ``checksum``), then extract.

    Offline or on a failed download ember.hub raises an error naming the URL and where to put the file by hand.
    """
    archive = os.fspath(archive)
    if not os.path.isfile(archive):
        download_url_to_file(url, archive, hash_prefix=checksum)
    extract_archive(archive, os.fspath(extract_to))


def _load_waveform(root, filename: str, exp_sample_rate: int):
    waveform, sample_rate = load(os.path.join(root, filename))
    if exp_sample_rate != sample_rate:
        raise ValueError(f"sample rate should be {exp_sample_rate}, but got {sample_rate}")
    return waveform
