import numpy as np
import pytest

import ember
from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from ember.utils.data import DataLoader
from embertext.data import BucketBatchSampler, PadCollate, pad_collate


def _flat(batches):
    return sorted(i for b in batches for i in b)


def test_unshuffled_sorts_by_length():
    lengths = [5, 1, 3, 1, 4, 2]
    s = BucketBatchSampler(lengths, batch_size=2, shuffle=False)
    assert list(s) == [[1, 3], [5, 2], [4, 0]]
    assert len(s) == 3
    s = BucketBatchSampler(lengths, batch_size=4, shuffle=False, drop_last=True)
    assert list(s) == [[1, 3, 5, 2]] and len(s) == 1


def test_shuffled_covers_everything_and_groups_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1000)
    s = BucketBatchSampler(lengths, batch_size=16, bucket_size_multiplier=10)
    batches = list(s)
    assert len(batches) == len(s) == 6 * 10 + 3  # six full pools of 160 (10 batches each), then 40 -> 16, 16, 8
    assert _flat(batches) == list(range(1000))
    # padding waste is far smaller than with random batches
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random_batches = np.array_split(rng.permutation(1000), 63)
    random_spread = np.mean([np.ptp(lengths[b]) for b in random_batches])
    assert spread < random_spread / 4
    # a batch never spans two pools: only the last pool's last batch is short
    assert sorted({len(b) for b in batches}) == [8, 16]


def test_shuffle_reproducible_with_manual_seed_and_changes_per_pass():
    lengths = list(range(1, 101))
    ember.manual_seed(3)
    a = list(BucketBatchSampler(lengths, 8, bucket_size_multiplier=2))
    ember.manual_seed(3)
    s = BucketBatchSampler(lengths, 8, bucket_size_multiplier=2)
    b, c = list(s), list(s)
    assert a == b and b != c


def test_drop_last_shuffled_len_matches():
    s = BucketBatchSampler(np.ones(103, dtype=np.int64), batch_size=10, bucket_size_multiplier=3, drop_last=True)
    batches = list(s)
    assert len(batches) == len(s) == 3 * 3 + 1  # 3 pools of 30, then 13 -> 10 (3 dropped)
    assert all(len(b) == 10 for b in batches)


def test_sampler_bad_input():
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BucketBatchSampler([1, 2], 0)
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        BucketBatchSampler([[1, 2]], 2)
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        BucketBatchSampler([1.5, 2.0], 2)
    assert list(BucketBatchSampler([], 4)) == [] and len(BucketBatchSampler([], 4)) == 0
    assert list(BucketBatchSampler([], 4, shuffle=False)) == []


def test_pad_collate_values():
    batch = [([5, 6, 7], 1), ([8], 0), ([9, 10], 1)]
    out = pad_collate(batch, padding_value=-1)
    assert out.ids.tolist() == [[5, 6, 7], [8, -1, -1], [9, 10, -1]]
    assert out.lengths.tolist() == [3, 1, 2] and out.lengths.dtype == ember.int64
    assert out.mask.tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    assert out.labels.tolist() == [1, 0, 1]
    # (label, ids) order, tensors, sorted, time-major
    batch = [(0, ember.tensor([1])), (1, ember.tensor([2, 3, 4])), (2, ember.tensor([5, 6]))]
    out = pad_collate(batch, sort_by_length=True, batch_first=False)
    assert out.ids.tolist() == [[2, 5, 1], [3, 6, 0], [4, 0, 0]]
    assert out.lengths.tolist() == [3, 2, 1] and out.labels.tolist() == [1, 2, 0]
    assert out.mask.shape == (3, 3)
    # ids only
    out = pad_collate([np.array([1, 2]), np.array([3])])
    assert out.labels is None and out.ids.tolist() == [[1, 2], [3, 0]]
    # empty sequences: documented length 0
    out = pad_collate([[], [1]])
    assert out.lengths.tolist() == [0, 1] and out.mask.tolist() == [[False], [True]]


def test_pad_collate_bad_input():
    with pytest.raises(ValueError, match="empty batch"):
        pad_collate([])
    with pytest.raises(TypeError, match=r"got tuple of \(int, int\)"):
        pad_collate([(1, 2)])
    with pytest.raises(TypeError, match="got str"):
        pad_collate(["a sentence"])
    with pytest.raises(TypeError, match="labels must be numbers, got str 'pos'.*LabelToIndex"):
        pad_collate([([1], "pos")])


def test_collate_feeds_pack_padded_sequence():
    out = pad_collate([([1, 2], 0), ([3, 4, 5], 1)])
    emb = ember.nn.Embedding(6, 2)
    packed = pack_padded_sequence(emb(out.ids), out.lengths, batch_first=True, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [2, 2, 1]
    unpacked, lens = pad_packed_sequence(packed, batch_first=True)
    assert lens.tolist() == [2, 3]


def test_dataloader_with_bucket_sampler_and_collate():
    data = [(i % 2, list(range(1, 2 + i % 7))) for i in range(50)]
    lengths = [len(ids) for _, ids in data]
    loader = DataLoader(data, batch_sampler=BucketBatchSampler(lengths, 8, bucket_size_multiplier=2),
                        collate_fn=PadCollate())
    seen = 0
    for batch in loader:
        assert batch.ids.shape[1] == int(batch.lengths.max())
        assert int(batch.mask.sum()) == int(batch.lengths.sum())
        seen += batch.ids.shape[0]
    assert seen == 50
