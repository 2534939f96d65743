"""Deterministic objects that ember saves for torch to read (shared by the record script and the tests)."""

import collections

import numpy as np


def build(ember):
    """A model state dict, optimizer and scheduler state dicts, views, dtypes and plain containers."""
    rng = np.random.default_rng(7)
    lin = ember.nn.Linear(4, 3)
    with ember.no_grad():
        lin.weight.copy_(ember.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
        lin.bias.copy_(ember.tensor(rng.standard_normal(3).astype(np.float32)))
    opt = ember.optim.Adam(lin.parameters(), lr=0.01)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x = ember.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    for _ in range(3):
        opt.zero_grad()
        lin(x).pow(2).sum().backward()
        opt.step()
        sched.step()
    base = ember.tensor(rng.standard_normal((4, 6)).astype(np.float64))
    return {
        "model": lin.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "base": base,
        "view": base[1:, 2:5],
        "transposed": base.t(),
        "ints": ember.arange(-3, 5),
        "int32": ember.tensor([1, 2, 3], dtype=ember.int32),
        "mask": ember.tensor([True, False, True]),
        "half": ember.tensor([0.5, -1.25], dtype=ember.float16),
        "complex": ember.tensor([1 + 2j, -3j], dtype=ember.complex64),
        "scalar": ember.tensor(3.5),
        "empty": ember.zeros(0, 3),
        "param": ember.nn.Parameter(ember.ones(2)),
        "meta": {"epoch": 3, "name": "run", "ok": True, "none": None, "pair": (1, 2.5), "set": {4},
                 "dtype": ember.float64, "device": ember.device("cpu"), "size": ember.Size([2, 3]),
                 "od": collections.OrderedDict(a=1), "bytes": b"\x00\x01", "c": 1 + 1j},
    }
