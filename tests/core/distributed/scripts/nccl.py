"""The nccl backend on 2 ranks, on the fake CuPy with the NCCL test double (tests/core/distributed/nccl_double.py):
every collective on CUDA tensors against the single-process result, then DDP on two halves = one process.
With EMBER_NCCL_REAL=1 the same checks run on real GPUs through CuPy's NCCL (one rank per GPU)."""

import datetime
import os
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[2])]  # nccl_double; tests/ (for _fakecuda)

REAL = os.environ.get("EMBER_NCCL_REAL") == "1"
if not REAL:
    import _fakecuda
    import nccl_double

    _fakecuda.install()

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.distributed import _nccl  # noqa: E402

if not REAL:
    _nccl._test_module = nccl_double
local = int(os.environ["LOCAL_RANK"])
ember.cuda.set_device(local)
dist.init_process_group("nccl", timeout=datetime.timedelta(seconds=60))
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.get_backend() == "nccl" and dist.is_nccl_available()
dev = ember.device("cuda", local)


def data(r, dtype, shape=(2, 3)):
    return (np.arange(np.prod(shape)).reshape(shape) % 5 + 2 * r + 1).astype(dtype)


def cuda(a):
    return ember.from_numpy(np.ascontiguousarray(a)).to(dev)


def same(t, expected):
    assert t.device == dev, t.device
    np.testing.assert_array_equal(t.cpu().numpy(), np.asarray(expected).astype(t.cpu().numpy().dtype))


for dtype in (np.float32, np.float64, np.int64, np.float16):
    inputs = [data(r, dtype) for r in range(world)]
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.AVG, np.mean)):
        if op is dist.ReduceOp.AVG and dtype is np.int64:
            continue
        expected = ref(np.stack(inputs), axis=0)
        t = cuda(inputs[rank])
        dist.all_reduce(t, op=op)
        same(t, expected)
        t = cuda(inputs[rank])
        work = dist.all_reduce(t, op=op, async_op=True)
        assert work.wait() and work.is_completed()
        same(t, expected)
        t = cuda(inputs[rank])
        dist.reduce(t, dst=world - 1, op=op)
        same(t, expected if rank == world - 1 else inputs[rank])
    t = cuda(inputs[rank])
    dist.broadcast(t, src=world - 1)
    same(t, inputs[world - 1])
    outs = [ember.zeros(2, 3, dtype=t.dtype, device=dev) for _ in range(world)]
    dist.all_gather(outs, cuda(inputs[rank]))
    for o, i in zip(outs, inputs):
        same(o, i)
    big = ember.zeros(2 * world, 3, dtype=t.dtype, device=dev)
    dist.all_gather_into_tensor(big, cuda(inputs[rank]))
    same(big, np.concatenate(inputs))
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.AVG, np.mean)):
        if op is dist.ReduceOp.AVG and dtype is np.int64:
            continue
        small = ember.zeros(2, 3, dtype=t.dtype, device=dev)
        dist.reduce_scatter_tensor(small, cuda(np.concatenate([inputs[rank] * (k + 1) for k in range(world)])), op=op)
        same(small, ref(np.stack(inputs) * (rank + 1), axis=0))
    # gather / scatter / all_to_all_single: grouped NCCL send/recv, as PyTorch's NCCL backend
    for root in range(world):
        if not REAL:
            nccl_double.calls.clear()
        gl = [ember.zeros(2, 3, dtype=t.dtype, device=dev) for _ in range(world)] if rank == root else None
        dist.gather(cuda(inputs[rank]), gl, dst=root)
        if rank == root:
            for o, i in zip(gl, inputs):
                same(o, i)
        if not REAL:  # the root receives from each other rank, the others send once: no collective call
            assert [c[0] for c in nccl_double.calls] == (["recv"] * (world - 1) if rank == root else ["send"]), \
                nccl_double.calls
        got = ember.zeros(2, 3, dtype=t.dtype, device=dev)
        work = dist.scatter(got, [cuda(i * (root + 1)) for i in inputs] if rank == root else None, src=root,
                            async_op=True)
        work.wait()
        same(got, inputs[rank] * (root + 1))
    # a non-contiguous gather_list entry is written through its base
    cols = ember.zeros(3, world, dtype=t.dtype, device=dev)
    dist.gather(cuda(inputs[rank][0]), [cols[:, r] for r in range(world)] if rank == 0 else None, dst=0)
    if rank == 0:
        same(cols, np.stack([i[0] for i in inputs], axis=1))
    # all_to_all_single, even: rank r sends row j to rank j
    if not REAL:
        nccl_double.calls.clear()
    send = cuda(np.stack([data(rank * 10 + j, dtype, (3,)) for j in range(world)]))
    recv = ember.zeros(world, 3, dtype=t.dtype, device=dev)
    dist.all_to_all_single(recv, send)
    same(recv, np.stack([data(j * 10 + rank, dtype, (3,)) for j in range(world)]))
    if not REAL:  # one send and one recv per rank, this one included
        assert sorted(c[0] for c in nccl_double.calls) == ["recv"] * world + ["send"] * world, nccl_double.calls
    # uneven: rank r sends r+1 rows to everyone but r + 2 rows to the last rank; async
    sizes_in = [rank + 1] * (world - 1) + [rank + 2]
    send = cuda(np.concatenate([np.full((k, 2), 10 * rank + j, dtype) for j, k in enumerate(sizes_in)]))
    sizes_out = [r + 1 + (rank == world - 1) for r in range(world)]
    recv = ember.zeros(sum(sizes_out), 2, dtype=t.dtype, device=dev)
    dist.all_to_all_single(recv, send, output_split_sizes=sizes_out, input_split_sizes=sizes_in,
                           async_op=True).wait()
    same(recv, np.concatenate([np.full((k, 2), 10 * r + rank, dtype) for r, k in enumerate(sizes_out)]))
    # a block of zero rows (rank 0 sends nothing to the last rank)
    sizes_in = [2] * world if rank else [2] * (world - 1) + [0]
    sizes_out = [0 if rank == world - 1 and r == 0 else 2 for r in range(world)]
    send = cuda(np.full((sum(sizes_in), 1), rank + 1, dtype))
    recv = ember.zeros(sum(sizes_out), 1, dtype=t.dtype, device=dev)
    dist.all_to_all_single(recv, send, sizes_out, sizes_in)
    same(recv, np.concatenate([np.full((k, 1), r + 1, dtype) for r, k in enumerate(sizes_out)]))

