"""Peak resident memory of a training step, Ember vs PyTorch, each measured in a fresh process.

Reported as a separate table: the process's peak resident set (MB, ``VmHWM``) after three steps, and
how much the steps raised it above the peak reached while importing and building the model and data
(memory freed after building and reused by the steps does not count there):
``python -m benchmarks.bench_memory [-k MODEL] [--steps N]``.

``--steps N`` (N > 3) also checks that memory stays flat over a long run: it runs N steps in all and reports
the growth of the resident set (current, from /proc) and of its peak between step 3 and step N; anything
beyond a few MB is a leak (a graph or buffer kept from step to step).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys

_CHILD = r"""
import gc, json, os, sys
lib = __import__(sys.argv[1])
if sys.argv[1] == "torch":
    lib.set_num_threads(int(sys.argv[3]))
from benchmarks import bench_memory, bench_models, models
name, steps = sys.argv[2], int(sys.argv[4])
kind, batch, loss = bench_memory.SHAPES[name]
step = bench_models.train_step(getattr(models, name), kind, batch, loss=loss)(lib, "cpu")
bench_memory.load_libraries(lib)
page = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page / 2**20

def maxrss():
    # this process's own peak (VmHWM): ru_maxrss is carried over from the parent across fork and exec, so
    # the parent's resident set (with PyTorch imported to check for it) would raise the base
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024

gc.collect()
base = maxrss()
for _ in range(3):
    step()
res = {"base_mb": base, "peak_mb": maxrss(), "step_mb": maxrss() - base}
if steps > 3:
    r3, p3 = rss(), maxrss()
    for _ in range(steps - 3):
        step()
    res.update(steps=steps, rss_growth_mb=rss() - r3, peak_growth_mb=maxrss() - p3)
print(json.dumps(res))
"""

# model builder in benchmarks.models -> (data kind, batch, loss) as in bench_models
SHAPES = {
    "mlp": ("mnist", 128, "ce"),
    "mnist_cnn": ("mnist", 64, "ce"),
    "resnet18_cifar": ("cifar", 32, "ce"),
    "vgg11_bn_cifar": ("cifar", 32, "ce"),
    "lstm_classifier": ("tokens200", 32, "ce"),
    "transformer_classifier": ("tokens128", 32, "ce"),
    "m5": ("audio", 32, "nll"),
}
MODELS = list(SHAPES)


def load_libraries(lib) -> None:
    """Load what a library loads lazily on its first step, before the base is taken: with ``ember[fast]``
    the first optimizer step imports numba and loads its compiled kernels (~150 MB of resident code, once
    per process), as PyTorch's libraries are loaded at import; that is not a step's working memory."""
    p = lib.nn.Parameter(lib.ones(1 << 16))  # as large as the compiled kernels' smallest
    p.grad = lib.ones(1 << 16)
    lib.optim.SGD([p], lr=0.1, momentum=0.9).step()
    # the compiled im2col, pooling, batch-norm and softmax kernels: a tiny conv net's step (16 x 16 images,
    # 16 channels: every kernel's smallest size) loads them as the first real step would
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Conv2d(4, 16, 3, padding=1), lib.nn.BatchNorm2d(16), lib.nn.ReLU(),
                            lib.nn.MaxPool2d(2), lib.nn.Flatten(), lib.nn.Linear(16 * 8 * 8, 10))
    x, y = lib.randn(4, 4, 16, 16), lib.randint(0, 10, (4,))
    lib.nn.functional.cross_entropy(net(x), y).backward()


def measure(lib: str, model: str, threads: int, steps: int = 3) -> dict:
    root = pathlib.Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", _CHILD, lib, model, str(threads), str(steps)], capture_output=True,
                         text=True, check=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run(with_torch: bool = True, models=None, steps: int = 3):
    from .harness import blas_threads

    unknown = sorted(set(models or ()) - set(MODELS))
    if unknown:
        raise SystemExit(f"bench_memory: unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    with_torch = with_torch and _torch_available()
    rows = []
    for model in models or MODELS:
        e = measure("ember", model, blas_threads(), steps)
        t = measure("torch", model, blas_threads(), steps) if with_torch else None
        row = {"model": model, "ember_mb": e["step_mb"], "torch_mb": t["step_mb"] if t else None,
               "ember_peak_mb": e["peak_mb"], "torch_peak_mb": t["peak_mb"] if t else None,
               "ratio": (e["peak_mb"] / t["peak_mb"]) if t else None,
               "step_ratio": (e["step_mb"] / t["step_mb"]) if t and t["step_mb"] > 0 else None}
        if steps > 3:
            row.update(steps=steps, ember_rss_growth_mb=e["rss_growth_mb"], ember_peak_growth_mb=e["peak_growth_mb"],
                       torch_rss_growth_mb=t["rss_growth_mb"] if t else None,
                       torch_peak_growth_mb=t["peak_growth_mb"] if t else None)
        rows.append(row)
    return rows


def _fmt(v, spec=".1f", suffix=""):
    return "-" if v is None else f"{v:{spec}}{suffix}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-k", action="append", help="only these models (names in benchmarks/models.py)")
    p.add_argument("--steps", type=int, default=3, help="steps in all; above 3, report growth after step 3")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args([] if argv is None else argv)
    rows = run(not args.no_torch, args.k, args.steps)
    head = f"{'model':<24}{'ember peak':>11}{'torch peak':>11}{'ratio':>8}{'ember step':>11}{'torch step':>11}{'ratio':>8}"
    if args.steps > 3:
        head += f"{'ember growth':>14}{'torch growth':>14}"
    print(head)
    for r in rows:
        line = (f"{r['model']:<24}{r['ember_peak_mb']:>11.1f}{_fmt(r['torch_peak_mb']):>11}{_fmt(r['ratio'], '.2f', 'x'):>8}"
                f"{r['ember_mb']:>11.1f}{_fmt(r['torch_mb']):>11}{_fmt(r['step_ratio'], '.2f', 'x'):>8}")
        if args.steps > 3:  # growth of the current resident set between step 3 and the last step
            line += f"{_fmt(r['ember_rss_growth_mb']):>14}{_fmt(r['torch_rss_growth_mb']):>14}"
        print(line)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
