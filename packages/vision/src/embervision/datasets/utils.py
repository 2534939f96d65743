"""Download, verify and extract dataset files (with a progress bar), as torchvision.datasets.utils does."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

from tqdm.auto import tqdm

USER_AGENT = "embervision"
_CHUNK = 1024 * 256


def calculate_md5(fpath, chunk_size=1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5) -> bool:
    return md5 == calculate_md5(fpath)


def check_integrity(fpath, md5=None) -> bool:
    """True when ``fpath`` exists and (if given) its MD5 matches."""
    if not os.path.isfile(fpath):
        return False
    return True if md5 is None else check_md5(fpath, md5)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3, timeout=30.0) -> None:
    """Download ``url`` into ``root/filename`` with a progress bar and verify its MD5.

    Raises RuntimeError naming the URL and the local path to place the file at by hand when the
    download fails (e.g. offline), and when the downloaded file's checksum is wrong.
    """
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    tmp = fpath + ".part"
    try:
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(tmp, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=filename, disable=None) as bar:
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise RuntimeError(
            f"Failed to download {url} ({exc}). If this machine is offline, download the file elsewhere "
            f"and place the file at {fpath}"
        ) from exc
    os.replace(tmp, fpath)
    if not check_integrity(fpath, md5):
        os.remove(fpath)
        raise RuntimeError(f"File downloaded from {url} is corrupted: MD5 mismatch (expected {md5})")


def _detect(path: str):
    name = path.lower()
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip", ".gz", ".bz2", ".xz"):
        if name.endswith(suffix):
            return suffix
    raise RuntimeError(f"Unsupported archive type for {path}")


def _safe_members(tar: tarfile.TarFile, dest: str):
    dest_abs = os.path.realpath(dest)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(dest, member.name))
        if not target.startswith(dest_abs + os.sep) and target != dest_abs:
            raise RuntimeError(f"Refusing to extract {member.name!r}: it would land outside {dest}")
        if member.issym() or member.islnk():
            raise RuntimeError(f"Refusing to extract link {member.name!r} from an archive")
        yield member


def extract_archive(from_path, to_path=None, remove_finished=False) -> str:
    """Extract a tar/zip archive or decompress a .gz/.bz2/.xz file; returns the destination."""
    from_path = str(from_path)
    to_path = str(to_path) if to_path is not None else os.path.dirname(from_path)
    suffix = _detect(from_path)
    try:
        if suffix in (".gz", ".bz2", ".xz") and ".tar" not in from_path.lower():
            opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
            out = os.path.join(to_path, os.path.basename(from_path)[: -len(suffix)])
            with opener(from_path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif suffix == ".zip":
            with zipfile.ZipFile(from_path) as z:
                for name in z.namelist():
                    target = os.path.realpath(os.path.join(to_path, name))
                    if not target.startswith(os.path.realpath(to_path) + os.sep):
                        raise RuntimeError(f"Refusing to extract {name!r}: it would land outside {to_path}")
                z.extractall(to_path)
        else:
            with tarfile.open(from_path, "r:*") as tar:
                tar.extractall(to_path, members=list(_safe_members(tar, to_path)))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, lzma.LZMAError) as exc:
        raise RuntimeError(f"Could not extract {from_path}: the archive is corrupt or truncated ({exc})") from exc
    if remove_finished:
        os.remove(from_path)
    return to_path


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
