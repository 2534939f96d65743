"""``ember.nn.parallel``: data-parallel wrappers: ``DataParallel`` / ``data_parallel`` (one device) and
``DistributedDataParallel`` (one process per rank)."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
