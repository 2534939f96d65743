import datetime
import os
import sys

import ember
import ember.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=1))
if dist.get_rank() == 0:
    try:
        dist.all_reduce(ember.ones(2))
    except RuntimeError as exc:
        print(f"timeout seen: {exc}", flush=True)
        sys.stdout.flush()
        os._exit(3)
else:
    import time

    time.sleep(30)