# bool tensors gather too (NCCL's uint8)
gl = [ember.zeros(3, dtype=ember.bool, device=dev) for _ in range(world)] if rank == 0 else None
dist.gather(cuda(np.array([rank == 0, True, False])), gl, dst=0)
if rank == 0:
    for r, o in enumerate(gl):
        same(o, [r == 0, True, False])

# bool: SUM is a logical or, as PyTorch's NCCL backend
flags = cuda(np.array([rank == 0, False, True]))
dist.all_reduce(flags)
same(flags, [True, False, True])

# a non-contiguous view is reduced in place through its base
base = ember.ones(4, 4, device=dev)
dist.all_reduce(base[:, 1])
same(base[:, 1], [world] * 4)
same(base[:, 0], [1] * 4)

# point to point
if world > 1 and rank == 0:
    dist.send(cuda(np.array([1.0, 2.0], np.float32)), dst=1)
    dist.isend(cuda(np.array([3.0], np.float32)), dst=1).wait()
elif world > 1 and rank == 1:
    x = ember.zeros(2, device=dev)
    assert dist.recv(x, src=0) == 0
    same(x, [1, 2])
    y = ember.zeros(1, device=dev)
    dist.irecv(y, src=0).wait()
    same(y, [3])

# wrong inputs are clear errors
for bad, message in ((lambda: dist.all_reduce(ember.ones(2)), "the nccl backend works on CUDA tensors"),
                     (lambda: dist.recv(ember.ones(1, device=dev)), "needs the source rank"),
                     (lambda: dist.gather(ember.ones(2, device=dev), [ember.ones(3, device=dev)] * world, dst=rank),
                      f"[rank {rank}] gather: gather_list[0] is ember.float32 of shape [3], the tensor "
                      "ember.float32 of shape [2]"),
                     (lambda: dist.scatter(ember.ones(2, device=dev), [ember.ones(2)] * world, src=rank),
                      "the nccl backend works on CUDA tensors"),
                     (lambda: dist.all_to_all_single(ember.ones(world, device=dev), ember.ones(world, device=dev),
                                                     input_split_sizes=[world + 1] + [0] * (world - 1)),
                      "Split sizes doesn't match total dim 0 size"),
                     (lambda: dist.all_reduce(ember.ones(2, device=dev), op=dist.ReduceOp.BAND), "Cannot use")):
    try:
        bad()
    except (TypeError, ValueError, RuntimeError) as exc:
        assert message in str(exc), exc
    else:
        raise AssertionError(f"no error: {message}")
