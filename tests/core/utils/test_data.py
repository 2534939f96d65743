"""ember.utils.data in the main process: datasets, random_split, samplers, collation, DataLoader arguments."""

from __future__ import annotations

import collections
import warnings

import ember
import numpy as np
import pytest
from ember.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


Point = collections.namedtuple("Point", ["x", "y"])


# -- datasets -------------------------------------------------------------------------------------
def test_tensor_dataset():
    x = ember.arange(12.0).reshape(6, 2)
    y = ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[2]
    assert a.tolist() == [4.0, 5.0] and b.item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, ember.arange(5))


def test_concat_add_subset_stack_chain():
    ds = Squares(3) + Squares(4)
    assert isinstance(ds, ConcatDataset)
    assert len(ds) == 7 and ds.cumulative_sizes == [3, 7]
    assert [ds[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9]
    assert ds[-1] == 9 and ds[-4] == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ds[-8]
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Count(0, 2)])
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])

    sub = Subset(Squares(10), [9, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [81, 4, 25]
    assert sub.__getitems__([0, 2]) == [81, 25]

    st = StackDataset(Squares(3), Squares(3))
    assert st[2] == (4, 4) and st.__getitems__([1, 2]) == [(1, 1), (4, 4)]
    st = StackDataset(a=Squares(3), b=Squares(3))
    assert st[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(3), Squares(4))

    chain = Count(0, 3) + Count(10, 12)
    assert isinstance(chain, ChainDataset)
    assert list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__."):
        Dataset()[0]


def test_random_split_lengths_and_fractions():
    ds = Squares(10)
    g = ember.Generator().manual_seed(1)
    parts = random_split(ds, [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    # same generator seed -> same split; the split is the generator's randperm, cut in order
    g2 = ember.Generator().manual_seed(1)
    perm = ember.randperm(10, generator=g2).tolist()
    assert parts[0].indices == perm[:3] and parts[1].indices == perm[3:]
    # fractions: floor each, then deal the remainder round-robin from the first split
    assert [len(p) for p in random_split(Squares(11), [0.5, 0.5])] == [6, 5]
    assert [len(p) for p in random_split(Squares(7), [1 / 3, 1 / 3, 1 / 3])] == [3, 2, 2]
    assert [len(p) for p in random_split(Squares(10), [0.1, 0.2, 0.3, 0.4])] == [1, 2, 3, 4]
    assert [len(p) for p in random_split(Squares(5), [0.25, 0.25, 0.25, 0.25])] == [2, 1, 1, 1]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(ds, [3, 6])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(ds, [0.5, 1.5, -1.0])


@pytest.mark.parity
def test_random_split_fraction_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, fracs in [(11, [0.5, 0.5]), (7, [1 / 3] * 3), (5, [0.25] * 4), (13, [0.7, 0.2, 0.1]), (3, [0.6, 0.4])]:
        ours = [len(p) for p in random_split(Squares(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs, (n, fracs)


# -- samplers -------------------------------------------------------------------------------------
def test_sequential_and_batch_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(bs) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


def test_random_sampler():
    g = ember.Generator().manual_seed(0)
    first = list(RandomSampler(range(10), generator=g))
    assert sorted(first) == list(range(10)) and first != list(range(10))
    again = list(RandomSampler(range(10), generator=ember.Generator().manual_seed(0)))
    assert first == again
    assert first == ember.randperm(10, generator=ember.Generator().manual_seed(0)).tolist()
    # num_samples larger than n without replacement: whole permutations, then a partial one
    many = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(many) == 10 and sorted(many[:4]) == sorted(many[4:8]) == [0, 1, 2, 3]
    rep = RandomSampler(range(3), replacement=True, num_samples=70, generator=g)
    draws = list(rep)
    assert len(rep) == 70 and len(draws) == 70 and set(draws) == {0, 1, 2}
    # no generator: seeded from the default generator
    ember.manual_seed(5)
    a = list(RandomSampler(range(8)))
    ember.manual_seed(5)
    assert list(RandomSampler(range(8))) == a
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)


def test_subset_and_weighted_samplers():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=ember.Generator().manual_seed(3))
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4
    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=ember.Generator().manual_seed(0))
    draws = np.array(list(w))
    assert len(w) == 400 and set(draws.tolist()) <= {1, 3}
    assert 0.65 < (draws == 3).mean() < 0.85
    wn = list(WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False))
    assert sorted(wn) == [0, 1, 2]
    assert WeightedRandomSampler([1, 2], 2).weights.dtype == ember.float64
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights have shape \\(1, 2\\)"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=True"):
        WeightedRandomSampler([1.0], True)


def test_distributed_sampler_padding_and_drop_last():
    ranks = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert ranks == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    ranks = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False, drop_last=True)) for r in range(3)]
    assert ranks == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    ranks = [list(DistributedSampler(range(2), num_replicas=5, rank=r, shuffle=False)) for r in range(5)]
    assert ranks == [[0], [1], [0], [1], [0]]
    assert len(DistributedSampler(range(10), num_replicas=3, rank=0)) == 4
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(10), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(10))  # num_replicas/rank come from the process group, as in PyTorch


