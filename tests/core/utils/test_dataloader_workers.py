"""DataLoader with worker processes: order, errors, timeout, seeding, iterable splitting and clean shutdown."""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
import subprocess
import sys
import textwrap
import time

import ember
import numpy as np
import pytest
from ember.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    yield
    gc.collect()
    deadline = time.time() + 10
    while multiprocessing.active_children() and time.time() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


class Jittery(Dataset):
    """Sample i is (i, i*i as float array); some indices are slow so workers finish out of order."""

    def __init__(self, n=23):
        self.n = n

    def __getitem__(self, i):
        if i % 4 == 0:
            time.sleep(0.01)
        return ember.tensor([float(i), float(i * i)]), i

    def __len__(self):
        return self.n


class FailsAt(Dataset):
    def __init__(self, bad):
        self.bad = bad

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"bad index {i}")
        return i

    def __len__(self):
        return 8


class Slow(Dataset):
    def __getitem__(self, i):
        time.sleep(1.0)
        return i

    def __len__(self):
        return 4


class Dies(Dataset):
    def __getitem__(self, i):
        os._exit(1)

    def __len__(self):
        return 4


class SplitRange(IterableDataset):
    """range(start, stop), split into contiguous shards across workers with get_worker_info()."""

    def __init__(self, start, stop, split=True):
        self.start, self.stop, self.split = start, stop, split

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.start, self.stop))
        per_worker = int(np.ceil((self.stop - self.start) / info.num_workers))
        lo = self.start + info.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.stop)))


class WorkerReport(Dataset):
    """Each sample reports the worker that made it and the state of its random generators."""

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "id": info.id, "num_workers": info.num_workers, "seed": info.seed, "pid": os.getpid(),
            "same_dataset": info.dataset.__class__ is WorkerReport,
            "ember": ember.rand(1).item(), "py": random.random(), "np": float(np.random.rand()),
        }

    def __len__(self):
        return 4


def _flat(dl):
    return [(x.tolist(), y.tolist()) for x, y in dl]


def test_workers_keep_order_and_match_single_process():
    ds = Jittery()
    ref = _flat(DataLoader(ds, batch_size=3, shuffle=True, generator=ember.Generator().manual_seed(9)))
    dl = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2, generator=ember.Generator().manual_seed(9))
    got = _flat(dl)
    assert got == ref
    batch = next(iter(DataLoader(ds, batch_size=3, num_workers=2)))
    assert isinstance(batch[0], ember.Tensor) and batch[0].dtype == ember.float32 and batch[0].shape == (3, 2)
    assert batch[1].dtype == ember.int64 and batch[1].tolist() == [0, 1, 2]
    # prefetch_factor=1, no batching, and unordered delivery
    dl = DataLoader(ds, batch_size=None, num_workers=2, prefetch_factor=1)
    assert [y for _, y in dl] == list(range(23))
    dl = DataLoader(ds, batch_size=2, num_workers=2, in_order=False)
    assert sorted(v for _, y in dl for v in y.tolist()) == list(range(23))


def test_worker_exception_is_reraised_with_traceback():
    dl = DataLoader(FailsAt(5), batch_size=2, num_workers=2)
    it = iter(dl)
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):")
    assert "ValueError: bad index 5" in msg and "__getitem__" in msg
    assert next(it).tolist() == [6, 7]  # the iterator goes on after an error, like PyTorch's
    del it


def test_timeout_raises():
    dl = DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError) as info:
        next(iter(dl))
    assert str(info.value) == "DataLoader timed out after 0.2 seconds"
    del info


def test_dead_worker_is_reported():
    dl = DataLoader(Dies(), num_workers=1, timeout=0.5)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        next(iter(dl))


def test_iterable_dataset_split_with_worker_info():
    dl = DataLoader(SplitRange(0, 20), batch_size=4, num_workers=2)
    # batches alternate between workers: worker 0 holds 0..9, worker 1 holds 10..19
    assert [b.tolist() for b in dl] == [
        [0, 1, 2, 3], [10, 11, 12, 13], [4, 5, 6, 7], [14, 15, 16, 17], [8, 9], [18, 19],
    ]
    dl = DataLoader(SplitRange(0, 20), batch_size=4, num_workers=2, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [10, 11, 12, 13], [4, 5, 6, 7], [14, 15, 16, 17]]
    # without splitting every worker replays the whole dataset
    dl = DataLoader(SplitRange(0, 5, split=False), batch_size=None, num_workers=2)
    assert sorted(dl) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_worker_seeding_and_worker_info():
    def run(seed):
        dl = DataLoader(WorkerReport(), batch_size=None, num_workers=2, generator=ember.Generator().manual_seed(seed))
        return list(dl)

    a, b, c = run(1), run(1), run(2)
    assert [r["id"] for r in a] == [0, 1, 0, 1] and all(r["num_workers"] == 2 for r in a)
    assert all(r["same_dataset"] for r in a)
    base = a[0]["seed"]
    assert a[1]["seed"] == base + 1
    # reproducible with the same generator seed, different across workers and seeds
    assert [(r["ember"], r["py"], r["np"]) for r in a] == [(r["ember"], r["py"], r["np"]) for r in b]
    for key in ("ember", "py", "np"):
        assert a[0][key] != a[1][key]
        assert a[0][key] != c[0][key]
    # seeding means: random.seed(seed), ember.manual_seed(seed)
    random.seed(base)
    assert a[0]["py"] == random.random()
    ember.manual_seed(base)
    assert a[0]["ember"] == ember.rand(1).item()


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id
        info.dataset.tag = f"w{worker_id}"

    class Tagged(Dataset):
        tag = "main"

        def __getitem__(self, i):
            return self.tag

        def __len__(self):
            return 4

    dl = DataLoader(Tagged(), batch_size=None, num_workers=2, worker_init_fn=init)
    assert list(dl) == ["w0", "w1", "w0", "w1"]


