"""``DistributedSampler``: the share of a dataset that one of ``num_replicas`` processes reads."""

from __future__ import annotations

import math
from collections.abc import Iterator

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _dist_setting(name):
    from ... import distributed as dist

    return getattr(dist, name)()


class DistributedSampler(Sampler):
    """Indices for replica ``rank`` of ``num_replicas``: the (optionally shuffled) index list is padded by
    repeating its head to a multiple of ``num_replicas`` (or truncated with ``drop_last``) and then strided.

    Call ``set_epoch(epoch)`` before each epoch so that shuffling differs between epochs.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _dist_setting("get_world_size")
        if rank is None:
            rank = _dist_setting("get_rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator:
        import ember

        if self.shuffle:
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; with ``shuffle=True`` it changes the permutation (seeded ``seed + epoch``)."""
        self.epoch = epoch
