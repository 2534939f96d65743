"""Distributed data parallelism on this machine: ``python -m benchmarks.bench_distributed [--ranks 2]``.

Prints, with the load average before and after:
- all-reduce bandwidth of a 100 MB float32 tensor: ``ember.distributed.all_reduce`` against raw mpi4py;
- DDP's overhead over one raw all-reduce of the same gradient size (the backward hooks, buckets, copies);
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


def _launch(lib, what, ranks, repeat):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", EMBER_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([os.path.dirname(_HERE)] + sys.path))
    runner = "torch.distributed.run" if lib == "torch" else "ember.distributed.run"
    cmd = [sys.executable, "-m", runner, "--nproc-per-node", str(ranks)]
    if lib == "torch":
        cmd += ["--master-port", "29533"]
    cmd += [os.path.abspath(__file__), "--worker", "--lib", lib, "--what", what, "--repeat", str(repeat)]
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
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    try:
        import torch  # noqa: F401

        libs = ["ember", "torch"]
    except ImportError:
        libs = ["ember"]
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
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
