"""ember.multiprocessing: shared-memory tensors seen by forked and spawned workers; Hogwild training of one
model's shared parameters; spawn() error reporting."""

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
from ember import nn


def _write(t, value):
    t[0] = value


def _hogwild_worker(rank, model, steps):
    ember.manual_seed(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    x = ember.randn(64, 4)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5], [3.0]])
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def _fill(rank, t):
    t[rank] = rank + 1.0


def _fail(rank):
    if rank == 1:
        raise ValueError("worker 1 failed on purpose")


def test_share_memory_and_is_shared():
    t = ember.arange(4.0)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    data = t._data
    t.share_memory_()
    assert t._data is data  # already shared: nothing to do
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3])
    m = nn.Linear(2, 2)
    w = m.weight
    assert m.share_memory() is m and m.weight is w and all(p.is_shared() for p in m.parameters())


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_child_writes_are_seen_for_shared_tensors_only(method):
    ctx = mp.get_context(method)
    shared, private = ember.zeros(3).share_memory_(), ember.zeros(3)
    for t in (shared, private):
        p = ctx.Process(target=_write, args=(t, 5.0))
        p.start()
        p.join(60)
        assert p.exitcode == 0
    assert shared[0].item() == 5.0
    assert private[0].item() == 0.0


def test_hogwild_training_on_shared_parameters():
    ember.manual_seed(0)
    model = nn.Linear(4, 1)
    model.share_memory()
    x = ember.randn(256, 4)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5], [3.0]])
    before = nn.functional.mse_loss(model(x), y).item()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_hogwild_worker, args=(rank, model, 30)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    after = nn.functional.mse_loss(model(x), y).item()
    assert after < 0.2 * before


def test_spawn_runs_and_reports_failures():
    t = ember.zeros(2).share_memory_()
    assert mp.spawn(_fill, args=(t,), nprocs=2, start_method="fork") is None
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    with pytest.raises(mp.ProcessRaisedException, match="worker 1 failed on purpose"):
        mp.spawn(_fail, nprocs=2, start_method="fork")
