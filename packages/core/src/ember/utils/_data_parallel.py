"""What the domain trainers (``embervision/embertext/emberaudio.train``) share for ``--distributed``: joining the
process group, splitting global batches across the ranks, reducing epoch metrics, leaving the group.

Private: the trainers' command-line behaviour is the public face of this module.
"""

from __future__ import annotations

import os

import ember


class DataParallel:
    """The rank's place in a data-parallel run (``rank`` 0 of ``world`` 1 when not distributed)."""

    __slots__ = ("rank", "world", "enabled")

    def __init__(self, rank: int = 0, world: int = 1, enabled: bool = False) -> None:
        self.rank, self.world, self.enabled = rank, world, enabled

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that prints, writes checkpoints and exports."""
        return self.rank == 0

    def log(self, *args, **kwargs) -> None:
        """``print`` on rank 0 only."""
        if self.is_main:
            print(*args, **kwargs)

    def wrap(self, model):
        """``model`` in ``DistributedDataParallel`` when distributed, else ``model`` itself. Its batch-norm layers
        become ``SyncBatchNorm`` (in place, same parameters and buffers), so they normalise with the global
        batch's statistics as one process would."""
        if not self.enabled:
            return model
        model = ember.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return ember.nn.parallel.DistributedDataParallel(model)

    def shard(self, batch):
        """This rank's equal share of a global batch of indices. The last ``len(batch) % world`` indices are
        left out, so every rank runs as many samples and DDP's gradient average is the batch's mean loss."""
        if not self.enabled:
            return batch
        share = len(batch) // self.world
        return batch[self.rank * share:(self.rank + 1) * share]

    def sum(self, *values: float) -> list[float]:
        """``values`` summed over the ranks (float64), e.g. an epoch's (loss sum, correct, seen)."""
        if not self.enabled:
            return [float(v) for v in values]
        import ember.distributed as dist

        totals = ember.tensor([float(v) for v in values], dtype=ember.float64)
        dist.all_reduce(totals)
        return totals.tolist()

    def close(self) -> None:
        """Leave the process group (when this run joined it)."""
        if self.enabled:
            import ember.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
            self.enabled = False


def add_argument(parser) -> None:
    """The trainers' ``--distributed`` option."""
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel training over the ranks started by `python -m ember.distributed.run "
                             "--nproc-per-node N` (on automatically when WORLD_SIZE > 1); --batch-size is the global "
                             "batch, split evenly across the ranks")


def requested(flag: bool) -> bool:
    """``--distributed`` was given, or the launcher started more than one rank."""
    return bool(flag) or int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(flag: bool, batch_size: int) -> DataParallel:
    """Join the ``mpi`` process group when ``--distributed`` (or ``WORLD_SIZE > 1``); ``batch_size`` is the global
    batch and must split evenly across the ranks (a ``SystemExit`` naming both numbers otherwise)."""
    if not requested(flag):
        return DataParallel()
    import ember.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if batch_size % world:
        raise SystemExit(f"error: --batch-size {batch_size} must be divisible by the {world} ranks")
    return DataParallel(rank, world, enabled=True)


class ShardedBatchSampler:
    """The rank's share of each global batch a batch sampler (or any iterable of index lists) yields.

    Every rank builds the same global batches (same seed), so the ranks together see the batches one process
    would, less at most ``world - 1`` indices of a batch that does not split evenly (see
    :meth:`DataParallel.shard`); a batch smaller than ``world`` is skipped on every rank. ``len`` counts every
    batch: schedules are built from the single-process length, and may stop short of their end."""

    def __init__(self, batch_sampler, parallel: DataParallel) -> None:
        self.batch_sampler, self.parallel = batch_sampler, parallel

    def __iter__(self):
        for batch in self.batch_sampler:
            if len(batch) >= self.parallel.world:
                yield self.parallel.shard(batch)

    def __len__(self) -> int:
        return len(self.batch_sampler)
