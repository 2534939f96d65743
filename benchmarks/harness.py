"""Timing harness: each case runs the same workload in Ember and (when importable) PyTorch, in one
process, alternating after warm-up; it reports medians, spread and the Ember/PyTorch ratio."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def blas_kernel():
    """The kernel family NumPy's OpenBLAS runs (``ember._parallel.blas_kernel``), None where that is not known."""
    from ember._parallel import blas_kernel

    return blas_kernel()


def blas_threads() -> int:
    """Ember's thread count (``ember.get_num_threads``: EMBER_NUM_THREADS / OMP_NUM_THREADS / the CPUs of
    this process), which its BLAS uses on an idle machine: what PyTorch is given, for a fair ratio."""
    import ember

    return ember.get_num_threads()


@dataclass
class Case:
    """One workload. ``make(lib, device)`` builds inputs for ``lib`` (the ``ember`` or ``torch``
    module) and returns a zero-argument callable that runs the work once."""

    name: str
    group: str
    make: Callable
    number: int = 1  # calls per timed sample
    repeat: int = 7  # timed samples per framework
    torch_ok: bool = True
    note: str = ""


@dataclass
class Result:
    name: str
    group: str
    device: str
    ember_ms: float
    ember_spread: float
    torch_ms: float | None = None
    torch_spread: float | None = None
    note: str = ""
    busy: bool = False  # measured while the machine was busy (written only with --allow-busy)

    @property
    def ratio(self):
        return None if not self.torch_ms else self.ember_ms / self.torch_ms

    def as_dict(self):
        d = dict(self.__dict__)
        d["ratio"] = self.ratio
        return d


def _sync(lib, device):
    if device == "cuda":
        if lib.__name__ == "torch":
            lib.cuda.synchronize()
        else:
            lib.cuda.synchronize()


def _time_once(fn, number, lib, device) -> float:
    _sync(lib, device)
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    _sync(lib, device)
    return (time.perf_counter() - t0) * 1000.0 / number


def _spread(samples):
    """Relative interquartile range: how noisy the median is."""
    if len(samples) < 4:
        return (max(samples) - min(samples)) / statistics.median(samples)
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) / statistics.median(samples)


# after a framework's samples its idle threads keep spinning for a while (OpenBLAS's ~0.1 s, OpenMP's
# spin-wait), taking cores from the other framework's next sample: wait them out before each sample, then
# run one untimed call so the sample does not pay for waking the framework's own sleeping threads
SETTLE_S = 0.15
# --warm-ms: untimed calls for this long after the settling sleep (at least one). On this 2-vCPU VM a core
# that slept 0.15 s takes tens of ms of work to come back to full speed, and a thread split over two cores
# gains nothing meanwhile (an Ember linalg.solve b64: 1.75 ms per call for ~30 calls after the sleep, 0.97
# ms after); 0 keeps the published figures' method, whose short samples fall inside that transient
WARM_MS = 0.0


def _settle(fn, side_by_side):
    if side_by_side and SETTLE_S > 0:
        time.sleep(SETTLE_S)
        end = time.perf_counter() + WARM_MS / 1000.0
        fn()
        while time.perf_counter() < end:
            fn()


def run_case(case: Case, device: str = "cpu", with_torch: bool = True, warmup: int = 2) -> Result:
    import ember

    torch = _torch() if (with_torch and case.torch_ok) else None
    fe = case.make(ember, device)
    ft = case.make(torch, device) if torch is not None else None
    for _ in range(warmup):
        fe()
        if ft is not None:
            ft()
    te, tt = [], []
    for _ in range(case.repeat):
        _settle(fe, ft is not None)
        te.append(_time_once(fe, case.number, ember, device))
        if ft is not None:
            _settle(ft, True)
            tt.append(_time_once(ft, case.number, torch, device))
    res = Result(case.name, case.group, device, statistics.median(te), _spread(te), note=case.note)
    if tt:
        res.torch_ms, res.torch_spread = statistics.median(tt), _spread(tt)
    return res