def test_distributed_sampler_shuffle_and_epochs():
    samplers = [DistributedSampler(range(12), num_replicas=3, rank=r, seed=7) for r in range(3)]
    e0 = [list(s) for s in samplers]
    assert sorted(sum(e0, [])) == list(range(12))
    perm = ember.randperm(12, generator=ember.Generator().manual_seed(7)).tolist()
    assert e0[1] == perm[1::3]
    assert [list(s) for s in samplers] == e0  # same epoch -> same order
    for s in samplers:
        s.set_epoch(1)
    e1 = [list(s) for s in samplers]
    assert e1 != e0 and sorted(sum(e1, [])) == list(range(12))
    assert e1[0] == ember.randperm(12, generator=ember.Generator().manual_seed(8)).tolist()[0::3]


# -- collation ------------------------------------------------------------------------------------
def test_default_collate_leaves():
    out = default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])])
    assert out.shape == (2, 2) and out.dtype == ember.float32 and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    out = default_collate([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])
    assert isinstance(out, ember.Tensor) and out.dtype == ember.int32 and out.tolist() == [[1, 2], [3, 4]]
    out = default_collate([1, 2, 3])
    assert out.dtype == ember.int64 and out.tolist() == [1, 2, 3]
    out = default_collate([0.5, 1.5])
    assert out.dtype == ember.float64 and out.tolist() == [0.5, 1.5]
    out = default_collate([True, False])
    assert out.dtype == ember.bool and out.tolist() == [True, False]
    out = default_collate([np.float32(1.5), np.float32(2.5)])
    assert out.dtype == ember.float32 and out.tolist() == [1.5, 2.5]
    out = default_collate([np.int16(1), np.int16(2)])
    assert out.dtype == ember.int16
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_default_collate_structures():
    batch = [
        {"img": np.zeros((2, 2), np.float32), "label": 1, "name": "a", "meta": (1.0, [2, 3])},
        {"img": np.ones((2, 2), np.float32), "label": 0, "name": "b", "meta": (2.0, [4, 5])},
    ]
    out = default_collate(batch)
    assert set(out) == {"img", "label", "name", "meta"}
    assert out["img"].shape == (2, 2, 2) and out["img"].dtype == ember.float32
    assert out["label"].tolist() == [1, 0] and out["name"] == ["a", "b"]
    meta = out["meta"]
    assert isinstance(meta, list) and meta[0].tolist() == [1.0, 2.0] and meta[0].dtype == ember.float64
    assert isinstance(meta[1], list) and [m.tolist() for m in meta[1]] == [[2, 4], [3, 5]]
    pts = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(pts, Point) and pts.x.tolist() == [1, 3] and pts.y.dtype == ember.float64
    tup = default_collate([(0, 1), (2, 3)])  # tuples transpose into a list
    assert isinstance(tup, list) and [t.tolist() for t in tup] == [[0, 2], [1, 3]]
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert isinstance(od, collections.OrderedDict) and od["a"].tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


