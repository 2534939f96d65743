"""DDP on halves of a batch equals one process on the whole batch; no_sync accumulation; SyncBatchNorm."""

import copy
import os

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
ember.manual_seed(100 + rank)  # different initial weights: DDP must broadcast rank 0's


def make_model():
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(),
                         nn.Linear(8, 3)).double()


rng = np.random.default_rng(0)
X = ember.from_numpy(rng.standard_normal((8 * world, 6)))
Y = ember.from_numpy(rng.integers(0, 3, 8 * world))
shard = slice(8 * rank, 8 * (rank + 1))

model = nn.SyncBatchNorm.convert_sync_batchnorm(make_model())
assert isinstance(model[1], nn.SyncBatchNorm)
ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0005)  # several buckets
assert len(ddp._buckets) > 2
reference = make_model()
reference.load_state_dict(model.state_dict())  # after the broadcast: rank 0's weights
assert list(ddp.state_dict())[0] == "module.0.weight"

opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for step in range(5):
    opt.zero_grad()
    loss_fn(ddp(X[shard]), Y[shard]).backward()
    opt.step()
    ref_opt.zero_grad()
    loss_fn(reference(X), Y).backward()
    ref_opt.step()
for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)

# no_sync: two local accumulations then a synced backward equal the sum of three synced backwards
chunks = [slice(8 * rank, 8 * rank + 3), slice(8 * rank + 3, 8 * rank + 6), slice(8 * rank + 6, 8 * rank + 8)]
mlp = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
acc = nn.parallel.DistributedDataParallel(copy.deepcopy(mlp))
each = nn.parallel.DistributedDataParallel(copy.deepcopy(mlp))
with acc.no_sync():
    for c in chunks[:2]:
        loss_fn(acc(X[c]), Y[c]).backward()
loss_fn(acc(X[chunks[2]]), Y[chunks[2]]).backward()
total = [np.zeros(p.shape) for p in each.parameters()]
for c in chunks:
    each.zero_grad()
    loss_fn(each(X[c]), Y[c]).backward()
    for g, p in zip(total, each.parameters()):
        g += p.grad.numpy()
for g, p in zip(total, acc.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-12, atol=1e-14)

# unused parameters: an error without find_unused_parameters, averaged zeros with it


class Branchy(nn.Module):
    def __init__(self, b_used_on):
        super().__init__()
        self.a = nn.Linear(4, 2).double()
        self.b = nn.Linear(4, 2).double()
        self.b_used_on = b_used_on

    def forward(self, x):
        return self.a(x) + self.b(x) if rank in self.b_used_on else self.a(x)


strict = nn.parallel.DistributedDataParallel(Branchy(b_used_on=()))
try:
    strict(X[shard, :4]).sum().backward()
    raise AssertionError("an unused parameter went unnoticed")
except RuntimeError as exc:
    assert "find_unused_parameters=True" in str(exc) and "b.weight" in str(exc), exc
loose = nn.parallel.DistributedDataParallel(Branchy(b_used_on=(1,)), find_unused_parameters=True)
loose(X[shard, :4]).sum().backward()
np.testing.assert_allclose(loose.module.b.bias.grad.numpy(), np.full(2, 8.0 / world))

# a parameter over 1 MiB is all-reduced in place in its .grad, the small ones through a reused bucket buffer:
# after two steps (the buffer reused) every gradient is the ranks' average
class Wide(nn.Module):
    def __init__(self):
        super().__init__()
        self.big = nn.Linear(400, 400).double()  # 1.28 MB of float64 weights
        self.head = nn.Linear(400, 3).double()
        self.register_buffer("scale", ember.full((3,), float(rank + 1)))  # float32
        self.register_buffer("count", ember.tensor([rank * 7], dtype=ember.int64))
        self.register_buffer("f16", ember.full((2,), float(rank + 2), dtype=ember.float16))
        self.register_buffer("mask", ember.tensor([rank == 0, rank == 1, True]))

    def forward(self, x):
        return self.head(self.big(x).tanh())


wide = nn.parallel.DistributedDataParallel(Wide())
assert any(len(b.params) == 1 and b.params[0] is wide.module.big.weight for b in wide._buckets)
local = copy.deepcopy(wide.module)  # rank 0's weights, no DDP
Xw = ember.from_numpy(np.random.default_rng(rank).standard_normal((5, 400)))
for _ in range(2):
    for b in (wide.module.scale, wide.module.count, wide.module.f16):
        b.fill_(rank + 5)  # rank-specific: each forward broadcasts rank 0's
    wide.module.mask.copy_(ember.tensor([rank == 1, rank == 0, False]))
    wide.zero_grad()
    local.zero_grad()
    wide(Xw).sum().backward()
    local(Xw).sum().backward()
    assert wide.module.scale.tolist() == [5.0] * 3 and wide.module.count.tolist() == [5]
    assert wide.module.f16.tolist() == [5.0, 5.0] and wide.module.mask.tolist() == [False, True, False]
    # big.weight reduced in place in its .grad, the small ones copied through their bucket
    assert sorted((len(b.params), b.inplace) for b in wide._buckets) == [(1, True), (3, False)]
    for p, q in zip(wide.parameters(), local.parameters()):
        mean = ember.from_numpy(q.grad.numpy().copy())
        dist.all_reduce(mean, dist.ReduceOp.AVG)
        np.testing.assert_allclose(p.grad.numpy(), mean.numpy(), rtol=1e-12, atol=1e-14)

# a one-parameter bucket's gradient is divided by a hook before autograd keeps it; a hook registered on the
# parameter after wrapping sees the local gradient all the same (the division then comes after accumulation)
seen = []
handle = wide.module.big.weight.register_hook(lambda g: seen.append(g.numpy().copy()))
for m in (wide, local):
    m.zero_grad()
    m(Xw).sum().backward()
handle.remove()
np.testing.assert_array_equal(seen[0], local.big.weight.grad.numpy())
mean = ember.from_numpy(local.big.weight.grad.numpy().copy())
dist.all_reduce(mean, dist.ReduceOp.AVG)
np.testing.assert_allclose(wide.module.big.weight.grad.numpy(), mean.numpy(), rtol=1e-12, atol=1e-14)

# gradient_as_bucket_view: the small parameters' .grad become views of their bucket (no copy back), equal to
# the default's gradients, whether zero_grad sets them to None or zeroes them in place (then backward
# accumulates into the bucket itself); a parameter over 1 MiB stays reduced in place in its own .grad
default = nn.parallel.DistributedDataParallel(copy.deepcopy(local))
viewed = nn.parallel.DistributedDataParallel(copy.deepcopy(local), gradient_as_bucket_view=True)
bucket = next(b for b in viewed._buckets if len(b.params) > 1)
for set_to_none in (True, True, False, False):
    for m in (default, viewed):
        m.zero_grad(set_to_none=set_to_none)
        m(Xw).sum().backward()
    for (name, p), q in zip(viewed.named_parameters(), default.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)
    assert all(np.shares_memory(p.grad._data, bucket.buffer) for p in bucket.params)
    assert not any(np.shares_memory(p.grad._data, b.buffer) for b in default._buckets if b.buffer is not None
                   for p in b.params)
    assert not np.shares_memory(viewed.module.big.weight.grad._data, bucket.buffer)

dist.destroy_process_group()
os.write(1, f"ddp OK rank {rank}\n".encode())  # one write: ranks share stdout
