"""Checksums and safe archive extraction shared by Ember's dataset packages (vision, text, audio)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import tarfile
import zipfile

from ..hub import file_digest

__all__ = ["check_integrity", "extract_archive", "file_digest"]

_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip", ".gz", ".bz2", ".xz")


def check_integrity(fpath, md5: str | None = None, sha256: str | None = None) -> bool:
    """True when ``fpath`` exists and its MD5 / SHA-256 (those given) match."""
    if not os.path.isfile(fpath):
        return False
    if md5 is not None and file_digest(fpath, "md5") != md5:
        return False
    return sha256 is None or file_digest(fpath, "sha256") == sha256


def _suffix(path: str) -> str:
    name = path.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise RuntimeError(f"Unsupported archive type for {path}")


def _inside(root: str, name: str) -> bool:
    root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, name))
    return target == root or target.startswith(root + os.sep)


def _safe_tar_members(tar: tarfile.TarFile, dest: str):
    for member in tar.getmembers():
        if not _inside(dest, member.name):
            raise RuntimeError(f"Refusing to extract {member.name!r}: it would land outside {dest}")
        if member.issym() or member.islnk():
            raise RuntimeError(f"Refusing to extract link {member.name!r} from an archive")
        yield member


def extract_archive(from_path, to_path=None, remove_finished: bool = False) -> str:
    """Extract a tar/zip archive or decompress a .gz/.bz2/.xz file; returns the destination folder.

    Members that would land outside ``to_path`` and links are refused; a corrupt or truncated archive
    raises ``RuntimeError`` naming the file.
    """
    from_path = os.fspath(from_path)
    to_path = os.fspath(to_path) if to_path is not None else os.path.dirname(from_path)
    suffix = _suffix(from_path)
    os.makedirs(to_path, exist_ok=True)
    try:
        if suffix in (".gz", ".bz2", ".xz") and ".tar" not in from_path.lower():
            opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
            out = os.path.join(to_path, os.path.basename(from_path)[: -len(suffix)])
            with opener(from_path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif suffix == ".zip":
            with zipfile.ZipFile(from_path) as z:
                for name in z.namelist():
                    if not _inside(to_path, name):
                        raise RuntimeError(f"Refusing to extract {name!r}: it would land outside {to_path}")
                z.extractall(to_path)
        else:
            with tarfile.open(from_path, "r:*") as tar:
                tar.extractall(to_path, members=list(_safe_tar_members(tar, to_path)))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, lzma.LZMAError) as exc:
        raise RuntimeError(f"Could not extract {from_path}: the archive is corrupt or truncated ({exc})") from exc
    if remove_finished:
        os.remove(from_path)
    return to_path