def test_no_processes_left_after_break_and_del():
    ds = Jittery(40)
    dl = DataLoader(ds, batch_size=2, num_workers=2)
    it = iter(dl)
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    gc.collect()
    assert multiprocessing.active_children() == []
    for i, _ in enumerate(dl):
        if i == 3:
            break
    gc.collect()
    assert multiprocessing.active_children() == []
    list(DataLoader(ds, batch_size=8, num_workers=2))  # exhausting the iterator shuts the workers down
    assert multiprocessing.active_children() == []


def test_persistent_workers():
    class Pid(Dataset):
        def __getitem__(self, i):
            return i, os.getpid()

        def __len__(self):
            return 6

    dl = DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True)
    e1 = [(b[0].tolist(), b[1].tolist()) for b in dl]
    assert len(multiprocessing.active_children()) == 2
    it = iter(dl)
    next(it)  # break mid-epoch: the next epoch still starts from the beginning
    e2 = [(b[0].tolist(), b[1].tolist()) for b in dl]
    assert [x for x, _ in e1] == [x for x, _ in e2] == [[0, 1], [2, 3], [4, 5]]
    pids1 = {p for _, ps in e1 for p in ps}
    pids2 = {p for _, ps in e2 for p in ps}
    assert pids1 == pids2 and len(pids1) == 2 and os.getpid() not in pids1
    # iterable datasets restart too
    dl2 = DataLoader(SplitRange(0, 6), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in dl2] == [[0, 1], [3, 4], [2], [5]]
    assert [b.tolist() for b in dl2] == [[0, 1], [3, 4], [2], [5]]
    del dl, dl2, it
    gc.collect()
    assert multiprocessing.active_children() == []


def test_spawn_context():
    ds = TensorDataset(ember.arange(10.0), ember.arange(10))
    dl = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    out = [(x.tolist(), y.tolist()) for x, y in dl]
    assert out == [([0.0, 1.0, 2.0, 3.0], [0, 1, 2, 3]), ([4.0, 5.0, 6.0, 7.0], [4, 5, 6, 7]), ([8.0, 9.0], [8, 9])]


def test_unpicklable_batch_is_an_error_not_a_hang():
    class Lambdas(Dataset):
        def __getitem__(self, i):
            return lambda: i

        def __len__(self):
            return 2

    dl = DataLoader(Lambdas(), batch_size=None, num_workers=1, timeout=10)
    with pytest.raises(Exception, match="in DataLoader worker process 0"):
        next(iter(dl))


def test_workers_stop_at_interpreter_exit():
    script = textwrap.dedent("""
        import os, ember
        from ember.utils.data import DataLoader, TensorDataset
        dl = DataLoader(TensorDataset(ember.arange(100)), batch_size=2, num_workers=2, persistent_workers=True)
        it = iter(dl)
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    start = time.time()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert time.time() - start < 30
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


class Big(Dataset):
    """Samples large enough to travel through shared memory (ember tensor and NumPy array, non-contiguous)."""

    def __getitem__(self, i):
        base = np.arange(200 * 100, dtype=np.float32).reshape(200, 100) + i
        return ember.tensor(base), base.T, np.int64(i)

    def __len__(self):
        return 12


def _shm_files():
    import glob

    return glob.glob(f"/dev/shm/ember_dl_{os.getpid()}_*")


def test_large_batches_and_shared_memory_cleanup():
    ref = [[t.numpy() if isinstance(t, ember.Tensor) else t for t in b] for b in DataLoader(Big(), batch_size=4)]
    got = list(DataLoader(Big(), batch_size=4, num_workers=2))
    assert len(got) == 3
    for (a, b, c), (ra, rb, rc) in zip(got, ref):
        assert isinstance(a, ember.Tensor) and isinstance(b, ember.Tensor)
        np.testing.assert_array_equal(a.numpy(), ra)
        np.testing.assert_array_equal(b.numpy(), rb)
        assert c.tolist() == rc.tolist()
    got[0][0].add_(1)  # arrays received from workers are ordinary writable memory
    assert _shm_files() == []
    it = iter(DataLoader(Big(), batch_size=1, num_workers=2, prefetch_factor=4))
    next(it)
    time.sleep(0.2)  # let the workers fill their prefetch slots
    del it
    gc.collect()
    assert _shm_files() == []
