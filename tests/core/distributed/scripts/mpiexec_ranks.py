"""Started by plain ``mpiexec -n 2`` (no launcher, no RANK/WORLD_SIZE): the ranks come from MPI."""

import os

import ember
import ember.distributed as dist

assert "RANK" not in os.environ and "WORLD_SIZE" not in os.environ
dist.init_process_group("mpi")
t = ember.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(t)
os.write(1, f"mpiexec rank {dist.get_rank()} of {dist.get_world_size()} sum {t.item():g} RANK={os.environ['RANK']}\n"
         .encode())
dist.destroy_process_group()
