"""What runs inside a DataLoader worker process: seeding, ``get_worker_info`` and the fetch loop."""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

__all__ = ["WorkerInfo", "get_worker_info"]

# how often (s) a blocked worker / main process wakes up to check that the other side is still alive
MP_STATUS_CHECK_INTERVAL = 5.0


class WorkerInfo:
    """Information about the current DataLoader worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process: its ``WorkerInfo`` (id, num_workers, seed, dataset copy); else ``None``."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    seed: int | None = None


class ExceptionWrapper:
    """An exception and its formatted traceback, carried from a worker to the main process."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class KeyErrorMessage(str):
    """A string whose repr is itself, so ``KeyError(msg)`` prints the traceback readably."""

    def __repr__(self):
        return self


def _generate_state(base_seed, worker_id):
    """The 4 x uint32 NumPy seed PyTorch derives from (base_seed, worker_id) (a SeedSequence-style hash)."""
    INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
    INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
    XSHIFT, MASK32 = 16, 0xFFFFFFFF

    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_a = INIT_A

    def hash_(value):
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & MASK32
        hash_const_a = (hash_const_a * MULT_A) & MASK32
        value = (value * hash_const_a) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) - (MIX_MULT_R * y)) & MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_b = INIT_B
    state = []
    for i_dst in range(4):
        v = (pool[i_dst] ^ hash_const_b) & MASK32
        hash_const_b = (hash_const_b * MULT_B) & MASK32
        v = (v * hash_const_b) & MASK32
        state.append((v ^ (v >> XSHIFT)) & MASK32)
    return state


class _ManagerWatchdog:
    """Tells a worker whether the process that started it is still alive."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self):
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


# -- moving batches to the main process ---------------------------------------------------------
# Large NumPy arrays (ember tensors pickle to their array) travel through files in /dev/shm: the worker writes
# one file per array and pickles only its name; the main process maps the file and unlinks it at once, so the
# array it gets is backed by that mapping (no further copy) and the memory goes when the array does.
SHM_DIR = "/dev/shm"
SHM_MIN_BYTES = 1 << 16


def shm_available() -> bool:
    return sys.platform.startswith("linux") and os.path.isdir(SHM_DIR) and os.access(SHM_DIR, os.W_OK | os.X_OK)


class _ShmPickler(pickle.Pickler):
    def __init__(self, file, prefix):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.prefix = prefix
        self.files = []

    def persistent_id(self, obj):
        import numpy as np

        if type(obj) is not np.ndarray or obj.nbytes < SHM_MIN_BYTES or obj.dtype.hasobject:
            return None
        global _shm_counter
        _shm_counter += 1
        path = f"{self.prefix}{os.getpid()}_{_shm_counter}"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            self.files.append(path)
            view = memoryview(np.ascontiguousarray(obj)).cast("B")
            written = 0
            while written < len(view):  # ENOSPC (a full /dev/shm) raises here: the batch is then pickled inline
                written += os.write(fd, view[written:])
        finally:
            os.close(fd)
        return ("ember_shm", path, obj.dtype.str, obj.shape)


class _ShmUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        import mmap

        import numpy as np

        tag, path, dtype, shape = pid
        if tag != "ember_shm" or os.path.dirname(path) != SHM_DIR or not os.path.basename(path).startswith("ember_dl_"):
            raise pickle.UnpicklingError(f"unsupported persistent id {tag!r}")
        dtype = np.dtype(dtype)
        fd = os.open(path, os.O_RDWR)
        try:
            os.unlink(path)
            nbytes = os.fstat(fd).st_size
            try:
                buf = mmap.mmap(fd, nbytes, flags=_MAP_FLAGS)
            except OSError:  # e.g. too many mappings: read a private copy instead
                out = np.empty(nbytes // dtype.itemsize, dtype)
                with open(fd, "rb", closefd=False) as f:
                    f.readinto(memoryview(out).cast("B"))
                return out.reshape(shape)
        finally:
            os.close(fd)
        return np.frombuffer(buf, dtype=dtype).reshape(shape)


_shm_counter = 0


def _map_flags():
    import mmap

    return mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)  # populate: map all pages now, not one fault each


_MAP_FLAGS = _map_flags()


def dumps(obj, shm_prefix=None) -> bytes:
    """Pickle ``obj``; with ``shm_prefix`` large arrays go to shared-memory files named ``shm_prefix...``."""
    if shm_prefix is None:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    import io

    f = io.BytesIO()
    pickler = _ShmPickler(f, shm_prefix)
    try:
        pickler.dump(obj)
    except BaseException:
        for path in pickler.files:
            try:
                os.unlink(path)
            except OSError:
                pass
        if isinstance(sys.exc_info()[1], OSError):
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        raise
    return f.getvalue()


def loads(payload: bytes):
    import io

    return _ShmUnpickler(io.BytesIO(payload)).load()


def _put(data_queue, idx, data, worker_id, shm_prefix=None):
    """Pickle here (not in the queue's feeder thread) so an unpicklable batch becomes an error, not a hang."""
    try:
        payload = dumps((idx, data), shm_prefix)
    except Exception:
        if isinstance(data, ExceptionWrapper):  # e.g. an exception class the main process cannot import
            data.exc_type = RuntimeError
        else:
            data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        payload = pickle.dumps((idx, data), protocol=pickle.HIGHEST_PROTOCOL)
    data_queue.put(payload)


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, persistent_workers, shm_prefix=None):
    from . import dataloader as _dl

    try:
        import numpy as np

        import ember

        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)

        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _dl._DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        iteration_end = False
        watchdog = _ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                _put(data_queue, r, None, worker_id)
                iteration_end = False
                if init_exception is None:
                    fetcher = _dl._DatasetKind.create_fetcher(
                        dataset_kind, dataset, auto_collation, collate_fn, drop_last
                    )
                continue
            if r is None:  # shutdown signal
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == _dl._DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            _put(data_queue, idx, data, worker_id, shm_prefix)
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
