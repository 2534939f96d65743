"""``ember.multiprocessing``: Python's ``multiprocessing`` plus tensors that share memory across processes
(PyTorch's ``torch.multiprocessing``).

``Tensor.share_memory_()`` / ``Module.share_memory()`` move CPU tensors into shared memory. A shared
tensor sent to another process (as a ``Process`` argument, through a ``Queue``, ...) is rebuilt there over
the same memory, with the ``fork`` and the ``spawn`` start methods, so workers can train one model's
parameters together (Hogwild). Tensors that are not shared are copied, as with PyTorch.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .reductions import init_reductions
from .spawn import ProcessContext, ProcessExitedException, ProcessRaisedException, spawn, start_processes

__all__ = [*multiprocessing.__all__, "ProcessContext", "ProcessExitedException", "ProcessRaisedException", "spawn",
           "start_processes", "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]

init_reductions()

_strategy = "file_system"


def get_all_sharing_strategies():
    """The sharing strategies available (ember shares through named files in /dev/shm)."""
    return {"file_system"}


def get_sharing_strategy():
    return _strategy


def set_sharing_strategy(new_strategy):
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"invalid sharing strategy {new_strategy!r}; ember supports 'file_system'")
