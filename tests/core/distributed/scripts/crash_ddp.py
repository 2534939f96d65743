"""Rank 1 raises in the middle of a DDP backward (some buckets already launched) while rank 0 waits in the
gradients' all-reduce: the launcher must stop the job."""

import ember
import ember.distributed as dist
import ember.nn as nn

dist.init_process_group("mpi")
rank = dist.get_rank()
model = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)  # a bucket per parameter


def fail_on_rank_1(grad):
    if rank == 1 and step == 2:
        raise ValueError("rank 1 failed on purpose mid-backward")


model[0].weight.register_hook(fail_on_rank_1)  # the first layer's gradient comes last: later buckets are in flight
x = ember.randn(4, 8)
for step in range(4):
    ddp.zero_grad()
    ddp(x).sum().backward()
