"""Every collective on 2+ ranks, checked against what one process computes from the same inputs."""

import datetime
import os

import numpy as np

import ember
import ember.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
rank, world = dist.get_rank(), dist.get_world_size()
assert (rank, world) == (int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]))
assert dist.is_initialized() and dist.get_backend() == "mpi"


def data(r, dtype, shape=(2, 3)):
    return (np.arange(np.prod(shape)).reshape(shape) % 5 + 2 * r + 1).astype(dtype)


def same(t, expected):
    np.testing.assert_array_equal(t.numpy(), np.asarray(expected).astype(t.numpy().dtype))


everyone = {r: None for r in range(world)}
for dtype in (np.float32, np.float64, np.int64):
    inputs = [data(r, dtype) for r in range(world)]
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.AVG, np.mean)):
        if op is dist.ReduceOp.AVG and dtype is np.int64:
            continue
        expected = ref(np.stack(inputs), axis=0)
        t = ember.from_numpy(inputs[rank].copy())
        dist.all_reduce(t, op=op)
        same(t, expected)
        t = ember.from_numpy(inputs[rank].copy())
        work = dist.all_reduce(t, op=op, async_op=True)
        assert work.wait() and work.is_completed()
        same(t, expected)
        t = ember.from_numpy(inputs[rank].copy())
        dist.reduce(t, dst=world - 1, op=op)
        if rank == world - 1:
            same(t, expected)
    t = ember.from_numpy(inputs[rank].copy())
    dist.broadcast(t, src=1)
    same(t, inputs[1])
    outs = [ember.zeros(2, 3, dtype=t.dtype) for _ in range(world)]
    dist.all_gather(outs, ember.from_numpy(inputs[rank]))
    for o, i in zip(outs, inputs):
        same(o, i)
    big = ember.zeros(2 * world, 3, dtype=t.dtype)
    dist.all_gather_into_tensor(big, ember.from_numpy(inputs[rank]))
    same(big, np.concatenate(inputs))
    # reduce_scatter_tensor with every op: rank r's block k is inputs[r] * (k + 1)
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.AVG, np.mean)):
        if op is dist.ReduceOp.AVG and dtype is np.int64:
            continue
        small = ember.zeros(2, 3, dtype=t.dtype)
        dist.reduce_scatter_tensor(small, ember.from_numpy(np.concatenate([inputs[rank] * (k + 1)
                                                                           for k in range(world)])), op=op)
        same(small, ref(np.stack(inputs) * (rank + 1), axis=0))
    # the same collectives with async_op=True: the result is in place once wait() returns
    t = ember.from_numpy(inputs[rank].copy())
    dist.broadcast(t, src=0, async_op=True).wait()
    same(t, inputs[0])
    t = ember.from_numpy(inputs[rank].copy())
    dist.reduce(t, dst=0, op=dist.ReduceOp.MAX, async_op=True).wait()
    if rank == 0:
        same(t, np.max(np.stack(inputs), axis=0))
    outs = [ember.zeros(2, 3, dtype=t.dtype) for _ in range(world)]
    dist.all_gather(outs, ember.from_numpy(inputs[rank]), async_op=True).wait()
    for o, i in zip(outs, inputs):
        same(o, i)
    big = ember.zeros(2 * world, 3, dtype=t.dtype)
    dist.all_gather_into_tensor(big, ember.from_numpy(inputs[rank]), async_op=True).wait()
    same(big, np.concatenate(inputs))
    small = ember.zeros(2, 3, dtype=t.dtype)
    dist.reduce_scatter_tensor(small, ember.from_numpy(np.concatenate([inputs[rank]] * world)),
                               async_op=True).wait()
    same(small, np.sum(np.stack(inputs), axis=0))
    gl = [ember.zeros(2, 3, dtype=t.dtype) for _ in range(world)] if rank == 1 else None
    dist.gather(ember.from_numpy(inputs[rank]), gl, dst=1, async_op=True).wait()
    if rank == 1:
        for o, i in zip(gl, inputs):
            same(o, i)
    got = ember.zeros(2, 3, dtype=t.dtype)
    dist.scatter(got, [ember.from_numpy(i) for i in inputs] if rank == 1 else None, src=1, async_op=True).wait()
    same(got, inputs[rank])
    # point to point on this dtype
    if rank == 0:
        dist.send(ember.from_numpy(inputs[0]), dst=1)
    elif rank == 1:
        got = ember.zeros(2, 3, dtype=t.dtype)
        dist.recv(got, src=0)
        same(got, inputs[0])
    gl = [ember.zeros(2, 3, dtype=t.dtype) for _ in range(world)] if rank == 0 else None
    dist.gather(ember.from_numpy(inputs[rank]), gl, dst=0)
    if rank == 0:
        for o, i in zip(gl, inputs):
            same(o, i)
    got = ember.zeros(2, 3, dtype=t.dtype)
    dist.scatter(got, [ember.from_numpy(i) for i in inputs] if rank == 0 else None, src=0)
    same(got, inputs[rank])
    # all_to_all: rank r sends block j (row j) to rank j
    send = ember.from_numpy(np.stack([data(rank * 10 + j, dtype, (3,)) for j in range(world)]))
    recv = ember.zeros(world, 3, dtype=t.dtype)
    dist.all_to_all_single(recv, send)
    same(recv, np.stack([data(j * 10 + rank, dtype, (3,)) for j in range(world)]))
    # uneven splits: rank r sends r+1 rows to everyone
    send = ember.from_numpy(np.concatenate([np.full((rank + 1, 2), 10 * rank + j, dtype) for j in range(world)]))
    recv = ember.zeros(sum(r + 1 for r in range(world)), 2, dtype=t.dtype)
    dist.all_to_all_single(recv, send, output_split_sizes=[r + 1 for r in range(world)],
                           input_split_sizes=[rank + 1] * world)
    same(recv, np.concatenate([np.full((r + 1, 2), 10 * r + rank, dtype) for r in range(world)]))

    # a block of zero rows (rank 0 sends nothing to the last rank), asynchronously
    sizes_in = [2] * world if rank else [2] * (world - 1) + [0]
    sizes_out = [0 if rank == world - 1 and r == 0 else 2 for r in range(world)]
    recv = ember.zeros(sum(sizes_out), 1, dtype=t.dtype)
    dist.all_to_all_single(recv, ember.from_numpy(np.full((sum(sizes_in), 1), rank + 1, dtype)), sizes_out, sizes_in,
                           async_op=True).wait()
    same(recv, np.concatenate([np.full((k, 1), r + 1, dtype) for r, k in enumerate(sizes_out)]))