if ember.cuda.device_count() > 1:
    other = ember.ones(2, device=ember.device("cuda", 1 - local % 2))
    try:
        dist.all_reduce(other)
    except ValueError as exc:
        assert f"this rank's NCCL communicator is on cuda:{local}" in str(exc), exc
    else:
        raise AssertionError("a tensor on another GPU was not detected")
try:
    dist.all_reduce(ember.ones(3 + rank, device=dev))
except RuntimeError as exc:
    assert "the ranks disagree" in str(exc), exc
else:
    raise AssertionError("mismatched shapes were not detected")

if world > 1:  # split sizes that disagree across ranks: an error on every rank before NCCL could hang
    try:
        dist.all_to_all_single(ember.ones(2, device=dev), ember.ones(2, device=dev),
                               input_split_sizes=[2, 0] if rank == 0 else None)
    except RuntimeError as exc:
        assert f"[rank {rank}] all_to_all_single: rank 0 sends 2 elements to rank 0, which expects 1 from it" in str(exc), exc
    else:
        raise AssertionError("disagreeing split sizes were not detected")

# objects still travel (over MPI)
got = [None] * world
dist.all_gather_object(got, {"rank": rank})
assert got == [{"rank": r} for r in range(world)]
dist.barrier()

# DDP on the nccl backend: two halves of a batch = one process on the whole batch
ember.manual_seed(100 + rank)
model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double().to(dev)
ddp = nn.parallel.DistributedDataParallel(model, device_ids=[local], bucket_cap_mb=0.0005)
reference = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double().to(dev)
reference.load_state_dict(model.state_dict())
rng = np.random.default_rng(0)
X = cuda(rng.standard_normal((8 * world, 6)))
Y = cuda(rng.integers(0, 3, 8 * world))
shard = slice(8 * rank, 8 * (rank + 1))
opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
if not REAL:
    nccl_double.calls.clear()
for step in range(3):
    opt.zero_grad()
    loss_fn(ddp(X[shard]), Y[shard]).backward()
    opt.step()
    ref_opt.zero_grad()
    loss_fn(reference(X), Y).backward()
    ref_opt.step()
if not REAL:
    assert sum(1 for c in nccl_double.calls if c[0] == "allReduce") >= 3 * 2, nccl_double.calls  # buckets by NCCL
for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
    assert a.device == dev
    np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)



# buffers on the GPU: rank 0's at construction and before every forward (through NCCL broadcasts)
class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("scale", ember.full((3,), float(rank + 1)))
        self.register_buffer("count", ember.tensor([rank], dtype=ember.int64))

    def forward(self, x):
        return self.lin(x) * self.scale[:2]


wb = nn.parallel.DistributedDataParallel(WithBuffers().to(dev), device_ids=[local])
same(wb.module.scale, [1, 1, 1])
same(wb.module.count, [0])
wb.module.scale.fill_(rank + 5)
wb.module.count.fill_(rank + 5)
if not REAL:
    nccl_double.calls.clear()
wb(ember.ones(1, 2, device=dev)).sum().backward()
same(wb.module.scale, [5, 5, 5])
same(wb.module.count, [5])
if not REAL:
    assert [c[0] for c in nccl_double.calls].count("broadcast") == 2, nccl_double.calls

dist.destroy_process_group()
assert not dist.is_initialized()
os.write(1, f"nccl OK rank {rank}\n".encode())
