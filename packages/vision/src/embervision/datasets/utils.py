"""Download, verify and extract dataset files (with a progress bar), as torchvision.datasets.utils does."""

from __future__ import annotations

import os
import pathlib

from ember.hub import download_url_to_file
from ember.utils.archive import check_integrity, extract_archive, file_digest

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "extract_archive",
           "download_and_extract_archive", "list_dir", "list_files"]


def calculate_md5(fpath, chunk_size=1024 * 1024) -> str:
    return file_digest(fpath, "md5", chunk_size)


def check_md5(fpath, md5) -> bool:
    return md5 == calculate_md5(fpath)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3, timeout=30.0) -> None:
    """Download ``url`` into ``root/filename`` with a progress bar and verify its MD5.

    Raises RuntimeError naming the URL and the local path to place the file at by hand when the
    download fails (e.g. offline), and when the downloaded file's checksum is wrong.
    """
    fpath = os.path.join(os.path.expanduser(root), filename or os.path.basename(url))
    if not check_integrity(fpath, md5):
        download_url_to_file(url, fpath, md5=md5, timeout=timeout)


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
    download_root = os.path.expanduser(download_root)
    extract_root = extract_root or download_root
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    extract_archive(archive, extract_root, remove_finished)


def list_dir(root, prefix=False):
    root = pathlib.Path(root).expanduser()
    return sorted(str(p) if prefix else p.name for p in root.iterdir() if p.is_dir())


def list_files(root, suffix, prefix=False):
    root = pathlib.Path(root).expanduser()
    return sorted(str(p) if prefix else p.name for p in root.iterdir() if p.is_file() and p.name.endswith(suffix))