# the bitwise ops on integers
bits = [np.array([0b1100, 0b1010, 7], np.int64) + r for r in range(world)]
for op, ref in ((dist.ReduceOp.BAND, np.bitwise_and), (dist.ReduceOp.BOR, np.bitwise_or),
                (dist.ReduceOp.BXOR, np.bitwise_xor)):
    t = ember.from_numpy(bits[rank].copy())
    dist.all_reduce(t, op=op)
    same(t, ref.reduce(np.stack(bits), axis=0))

# non-contiguous views are reduced in place through their base
base = ember.ones(4, 4)
dist.all_reduce(base[:, 1])
same(base[:, 1], [world] * 4)
same(base[:, 0], [1] * 4)

# point to point
if rank == 0:
    dist.send(ember.tensor([1.0, 2.0]), dst=1)
    w = dist.isend(ember.tensor([3.0]), dst=1, tag=7)
    w.wait()
elif rank == 1:
    x = ember.zeros(2)
    assert dist.recv(x) == 0
    same(x, [1, 2])
    y = ember.zeros(1)
    w = dist.irecv(y, src=0, tag=7)
    w.wait()
    same(y, [3])

# groups
sub = dist.new_group([0, 1])
if rank in (0, 1):
    assert dist.get_world_size(sub) == 2 and dist.get_rank(sub) == rank
    t = ember.tensor([float(rank + 1)])
    dist.all_reduce(t, group=sub)
    same(t, [3])
    assert dist.get_process_group_ranks(sub) == [0, 1]
