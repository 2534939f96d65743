"""``python -m benchmarks [-k SUBSTRING] [--device cpu|cuda] [--no-torch] [--json PATH]``"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

from . import harness

SUITES = ["bench_ops", "bench_layers", "bench_optim", "bench_models", "bench_dataloader", "bench_spectral", "bench_audio",
          "bench_text_tokenizers", "bench_text_models"]


def collect(selected=None):
    cases = []
    for name in SUITES:
        if selected and name not in selected:
            continue
        try:
            mod = importlib.import_module(f".{name}", __package__)
        except ImportError as exc:
            print(f"[skip] {name}: {exc}", file=sys.stderr)
            continue
        cases.extend(getattr(mod, "CASES", []))
    return cases


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-k", default="", help="only cases whose group/name contains this")
    p.add_argument("--suite", action="append", help="only these suites (module names)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--no-torch", action="store_true", help="time Ember alone")
    p.add_argument("--repeat", type=int, default=None, help="override samples per case")
    p.add_argument("--memory", action="store_true", help="also measure peak memory of training steps (fresh processes)")
    p.add_argument("--json", default=str(pathlib.Path(__file__).parent / "results" / "latest.json"))
    args = p.parse_args(argv)

    if args.device == "cuda":
        import ember

        if not ember.cuda.is_available():
            raise SystemExit("--device cuda: no usable CUDA GPU (ember.cuda.is_available() is False; CuPy and a GPU "
                             "are needed: pip install \"ember[cuda]\")")
        print(f"GPU: {ember.cuda.get_device_name()} ({ember.cuda.device_count()} visible)", flush=True)
    if not args.no_torch:
        torch = harness._torch()
        if torch is not None and args.device == "cuda" and not torch.cuda.is_available():
            print("PyTorch has no CUDA here: timing Ember alone", flush=True)
            args.no_torch = True
        elif torch is not None:
            torch.set_num_threads(harness.blas_threads())
    results = []
    for case in collect(args.suite):
        if args.k not in f"{case.group}/{case.name}":
            continue
        if args.repeat:
            case.repeat = args.repeat
        try:
            res = harness.run_case(case, args.device, with_torch=not args.no_torch)
        except Exception as exc:  # a failing case is reported, the suite goes on
            print(f"[error] {case.group}/{case.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        results.append(res)
        print(harness.format_table([res]).splitlines()[-1], flush=True)
    print()
    print(harness.format_table(results))
    extra = {}
    if args.memory:
        from . import bench_memory

        print("\npeak memory of a training step (MB above the built model)")
        extra["memory"] = bench_memory.main()
    harness.write_json(results, args.json, extra)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
