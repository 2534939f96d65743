"""Distributed data parallelism on this machine: ``python -m benchmarks.bench_distributed [--ranks 2]``.

Prints, with the load average before and after:
- all-reduce bandwidth of a 100 MB float32 tensor: ``ember.distributed.all_reduce`` against raw mpi4py;
- DDP's overhead over the raw all-reduce, isolated: in the same ranks, alternating, the median time of a
  DDP training step, of the same step on an unwrapped copy of the model (same compute, no communication) and
  of one raw mpi4py ``Allreduce`` of the gradients' bytes; overhead = DDP step - plain step - raw all-reduce,
  reported as a fraction of the raw all-reduce (target <= 10%), with the time DDP spends in its own code
  (bucket copies, launching, waiting, writing back) alongside;
- the ResNet-18 CIFAR training step (batch 32 per rank, one BLAS thread per rank) on 1 and on N ranks,
  for Ember (MPI) and, when PyTorch is installed, PyTorch DDP with its gloo backend.
Needs ``ember[mpi]``. Each measurement runs in fresh ranks started by ``ember.distributed.run`` (or torchrun).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))


def _worker(args):
    import numpy as np

    if args.lib == "torch":
        import torch as lib
        import torch.distributed as dist

        lib.set_num_threads(1)
        dist.init_process_group("gloo")
    else:
        import ember as lib
        import ember.distributed as dist

        dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = {}
    if args.what == "allreduce":
        n = 25 * 1024 * 1024  # 100 MB of float32
        t = lib.ones(n)
        for _ in range(2):
            dist.all_reduce(t)
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            dist.all_reduce(t)
        dt = (time.perf_counter() - t0) / args.repeat
        out["allreduce_GBps"] = 4 * n / dt / 1e9
        if args.lib == "ember":
            from mpi4py import MPI

            buf = np.ones(n, dtype=np.float32)
            MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, buf)
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, buf)
            out["raw_mpi4py_GBps"] = 4 * n / ((time.perf_counter() - t0) / args.repeat) / 1e9
    elif args.what == "overhead":
        out.update(_ddp_overhead(lib, dist, args.repeat, args.batch))
    else:
        sys.path.insert(0, os.path.dirname(_HERE))
        from benchmarks import models

        lib.manual_seed(0)
        model = models.resnet18_cifar(lib)
        if world > 1:
            model = lib.nn.parallel.DistributedDataParallel(model)
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = lib.randn(32, 3, 32, 32)
        y = lib.randint(0, 10, (32,))
        loss_fn = lib.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        step()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        out["step_s"] = float(np.median(times))
        if world > 1 and args.lib == "ember":
            grads = sum(p.numel() for p in model.parameters())
            g = lib.ones(grads)
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                dist.all_reduce(g)
            out["raw_allreduce_of_grads_s"] = (time.perf_counter() - t0) / args.repeat
    if rank == 0:
        print("RESULT " + json.dumps(out), flush=True)
    dist.destroy_process_group()


def _ddp_overhead(lib, dist, repeat, batch):
    """Median seconds of a DDP step, the same step without DDP, and a raw mpi4py all-reduce of the gradients."""
    import copy

    import numpy as np
    from mpi4py import MPI

    sys.path.insert(0, os.path.dirname(_HERE))
    from benchmarks import models

    lib.manual_seed(0)
    plain = models.resnet18_cifar(lib)
    ddp = lib.nn.parallel.DistributedDataParallel(copy.deepcopy(plain))
    x, y = lib.randn(batch, 3, 32, 32), lib.randint(0, 10, (batch,))
    loss_fn = lib.nn.CrossEntropyLoss()
    n = sum(p.numel() for p in plain.parameters())
    raw = np.ones(n, dtype=np.float32)
    inside = {"launch": 0.0, "finalize": 0.0, "wait": 0.0}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                inside[name] += time.perf_counter() - t0
        return wrapper

    ddp._launch, ddp._finalize = timed("launch", ddp._launch), timed("finalize", ddp._finalize)
    work_wait = dist.Work.wait
    dist.Work.wait = timed("wait", work_wait)  # (inside finalize: the all-reduce, and any wait for the other rank)

    def step(model):
        model.zero_grad()
        loss_fn(model(x), y).backward()

    def allreduce(_):
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, raw)

    runs = {"ddp": (step, ddp), "plain": (step, plain), "raw": (allreduce, None)}
    times = {k: [] for k in runs}
    own, waits = [], []
    for i in range(repeat + 1):
        for name, (fn, arg) in runs.items():
            dist.barrier()  # each timing starts together: a slower rank's lag is not counted as DDP's
            before, wait_before = inside["launch"] + inside["finalize"], inside["wait"]
            t0 = time.perf_counter()
            fn(arg)
            if i:  # the first round warms up
                times[name].append(time.perf_counter() - t0)
                if name == "ddp":
                    own.append(inside["launch"] + inside["finalize"] - before)
                    waits.append(inside["wait"] - wait_before)
    dist.Work.wait = work_wait
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"ddp_step_s": med["ddp"], "plain_step_s": med["plain"], "raw_allreduce_s": med["raw"],
            "ddp_hooks_s": float(np.median(own)), "ddp_wait_s": float(np.median(waits)), "grad_MB": 4 * n / 1e6}


def _launch(lib, what, ranks, repeat, batch=32):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", EMBER_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([os.path.dirname(_HERE)] + sys.path))
    runner = "torch.distributed.run" if lib == "torch" else "ember.distributed.run"
    cmd = [sys.executable, "-m", runner, "--nproc-per-node", str(ranks)]
    if lib == "torch":
        cmd += ["--master-port", "29533"]
    cmd += [os.path.abspath(__file__), "--worker", "--lib", lib, "--what", what, "--repeat", str(repeat),
            "--batch", str(batch)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    for line in res.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{lib} {what} on {ranks} ranks failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--lib", default="ember", help=argparse.SUPPRESS)
    p.add_argument("--what", default="allreduce", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    p.add_argument("--only-overhead", action="store_true",
                   help="measure only DDP's overhead over the raw all-reduce (ResNet-18 CIFAR, batch 4 per rank)")
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    try:
        import torch  # noqa: F401

        libs = ["ember", "torch"]
    except ImportError:
        libs = ["ember"]
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    ov = _launch("ember", "overhead", args.ranks, max(args.repeat, 9), batch=4)
    extra = ov["ddp_step_s"] - ov["plain_step_s"] - ov["raw_allreduce_s"]
    print(f"DDP overhead on {args.ranks} ranks, ResNet-18 CIFAR b4/rank ({ov['grad_MB']:.0f} MB of gradients), medians: "
          f"DDP step {ov['ddp_step_s'] * 1e3:.0f} ms - plain step {ov['plain_step_s'] * 1e3:.0f} ms - raw mpi4py "
          f"all-reduce {ov['raw_allreduce_s'] * 1e3:.0f} ms = {extra * 1e3:+.0f} ms "
          f"({extra / ov['raw_allreduce_s']:+.0%} of the raw all-reduce; target <= +10%); time in DDP's own code "
          f"(bucket copies, launches, waits, averaging) {ov['ddp_hooks_s'] * 1e3:.0f} ms, of which waiting for "
          f"the collectives (the all-reduce itself and the slower rank) {ov['ddp_wait_s'] * 1e3:.0f} ms", flush=True)
    if args.only_overhead:
        print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
        return
    ar = _launch("ember", "allreduce", args.ranks, args.repeat)
    print(f"all-reduce 100 MB on {args.ranks} ranks: ember {ar['allreduce_GBps']:.2f} GB/s, raw mpi4py "
          f"{ar['raw_mpi4py_GBps']:.2f} GB/s ({ar['allreduce_GBps'] / ar['raw_mpi4py_GBps']:.2f}x of raw)")
    for lib in libs:
        one = _launch(lib, "resnet", 1, args.repeat)
        many = _launch(lib, "resnet", args.ranks, args.repeat)
        scaling = args.ranks * one["step_s"] / many["step_s"]
        line = (f"{lib}: ResNet-18 CIFAR b32/rank step 1 rank {one['step_s']:.3f} s, {args.ranks} ranks "
                f"{many['step_s']:.3f} s -> throughput scaling {scaling:.2f}x of {args.ranks}")
        if "raw_allreduce_of_grads_s" in many:
            overhead = many["step_s"] - one["step_s"]
            raw = many["raw_allreduce_of_grads_s"]
            line += f"; DDP time over 1 rank {overhead * 1e3:.0f} ms vs raw all-reduce of the gradients {raw * 1e3:.0f} ms"
        print(line, flush=True)
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