def machine_info() -> dict:
    import numpy

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "blas_threads": blas_threads(),
        "blas_kernel": blas_kernel(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
    }
    torch = _torch()
    if torch is not None:
        info["torch"] = torch.__version__
    try:
        import cupy

        info["cupy"] = cupy.__version__
    except ImportError:
        pass
    return info


# ---- how busy the machine is ---------------------------------------------------------------------

LOAD_LIMIT = 0.5  # figures taken above this load are refused unless --allow-busy


def load_average():
    """The 1, 5 and 15-minute load averages (zeros where the system does not tell)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return (0.0, 0.0, 0.0)


def others_running(seconds=1.0, samples=10):
    """Mean number of runnable threads of other processes over ``seconds`` (this process's own threads,
    which the load average counts once a suite has run, are left out); None where unknown."""
    from ember._parallel import _others_running

    values = []
    for _ in range(samples):
        v = _others_running()
        if v is None:
            return None
        values.append(v)
        time.sleep(seconds / samples)
    return sum(values) / len(values)


@dataclass
class LoadCheck:
    """The machine's load at one moment: ``busy`` when the 1-minute load average (``first``: before
    anything of ours ran) or the other processes' runnable threads exceed the limit."""

    load: tuple
    others: float | None
    busy: bool

    def describe(self):
        others = "?" if self.others is None else f"{self.others:.2f}"
        return (f"load average {self.load[0]:.2f} {self.load[1]:.2f} {self.load[2]:.2f}, "
                f"other processes' runnable threads {others}" + (" (BUSY)" if self.busy else ""))


def check_load(first=False, limit=LOAD_LIMIT) -> LoadCheck:
    """Sample the load. Before the first suite the 1-minute load average is judged; later it includes
    the benchmark itself, so only other processes' runnable threads are."""
    load = load_average()
    others = others_running()
    busy = (others is not None and others > limit) or (first and load[0] > limit)
    return LoadCheck(load, others, busy)


def refuse_figures(checks, allow_busy) -> bool:
    """Whether figures measured between these load checks must not be written: any of them busy and
    ``--allow-busy`` not given."""
    return any(c.busy for c in checks) and not allow_busy


_SPIN = ("import os, sys\nparent = int(sys.argv[1])\nwhile os.getppid() == parent:\n"
         "    for _ in range(1000000):\n        pass\n")


@contextlib.contextmanager
def busy_cpu(n=1):
    """Run ``n`` competing CPU-bound processes for the duration of the block (each also stops by
    itself if this process dies)."""
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN, str(os.getpid())]) for _ in range(n)]
    try:
        time.sleep(0.3)  # let them get going
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def format_busy_table(pairs) -> str:
    """``pairs``: (result without, result with a competing process) per case."""
    rows = [("benchmark", "ember ms", "busy", "slowdown", "torch ms", "busy", "slowdown")]
    for idle, busy in pairs:
        def slow(a, b):
            return "-" if not a or b is None else f"{b / a:.2f}x"

        rows.append((f"{idle.group}/{idle.name}", f"{idle.ember_ms:.1f}", f"{busy.ember_ms:.1f}",
                     slow(idle.ember_ms, busy.ember_ms),
                     "-" if idle.torch_ms is None else f"{idle.torch_ms:.1f}",
                     "-" if busy.torch_ms is None else f"{busy.torch_ms:.1f}", slow(idle.torch_ms, busy.torch_ms)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_table(results) -> str:
    rows = [("benchmark", "device", "ember ms", "±", "torch ms", "±", "ratio")]
    for r in results:
        rows.append((
            f"{r.group}/{r.name}", r.device, f"{r.ember_ms:.3f}", f"{100 * r.ember_spread:.0f}%",
            "-" if r.torch_ms is None else f"{r.torch_ms:.3f}",
            "-" if r.torch_spread is None else f"{100 * r.torch_spread:.0f}%",
            ("-" if r.ratio is None else f"{r.ratio:.2f}x") + (" busy" if r.busy else ""),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write_json(results, path, extra=None):
    payload = {"machine": machine_info(), "results": [r.as_dict() for r in results]}
    if extra:
        payload.update(extra)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