def test_default_collate_errors():
    with pytest.raises(TypeError) as exc:
        default_collate([object(), object()])
    assert str(exc.value) == (
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found <class 'object'>"
    )
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert():
    assert default_convert(3) == 3 and default_convert("s") == "s"
    t = default_convert(np.arange(3))
    assert isinstance(t, ember.Tensor) and t.dtype == ember.int64
    out = default_convert({"a": np.zeros(2), "b": [np.ones(1), 5], "c": (np.ones(1),)})
    assert isinstance(out["a"], ember.Tensor) and out["a"].dtype == ember.float64
    assert isinstance(out["b"][0], ember.Tensor) and out["b"][1] == 5
    assert isinstance(out["c"], list)
    s = np.array(["x"])
    assert default_convert(s) is s


@pytest.mark.parity
def test_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate

    batch = [
        {"a": np.arange(3, dtype=np.float32), "b": 1, "c": 2.5, "d": True, "e": (np.int32(3), "s")},
        {"a": np.arange(3, 6, dtype=np.float32), "b": 2, "c": 3.5, "d": False, "e": (np.int32(4), "t")},
    ]
    ours, theirs = default_collate(batch), tcollate(batch)

    def compare(o, t):
        if isinstance(t, torch.Tensor):
            assert isinstance(o, ember.Tensor)
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            np.testing.assert_array_equal(o.numpy(), t.numpy())
        elif isinstance(t, dict):
            assert type(o) is type(t) and set(o) == set(t)
            for k in t:
                compare(o[k], t[k])
        elif isinstance(t, (list, tuple)):
            assert type(o) is type(t) and len(o) == len(t)
            for a, b in zip(o, t):
                compare(a, b)
        else:
            assert o == t

    compare(ours, theirs)


