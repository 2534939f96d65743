"""``python -m benchmarks [-k SUBSTRING] [--suite NAME] [--device cpu|cuda] [--no-torch] [--busy]
[--allow-busy] [--json PATH]``

The load is checked before and after each suite. Figures are only written when the machine was idle
(1-minute load average at the start, and other processes' runnable threads at every check, at most
0.5); ``--allow-busy`` writes them anyway, marked busy. ``--busy`` also times every selected case with
a competing CPU-bound process running and reports the slowdown of each framework.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import sys

from . import harness

SUITES = ["bench_ops", "bench_layers", "bench_optim", "bench_models", "bench_dataloader", "bench_spectral", "bench_audio",
          "bench_text_tokenizers", "bench_text_models"]


def collect(selected=None):
    """(suite name, cases) for every importable suite."""
    suites = []
    for name in SUITES:
        if selected and name not in selected:
            continue
        try:
            mod = importlib.import_module(f".{name}", __package__)
        except ImportError as exc:
            print(f"[skip] {name}: {exc}", file=sys.stderr)
            continue
        suites.append((name, getattr(mod, "CASES", [])))
    return suites


def _run(case, args):
    try:
        return harness.run_case(case, args.device, with_torch=not args.no_torch)
    except Exception as exc:  # a failing case is reported, the suite goes on
        print(f"[error] {case.group}/{case.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-k", default="", help="only cases whose group/name contains this")
    p.add_argument("--suite", action="append", help="only these suites (module names)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--no-torch", action="store_true", help="time Ember alone")
    p.add_argument("--repeat", type=int, default=None, help="override samples per case")
    p.add_argument("--memory", action="store_true", help="also measure peak memory of training steps (fresh processes)")
    p.add_argument("--busy", action="store_true",
                   help="also time each case with a competing CPU-bound process running (started and stopped here)")
    p.add_argument("--busy-procs", type=int, default=1, metavar="N", help="competing processes for --busy")
    p.add_argument("--allow-busy", action="store_true",
                   help=f"write figures even when the load is above {harness.LOAD_LIMIT} (they are marked busy)")
    p.add_argument("--warm-ms", type=float, default=0.0, metavar="MS",
                   help="untimed calls for MS ms after each settling sleep, so samples time the steady state "
                        "(default 0: one untimed call, the published figures' method)")
    p.add_argument("--json", default=str(pathlib.Path(__file__).parent / "results" / "latest.json"))
    args = p.parse_args(argv)

    if args.device == "cuda":
        import ember

        if not ember.cuda.is_available():
            raise SystemExit("--device cuda: no usable CUDA GPU (ember.cuda.is_available() is False; CuPy and a GPU "
                             "are needed: pip install \"ember[cuda]\")")
        print(f"GPU: {ember.cuda.get_device_name()} ({ember.cuda.device_count()} visible)", flush=True)

    harness.WARM_MS = args.warm_ms
    if args.warm_ms:
        print(f"[method] {args.warm_ms:g} ms of untimed calls after each settling sleep", flush=True)
    forced = os.environ.get("OPENBLAS_CORETYPE")
    print(f"[blas] NumPy's OpenBLAS kernel: {harness.blas_kernel()}"
          + (f" (forced by OPENBLAS_CORETYPE={forced})" if forced else ""), flush=True)
    start = harness.check_load(first=True)
    print(f"[load] start: {start.describe()}", flush=True)
    if harness.refuse_figures([start], args.allow_busy):
        print(f"[refused] the machine is busy (above {harness.LOAD_LIMIT}): figures taken now would not be "
              "comparable; wait for an idle machine or pass --allow-busy (figures are then marked busy)",
              file=sys.stderr)
        return 2

    if not args.no_torch:
        torch = harness._torch()
        if torch is not None and args.device == "cuda" and not torch.cuda.is_available():
            print("PyTorch has no CUDA here: timing Ember alone", flush=True)
            args.no_torch = True
        elif torch is not None:
            torch.set_num_threads(harness.blas_threads())
    results, pairs, loads, checks = [], [], [], [start]
    for i, (suite, cases) in enumerate(collect(args.suite)):
        cases = [c for c in cases if args.k in f"{c.group}/{c.name}"]
        if not cases:
            continue
        before = start if i == 0 and not loads else harness.check_load()
        print(f"[load] before {suite}: {before.describe()}", flush=True)
        suite_results = []
        for case in cases:
            if args.repeat:
                case.repeat = args.repeat
            res = _run(case, args)
            if res is None:
                continue
            suite_results.append(res)
            print(harness.format_table([res]).splitlines()[-1], flush=True)
            if args.busy:
                with harness.busy_cpu(args.busy_procs):
                    loaded = _run(case, args)
                if loaded is not None:
                    loaded.note = (loaded.note + " " if loaded.note else "") + f"with {args.busy_procs} competing process(es)"
                    pairs.append((res, loaded))
                    print(harness.format_busy_table([(res, loaded)]).splitlines()[-1], flush=True)
        after = harness.check_load()
        print(f"[load] after {suite}: {after.describe()}", flush=True)
        for r in suite_results:
            r.busy = before.busy or after.busy
        checks += [before, after]
        loads.append({"suite": suite, "before": before.__dict__, "after": after.__dict__})
        results += suite_results
    print()
    print(harness.format_table(results))
    if pairs:
        print(f"\nbusy CPU: each case alone and with {args.busy_procs} competing CPU-bound process(es)")
        print(harness.format_busy_table(pairs))
    extra = {"load": loads}
    if pairs:
        extra["busy_comparison"] = [{"name": a.name, "group": a.group, "idle": a.as_dict(), "busy": b.as_dict()}
                                    for a, b in pairs]
    if args.memory:
        from . import bench_memory

        print("\npeak memory of a training step (MB above the built model)")
        extra["memory"] = bench_memory.main()
    if harness.refuse_figures(checks, args.allow_busy):
        print(f"\n[refused] the machine became busy during the run (above {harness.LOAD_LIMIT}): not writing "
              f"{args.json}; rerun on an idle machine or pass --allow-busy", file=sys.stderr)
        return 2
    harness.write_json(results, args.json, extra)
    print(f"\nwrote {args.json}" + (" (figures marked busy)" if any(r.busy for r in results) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
