"""``ember.save`` / ``ember.load``: checkpoints of anything PyTorch can save, in PyTorch's format.

``save`` writes PyTorch's zip format (``torch.load`` reads it without ember installed). ``load`` reads
that format, PyTorch's legacy format and ember's earlier JSON format. By default (``weights_only=True``)
the pickle is read by a restricted unpickler that only rebuilds tensors, containers, numbers, strings and
the globals marked safe with :func:`add_safe_globals` / :class:`safe_globals`; it never runs code from the
file. ``weights_only=False`` unpickles arbitrary objects (whole modules): only for files you trust.
"""

from __future__ import annotations

import io
import mmap as _mmap
import os
import pickle
import struct
import tarfile
import zipfile
import zlib

from . import _format, _torch_reader, _torch_writer
from ._common import CheckpointError, check_map_location, describe
from ._safe_globals import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    get_unsafe_globals_in_checkpoint,
    safe_globals,
)

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "load",
    "safe_globals",
    "save",
]


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` to ``f`` (a path or a writable binary file object) in PyTorch's zip format.

    Anything ``torch.save`` accepts can be saved: tensors, state dicts, optimizer and scheduler state
    dicts, NumPy arrays, plain containers, and whole modules or other picklable objects (pickled by
    reference to their classes, so loading them needs ``weights_only=False``). Tensors that share memory
    are stored once and share memory again after :func:`load`; ``torch.load`` reads the file."""
    if pickle_module is not None and pickle_module is not pickle:
        raise NotImplementedError("ember.save writes PyTorch's format with the standard pickle module only")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes PyTorch's zip format only (_use_new_zipfile_serialization=True)")
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        archive = os.path.splitext(os.path.basename(path))[0] or "archive"
        tmp = path + ".tmp-ember-save"
        try:
            with open(tmp, "wb") as fh:
                _torch_writer.save(obj, fh, archive, pickle_protocol)
            os.replace(tmp, path)  # never leave a half-written checkpoint under the real name
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"ember.save: f must be a path or a writable binary file object, got {type(f).__name__}")
    _torch_writer.save(obj, f, "archive", pickle_protocol)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved by :func:`ember.save` or by ``torch.save``.

    ``map_location`` moves storages as in PyTorch: a device (``'cpu'``, ``'cuda:0'``, ``ember.device``),
    a dict mapping saved locations to new ones, or ``callable(storage, location)`` returning a tensor
    on the wanted device (or None to keep the saved one). ``mmap=True`` maps the file's storages instead
    of reading them (``f`` must be a path or a real file).

    ``weights_only=True`` (the default) rebuilds only tensors, containers, numbers, strings, dtypes,
    devices, sizes and the globals allowlisted with :func:`add_safe_globals` or :class:`safe_globals`;
    anything else is refused with ``pickle.UnpicklingError`` before it can run. ``weights_only=False``
    unpickles arbitrary objects, which can run arbitrary code: use it only for files you trust.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise NotImplementedError("ember.load reads checkpoints with the standard pickle module only")
    if weights_only is None:
        weights_only = True
    weights_only = bool(weights_only)
    _torch_reader.user_allowed_globals()  # a malformed allowlist entry is the caller's error, raised here
    check_map_location(map_location)
    name = describe(f)
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        with open(path, "rb") as fh:
            return _load_file(fh, name, map_location, bool(mmap), weights_only)
    if not hasattr(f, "read"):
        raise TypeError(f"ember.load: f must be a path or a readable binary file object, got {type(f).__name__}")
    if not _seekable(f):
        f = io.BytesIO(f.read())
    return _load_file(f, name, map_location, bool(mmap), weights_only)


def _seekable(f) -> bool:
    try:
        return bool(f.seekable()) if hasattr(f, "seekable") else False
    except (OSError, ValueError):
        return False


def _not_a_checkpoint(name, why=""):
    return CheckpointError(f"{name} is not an ember or PyTorch checkpoint{why}")


def _load_file(f, name, map_location, use_mmap, weights_only=True):
    start = f.tell()
    head = f.read(16)
    f.seek(start)
    if len(head) == 0:
        raise CheckpointError(f"{name} is empty: it is not an ember or PyTorch checkpoint (truncated?)")
    if head[:2] == b"PK":
        return _load_zip(f, name, map_location, use_mmap, weights_only)
    if head[:1] == b"\x80":
        # a pickle: a legacy PyTorch file starts with its magic number; read that first object with the
        # restricted unpickler, so a crafted plain pickle is refused before anything in it can run
        probe = _torch_reader._Loader(map_location, False, None, dry=True)
        try:
            first = _torch_reader._wrap_errors(lambda: probe.unpickler(f).load())
        except CheckpointError:
            first = None
        f.seek(start)
        if type(first) is int and first == _torch_reader.MAGIC_NUMBER:
            try:
                return _torch_reader.load_legacy(f, map_location, use_mmap, weights_only)
            except CheckpointError as exc:
                raise CheckpointError(f"{name}: {exc}") from None
        raise _not_a_checkpoint(name, " (it is a plain pickle; ember.load does not unpickle arbitrary files)")
    if len(head) >= 9 and head[8:9] == b"{":
        raise _not_a_checkpoint(
            name, " (it looks like a safetensors file: read it with ember.utils.safetensors.load_file)"
        )
    try:
        f.seek(start)
        is_tar = tarfile.is_tarfile(f)
    except (OSError, ValueError, tarfile.TarError):
        is_tar = False
    finally:
        f.seek(start)
    if is_tar:
        raise NotImplementedError(
            f"{name} is a PyTorch checkpoint in the tar format of PyTorch < 0.4, which ember can't read; "
            "re-save it with a recent torch.save"
        )
    raise _not_a_checkpoint(name)


# what zipfile (and reads at offsets taken from a damaged archive) raise on a truncated or corrupted file
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, OverflowError,
               NotImplementedError, struct.error, zlib.error, UnicodeDecodeError)


def _load_zip(f, name, map_location, use_mmap, weights_only=True):
    try:
        zf = zipfile.ZipFile(f, "r")
    except _ZIP_ERRORS as exc:
        raise CheckpointError(
            f"{name} can't be read as a checkpoint: it is truncated or corrupted (failed reading the zip archive: {exc})"
        ) from None
    mm = None
    try:
        if use_mmap:
            try:
                fileno = f.fileno()
            except (AttributeError, OSError, io.UnsupportedOperation):
                raise ValueError("f must be a file path or a real file in order to use the mmap argument") from None
            mm = _mmap.mmap(fileno, 0, access=_mmap.ACCESS_COPY)
        names = zf.namelist()
        if any(n.endswith("constants.pkl") for n in names) and _format.HEADER_NAME not in names:
            raise NotImplementedError(f"{name} is a TorchScript archive (torch.jit.save), which ember can't load")
        try:
            if _format.HEADER_NAME in names:
                return _format.load(zf, map_location, mm)
            if _torch_reader.find_pickle(names) is not None:
                return _torch_reader.load_zip(zf, map_location, mm, weights_only)
        except CheckpointError as exc:
            raise CheckpointError(f"{name}: {exc}") from None
        except _ZIP_ERRORS as exc:
            raise CheckpointError(f"{name} is truncated or corrupted: {type(exc).__name__}: {exc}") from None
        raise _not_a_checkpoint(name, " (a zip archive without data.json or data.pkl)")
    finally:
        zf.close()
        # tensors loaded with mmap keep views of `mm`; it closes once they are all gone