# -- DataLoader in the main process ---------------------------------------------------------------
def test_dataloader_batches_and_len():
    ds = TensorDataset(ember.arange(20.0).reshape(10, 2), ember.arange(10))
    dl = DataLoader(ds, batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert batches[0][0].shape == (4, 2) and batches[2][1].tolist() == [8, 9]
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # batch_size=None: no auto-batching, samples pass through default_convert
    dl = DataLoader(Squares(3), batch_size=None)
    assert list(dl) == [0, 1, 4] and len(dl) == 3
    dl = DataLoader([np.ones(2), np.zeros(2)], batch_size=None)
    assert all(isinstance(b, ember.Tensor) for b in dl)
    # custom batch sampler and collate_fn
    dl = DataLoader(Squares(5), batch_sampler=[[4, 0], [2]], collate_fn=lambda b: b)
    assert list(dl) == [[16, 0], [4]] and len(dl) == 2
    # iterable dataset: len from len(dataset)
    dl = DataLoader(Count(0, 10), batch_size=4)
    assert len(dl) == 3 and [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dl = DataLoader(Count(0, 10), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert list(DataLoader(Count(0, 3), batch_size=None)) == [0, 1, 2]


def test_dataloader_shuffle_reproducible_with_generator():
    ds = TensorDataset(ember.arange(10))

    def epoch(dl):
        return [b[0].tolist() for b in dl]

    g = ember.Generator().manual_seed(42)
    dl = DataLoader(ds, batch_size=3, shuffle=True, generator=g)
    e1, e2 = epoch(dl), epoch(dl)
    assert sorted(sum(e1, [])) == list(range(10)) and e1 != e2  # reshuffled every epoch
    g.manual_seed(42)
    assert epoch(dl) == e1 and epoch(dl) == e2
    dl2 = DataLoader(ds, batch_size=3, shuffle=True, generator=ember.Generator().manual_seed(42))
    assert epoch(dl2) == e1
    # without a generator: follows ember.manual_seed
    ember.manual_seed(3)
    a = epoch(DataLoader(ds, batch_size=3, shuffle=True))
    ember.manual_seed(3)
    assert epoch(DataLoader(ds, batch_size=3, shuffle=True)) == a
    assert isinstance(DataLoader(ds, shuffle=True).sampler, RandomSampler)
    assert isinstance(DataLoader(ds).sampler, SequentialSampler)


def test_get_worker_info_in_main_process_is_none():
    assert get_worker_info() is None


INVALID = [
    (dict(num_workers=-1), ValueError,
     "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError,
     "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
     "multiprocessing, otherwise set prefetch_factor to None."),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_size=None, drop_last=True), ValueError,
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(multiprocessing_context="fork"), ValueError,
     "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got num_workers=0"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
]

INVALID_ITERABLE = [
    (dict(shuffle=True), ValueError,
     "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    (dict(batch_sampler=[[0]]), ValueError,
     "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler=[[0]]"),
]


@pytest.mark.parametrize("kwargs,exc,msg", INVALID)
def test_dataloader_argument_errors(kwargs, exc, msg):
    with pytest.raises(exc) as info:
        DataLoader(Squares(4), **kwargs)
    assert str(info.value) == msg


@pytest.mark.parametrize("kwargs,exc,msg", INVALID_ITERABLE)
def test_dataloader_iterable_argument_errors(kwargs, exc, msg):
    with pytest.raises(exc) as info:
        DataLoader(Count(0, 4), **kwargs)
    assert str(info.value) == msg


def test_dataloader_other_errors():
    with pytest.raises(ValueError, match="multiprocessing_context option should specify a valid start method in"):
        DataLoader(Squares(4), num_workers=1, multiprocessing_context="bogus")
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object"):
        DataLoader(Squares(4), num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified sampler option"):
        DataLoader(Count(0, 4), sampler=[0])
    dl = DataLoader(Squares(4))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        dl.batch_size = 3
    dl.num_workers = 0  # other attributes may change
    with pytest.raises(AssertionError):
        iter(DataLoader(Squares(4), timeout=1))  # like PyTorch: timeout needs workers
    with pytest.warns(UserWarning, match="This DataLoader will create 64 worker processes in total"):
        DataLoader(Squares(4), num_workers=64)


@pytest.mark.parity
def test_dataloader_errors_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDataLoader
    from torch.utils.data import IterableDataset as TIterable

    class TCount(TIterable):
        def __iter__(self):
            return iter(range(4))

    for kwargs, exc, msg in INVALID:
        with pytest.raises(exc) as info:
            TDataLoader(list(range(4)), **kwargs)
        assert str(info.value) == msg, kwargs
    for kwargs, exc, msg in INVALID_ITERABLE:
        with pytest.raises(exc) as info:
            TDataLoader(TCount(), **kwargs)
        assert str(info.value) == msg, kwargs
    with pytest.raises(TypeError) as info:
        torch.utils.data.default_collate([object(), object()])
    with pytest.raises(TypeError) as ours:
        default_collate([object(), object()])
    assert str(info.value) == str(ours.value)


def test_iterable_len_warning():
    class Liar(IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 2

    dl = DataLoader(Liar(), batch_size=None)
    assert len(dl) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert list(dl) == [0, 1, 2, 3, 4]


def test_pin_memory_warns_without_accelerator():
    if ember.cuda.is_available():
        pytest.skip("an accelerator is present")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        out = list(DataLoader(Squares(3), batch_size=2, pin_memory=True))
    assert [o.tolist() for o in out] == [[0, 1], [4]]


def test_custom_sampler_subclass():
    class Evens(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    dl = DataLoader(Squares(7), batch_size=2, sampler=Evens(7))
    assert [b.tolist() for b in dl] == [[0, 4], [16, 36]] and len(dl) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Sampler()
