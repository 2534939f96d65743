import ember
import ember.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 failed on purpose")
dist.all_reduce(ember.ones(2))  # rank 0 would wait here forever without the launcher's abort
