"""A batch sampler that puts sentences of similar length together (less padding, faster RNN steps)."""

from __future__ import annotations

import numpy as np

import ember
from ember.utils.data import Sampler

__all__ = ["BucketBatchSampler"]


class BucketBatchSampler(Sampler):
    r"""Yield lists of dataset indices whose sequence lengths are close, for ``DataLoader(batch_sampler=...)``.

    With ``shuffle=True`` each pass draws a random permutation, cuts it into pools of
    ``batch_size * bucket_size_multiplier`` indices, sorts each pool by length, cuts the pools into batches
    and shuffles the order of the batches: every batch holds similar lengths while batches still differ
    from pass to pass. With ``shuffle=False`` the whole dataset is sorted by length (stable) once.

    Args:
        lengths: the length of every example (a sequence of ints, a 1-D array or tensor).
        batch_size: examples per batch.
        shuffle: randomise pools and batch order on every pass. Default: ``True``.
        drop_last: drop each pool's last, short batch. Default: ``False``.
        bucket_size_multiplier: pool size in batches; larger pools give tighter length groups but less
            randomness. Default: 100.
        generator: an ``ember.Generator`` for the random draws (default: the global one, so
            ``ember.manual_seed`` makes passes reproducible).

    Example:
        >>> lengths = [len(tokenizer(text)) for _, text in train]
        >>> loader = DataLoader(train, batch_sampler=BucketBatchSampler(lengths, 64), collate_fn=PadCollate())
    """

    def __init__(self, lengths, batch_size: int, shuffle: bool = True, drop_last: bool = False,
                 bucket_size_multiplier: int = 100, generator=None) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(bucket_size_multiplier, int) or bucket_size_multiplier <= 0:
            raise ValueError(f"bucket_size_multiplier should be a positive integer, got {bucket_size_multiplier}")
        if isinstance(lengths, ember.Tensor):
            lengths = lengths.cpu().numpy()
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iu"):
            raise ValueError(f"lengths must be a 1-D sequence of ints, got shape {lengths.shape} and "
                             f"dtype {lengths.dtype}")
        self.lengths = lengths.astype(np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.bucket_size_multiplier = bucket_size_multiplier
        self.generator = generator

    def _rng(self):
        seed = int(ember.randint(0, 2**62, (1,), generator=self.generator).item())
        return np.random.default_rng(seed)

    def _batches(self) -> list[np.ndarray]:
        n, bs = self.lengths.size, self.batch_size
        if n == 0:
            return []
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            pool_of = np.zeros(n, dtype=np.int64)
        else:
            rng = self._rng()
            order = rng.permutation(n)
            pool_of = np.arange(n) // (bs * self.bucket_size_multiplier)
            # sort inside each pool by length (stable), pools kept in place
            order = order[np.lexsort((self.lengths[order], pool_of))]
        # cut every pool into batches: a batch never spans two pools
        pos_in_pool = np.arange(n) - np.searchsorted(pool_of, pool_of, side="left")
        starts = np.flatnonzero((pos_in_pool % bs) == 0)
        batches = np.split(order, starts[1:])
        if self.drop_last:
            batches = [b for b in batches if b.size == bs]
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def __iter__(self):
        for batch in self._batches():
            yield batch.tolist()

    def __len__(self) -> int:
        n, bs = self.lengths.size, self.batch_size
        if not self.shuffle:
            return n // bs if self.drop_last else -(-n // bs)
        pool = bs * self.bucket_size_multiplier
        full, rest = divmod(n, pool)
        if self.drop_last:
            return full * self.bucket_size_multiplier + rest // bs
        return full * self.bucket_size_multiplier + -(-rest // bs)
