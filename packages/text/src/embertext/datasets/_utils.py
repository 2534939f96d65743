"""What every text dataset shares: torchtext's ``root``/``split`` conventions, download + checksum +
extraction into torchtext's on-disk layout, and one dataset class over a parsed text file."""

from __future__ import annotations

import functools
import inspect
import os

from ember.hub import download_url_to_file
from ember.utils.archive import check_integrity, extract_archive
from ember.utils.data import Dataset

__all__ = ["TextFileDataset", "dataset_dir", "fetch_file", "fetch_archive", "wrap_split"]

DEFAULT_ROOT = ".data"


def dataset_dir(root, name: str) -> str:
    """torchtext's folder for dataset ``name``: ``<root>/datasets/<name>`` (created when missing)."""
    path = os.path.join(os.path.expanduser(os.fspath(root)), "datasets", name)
    os.makedirs(path, exist_ok=True)
    return path


def wrap_split(splits: tuple, name: str):
    """Give ``fn(root, split, **kw)`` torchtext's calling convention: ``split`` is one name (returns one
    dataset) or a tuple of names (returns a tuple); the default is every split; ``root`` defaults to
    ``.data`` and the files live under ``<root>/datasets/<name>``."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(root=DEFAULT_ROOT, split=splits, **kwargs):
            chosen = (split,) if isinstance(split, str) else split
            if not isinstance(chosen, tuple):
                raise ValueError(f"split must be a string or a tuple of strings, got {type(split).__name__}")
            if not set(chosen) <= set(splits):
                raise TypeError(f"Given selection {chosen} of splits is not supported for dataset {name}. "
                                f"Please choose from {splits}.")
            folder = dataset_dir(root, name)
            out = tuple(fn(folder, s, **kwargs) for s in chosen)
            return out[0] if isinstance(split, str) else out

        params = list(inspect.signature(fn).parameters.values())
        params[0] = params[0].replace(default=DEFAULT_ROOT)
        params[1] = params[1].replace(default=splits)
        wrapper.__signature__ = inspect.Signature(params)
        return wrapper

    return decorate


def fetch_file(url: str, path: str, md5: str | None = None, sha256: str | None = None) -> str:
    """Return ``path``, downloading ``url`` there first unless a file with the right checksum is present.

    A present file with a wrong checksum is downloaded again; offline, the error names ``url`` and ``path``.
    """
    if not check_integrity(path, md5=md5, sha256=sha256):
        download_url_to_file(url, path, hash_prefix=sha256, md5=md5)
    return path


def fetch_archive(url: str, archive: str, members: list[str], md5: str | None = None,
                  sha256: str | None = None) -> list[str]:
    """Make sure the extracted ``members`` (files or folders) exist, downloading and extracting ``archive`` when not.

    The archive is extracted next to itself (torchtext's layout); a member the archive does not hold
    raises ``RuntimeError`` naming both.
    """
    if all(os.path.exists(m) for m in members):
        return members
    fetch_file(url, archive, md5=md5, sha256=sha256)
    extract_archive(archive, os.path.dirname(archive))
    missing = [m for m in members if not os.path.exists(m)]
    if missing:
        raise RuntimeError(f"{archive} was extracted but does not contain {', '.join(missing)}: "
                           "it is not the archive this dataset expects")
    return members


class TextFileDataset(Dataset):
    """Records parsed from text files: iterating streams them from disk; indexing or ``len()`` loads the
    records into memory once. ``parse(path)`` yields records; each path in ``paths`` is read in order."""

    def __init__(self, name: str, split: str, paths, parse) -> None:
        self.name, self.split = name, split
        self.paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        self._parse = parse
        self._records = None

    def _load(self) -> list:
        if self._records is None:
            self._records = list(self._stream())
        return self._records

    def _stream(self):
        for path in self.paths:
            yield from self._parse(path)

    def __iter__(self):
        return iter(self._records) if self._records is not None else self._stream()

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"{self.name}(split={self.split!r}, files={self.paths})"
