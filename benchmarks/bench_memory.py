"""Peak resident memory of a training step, Ember vs PyTorch, each measured in a fresh process.

Reported as a separate table: the process's peak resident set (MB, ``ru_maxrss``) after three steps, and
how much the steps raised it above the peak reached while importing and building the model and data
(memory freed after building and reused by the steps does not count there):
``python -m benchmarks.bench_memory``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

_CHILD = r"""
import gc, json, resource, sys
lib = __import__(sys.argv[1])
if sys.argv[1] == "torch":
    lib.set_num_threads(int(sys.argv[3]))
from benchmarks import bench_models, models
build = getattr(models, sys.argv[2])
kind, batch = {"mlp": ("mnist", 128), "mnist_cnn": ("mnist", 64), "resnet18_cifar": ("cifar", 32)}[sys.argv[2]]
step = bench_models.train_step(build, kind, batch)(lib, "cpu")
gc.collect()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range(3):
    step()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_mb": base / 1024, "peak_mb": peak / 1024, "step_mb": (peak - base) / 1024}))
"""

MODELS = ["mlp", "mnist_cnn", "resnet18_cifar"]


def measure(lib: str, model: str, threads: int) -> dict:
    root = pathlib.Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", _CHILD, lib, model, str(threads)], capture_output=True, text=True, check=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(with_torch: bool = True):
    from .harness import blas_threads

    rows = []
    for model in MODELS:
        e = measure("ember", model, blas_threads())
        t = measure("torch", model, blas_threads()) if with_torch else None
        rows.append({"model": model, "ember_mb": e["step_mb"], "torch_mb": t["step_mb"] if t else None,
                     "ember_peak_mb": e["peak_mb"], "torch_peak_mb": t["peak_mb"] if t else None,
                     "ratio": (e["peak_mb"] / t["peak_mb"]) if t else None})
    return rows


def main():
    rows = run()
    print(f"{'model':<16}{'ember peak':>11}{'torch peak':>11}{'ratio':>8}{'ember step':>11}{'torch step':>11}")
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(f"{r['model']:<16}{r['ember_peak_mb']:>11.1f}{(r['torch_peak_mb'] or 0):>11.1f}{ratio:>8}"
              f"{r['ember_mb']:>11.1f}{(r['torch_mb'] or 0):>11.1f}")
    return rows


if __name__ == "__main__":
    main()
