"""``ember.hub``: download files with a progress bar, resume and checksum checks (``torch.hub``'s helpers)."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request

__all__ = ["download_url_to_file", "get_dir", "set_dir"]

_USER_AGENT = "ember"
_CHUNK = 1024 * 256
_hub_dir: str | None = None


def get_dir() -> str:
    """The cache folder: ``$EMBER_HOME/hub`` (default ``~/.cache/ember/hub``) unless set by :func:`set_dir`."""
    if _hub_dir is not None:
        return _hub_dir
    home = os.environ.get("EMBER_HOME", os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "ember"))
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    """Set the cache folder used by :func:`get_dir`."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def file_digest(path, algorithm: str = "sha256", chunk_size: int = 1024 * 1024) -> str:
    """Hex digest of a file's bytes (``md5``, ``sha256``, ...)."""
    h = hashlib.new(algorithm, usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress_bar(total, desc, enabled):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional for the core package
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=None if enabled else True)


def download_url_to_file(url: str, dst, hash_prefix: str | None = None, progress: bool = True, *,
                         md5: str | None = None, timeout: float = 30.0) -> None:
    """Download ``url`` to the file ``dst``.

    The partial download is kept as ``dst + ".part"`` and resumed with an HTTP range request on the next
    call. ``hash_prefix`` (as PyTorch) checks the start of the file's SHA-256; ``md5`` checks the whole
    MD5. A failed download raises ``RuntimeError`` naming the URL and where to place the file by hand; a
    checksum mismatch raises ``RuntimeError`` and deletes the bad file.
    """
    dst = os.path.expanduser(os.fspath(dst))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    part = dst + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    headers = {"User-Agent": _USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        req = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resumed = have and resp.status == 206
            if not resumed:
                have = 0
            length = int(resp.headers.get("Content-Length") or 0)
            bar = _progress_bar((have + length) or None, os.path.basename(dst), progress)
            if bar is not None:
                bar.update(have)
            try:
                with open(part, "ab" if resumed else "wb") as out:
                    for chunk in iter(lambda: resp.read(_CHUNK), b""):
                        out.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RuntimeError(
            f"Failed to download {url} ({exc}). If this machine is offline, download the file elsewhere "
            f"and place the file at {dst}"
        ) from exc
    if hash_prefix:
        digest = file_digest(part, "sha256")
        if not digest.startswith(hash_prefix):
            os.remove(part)
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}") for the file '
                               f"downloaded from {url}; it was deleted, try again")
    if md5:
        digest = file_digest(part, "md5")
        if digest != md5:
            os.remove(part)
            raise RuntimeError(f"File downloaded from {url} is corrupted: MD5 mismatch (expected {md5}, got {digest}); "
                               "it was deleted, try again")
    os.replace(part, dst)