solo = dist.new_group([1])
if rank == 1:
    t = ember.tensor([5.0])
    dist.all_reduce(t, group=solo)
    same(t, [5])
else:
    assert dist.get_rank(solo) == -1

# objects (ember's safe format: no code runs on receipt)
objs = [{"step": 3, "weights": ember.ones(2)}, "text", None] if rank == 0 else [None, None, None]
dist.broadcast_object_list(objs, src=0)
assert objs[0]["step"] == 3 and objs[1] == "text" and objs[2] is None
same(objs[0]["weights"], [1, 1])
gathered = [None] * world
dist.all_gather_object(gathered, {"rank": rank, "name": f"r{rank}"})
assert gathered == [{"rank": r, "name": f"r{r}"} for r in range(world)]



class Custom:  # not a checkpoint type: receiving it would mean running code, so every rank refuses it
    pass


try:
    dist.all_gather_object([None] * world, Custom())
except Exception as exc:
    assert "Weights only load failed" in str(exc), exc
else:
    raise AssertionError("an arbitrary object was unpickled")

# disagreements are errors on every rank, not hangs
try:
    dist.all_reduce(ember.ones(3 + rank))
except RuntimeError as exc:
    assert "the ranks disagree" in str(exc) and f"[rank {rank}]" in str(exc), exc
    assert "rank 0 called all_reduce on float32 [3]" in str(exc), exc
else:
    raise AssertionError("mismatched shapes were not detected")
try:
    if rank == 0:
        dist.all_reduce(ember.ones(2))
    else:
        dist.broadcast(ember.ones(2), src=0)
except RuntimeError as exc:
    assert "all_reduce" in str(exc) and "broadcast" in str(exc), exc
else:
    raise AssertionError("mismatched collectives were not detected")
try:  # split sizes that disagree across ranks: an error on every rank, not garbage in the output
    dist.all_to_all_single(ember.ones(2), ember.ones(2), input_split_sizes=[2, 0] if rank == 0 else None)
except RuntimeError as exc:
    assert f"[rank {rank}] all_to_all_single: rank 0 sends 2 elements to rank 0, which expects 1" in str(exc), exc
else:
    raise AssertionError("disagreeing split sizes were not detected")
for bad, message in (
        (lambda: dist.gather(ember.ones(2), [ember.ones(2, dtype=ember.float64)] * world, dst=rank),
         f"[rank {rank}] gather: gather_list[0] is ember.float64 of shape [2], the tensor ember.float32 of shape [2]"),
        (lambda: dist.scatter(ember.ones(2), [ember.ones(2)], src=rank),
         f"[rank {rank}] scatter: rank {rank} needs a scatter_list of {world} tensors"),
        (lambda: dist.all_to_all_single(ember.ones(3), ember.ones(3)), "Tensor's dim 0 does not divide equally"),
        (lambda: dist.all_to_all_single(ember.ones(2), ember.ones(2), input_split_sizes=[2]),
         "Number of tensor splits not equal to group size"),
        (lambda: dist.all_to_all_single(ember.ones(2, dtype=ember.int64), ember.ones(2)), "they must match")):
    try:
        bad()
    except (ValueError, RuntimeError, TypeError) as exc:
        assert message in str(exc), exc
    else:
        raise AssertionError(f"no error: {message}")
try:
    dist.all_reduce(ember.ones(2, dtype=ember.int64), op=dist.ReduceOp.AVG)
except RuntimeError as exc:
    assert "AVG" in str(exc)
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
os.write(1, f"collectives OK rank {rank}\n".encode())  # one write: ranks share stdout
