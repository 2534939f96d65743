"""Layer benchmarks (issue: nn): Linear, Conv2d, MaxPool2d, BatchNorm2d, LayerNorm, GELU, softmax,
Embedding and CrossEntropyLoss, forward alone and forward+backward, at training-sized shapes.

The Conv2d rows are every convolution shape of ResNet-18 (CIFAR) and the MNIST CNN;
``python -m benchmarks.bench_layers [SUBSTRING]`` prints them (or the matching rows) with GFLOP/s."""

from __future__ import annotations

from .harness import Case


def _layer(build, shape, backward, target=None):
    """``build(lib)`` returns a module; the input has ``shape`` (float32, or int64 indices when
    ``shape`` is a (high, shape) pair for embeddings)."""

    def make(lib, device):
        lib.manual_seed(0)
        module = build(lib).to(device)
        if isinstance(shape[0], tuple):
            x = lib.randint(0, shape[1], shape[0], device=device)
        else:
            x = lib.randn(*shape, device=device, requires_grad=backward)
        if not backward:
            def run():
                with lib.no_grad():
                    module(x)

            return run

        def run():
            out = module(x)
            out.sum().backward()
            module.zero_grad()
            if x.is_floating_point():
                x.grad = None

        return run

    return make


def _cross_entropy(backward, n=256, c=1000):
    def make(lib, device):
        lib.manual_seed(0)
        logits = lib.randn(n, c, device=device, requires_grad=backward)
        target = lib.randint(0, c, (n,), device=device)
        loss = lib.nn.CrossEntropyLoss()

        def run():
            out = loss(logits, target)
            if backward:
                out.backward()
                logits.grad = None

        return run

    return make


def _both(name, build, shape, n_fwd, n_bwd):
    return [
        Case(f"{name} fwd", "layers", _layer(build, shape, False), number=n_fwd),
        Case(f"{name} fwd+bwd", "layers", _layer(build, shape, True), number=n_bwd),
    ]


# the convolutions of ResNet-18 (CIFAR, batch 32) and of the MNIST CNN: (C_in, C_out, k, stride, pad, H, batch)
CONV_SHAPES = [
    (3, 64, 3, 1, 1, 32, 32), (64, 64, 3, 1, 1, 32, 32), (64, 128, 3, 2, 1, 32, 32), (64, 128, 1, 2, 0, 32, 32),
    (128, 128, 3, 1, 1, 16, 32), (128, 256, 3, 2, 1, 16, 32), (256, 256, 3, 1, 1, 8, 32),
    (256, 512, 3, 2, 1, 8, 32), (512, 512, 3, 1, 1, 4, 32), (1, 32, 3, 1, 0, 28, 64), (32, 64, 3, 1, 0, 26, 64),
]
FLOPS = {}  # case name -> floating-point operations per call (2 per multiply-add; fwd+bwd counts 3 GEMMs)


def _conv_cases():
    cases = []
    for cin, cout, k, s, p, h, n in CONV_SHAPES:
        ho = (h + 2 * p - k) // s + 1
        flop = 2 * n * ho * ho * cout * cin * k * k
        name = f"Conv2d {k}x{k}{f' s{s}' if s > 1 else ''} {cin}->{cout} {h}x{h} b{n}"
        for c in _both(name, lambda lib, a=(cin, cout, k, s, p): lib.nn.Conv2d(*a), (n, cin, h, h), 2, 1):
            FLOPS[c.name] = flop * (3 if c.name.endswith("fwd+bwd") else 1)
            c.repeat = 5
            cases.append(c)
    return cases


CASES = (
    _both("Linear 1024->1024 b256", lambda lib: lib.nn.Linear(1024, 1024), (256, 1024), 10, 5)
    + _conv_cases()
    + _both("MaxPool2d 2x2 64ch 32x32 b32", lambda lib: lib.nn.MaxPool2d(2), (32, 64, 32, 32), 5, 3)
    + _both("BatchNorm2d 64ch 32x32 b32", lambda lib: lib.nn.BatchNorm2d(64), (32, 64, 32, 32), 5, 3)
    + _both("LayerNorm 256 (32x128 tokens)", lambda lib: lib.nn.LayerNorm(256), (32, 128, 256), 5, 3)
    + _both("GroupNorm 8 groups 32ch 32x32 b16", lambda lib: lib.nn.GroupNorm(8, 32), (16, 32, 32, 32), 5, 3)
    + _both("ReflectionPad2d 3 32ch 32x32 b16", lambda lib: lib.nn.ReflectionPad2d(3), (16, 32, 32, 32), 5, 3)
    + _both("GELU 1M", lambda lib: lib.nn.GELU(), (1024, 1024), 10, 5)
    + _both("Softmax 1M dim=-1", lambda lib: lib.nn.Softmax(dim=-1), (1024, 1024), 10, 5)
    + _both("Embedding 20000x128 b32x200", lambda lib: lib.nn.Embedding(20000, 128), ((32, 200), 20000), 20, 5)
    + [
        Case("CrossEntropyLoss 256x1000 fwd", "layers", _cross_entropy(False), number=20),
        Case("CrossEntropyLoss 256x1000 fwd+bwd", "layers", _cross_entropy(True), number=10),
    ]
)


def _gflops(flop, ms):
    return "-" if not (flop and ms) else f"{flop / ms / 1e6:.0f}"


def main():
    """``python -m benchmarks.bench_layers [SUBSTRING]``: the conv rows (or those matching) with GFLOP/s."""
    import sys

    from .harness import run_case

    sel = sys.argv[1] if len(sys.argv) > 1 else "Conv2d"
    print(f"{'case':<44}{'ember ms':>10}{'GFLOP/s':>9}{'torch ms':>10}{'GFLOP/s':>9}{'ratio':>8}")
    for case in CASES:
        if sel not in case.name:
            continue
        r = run_case(case)
        f = FLOPS.get(case.name)
        print(f"{case.name:<44}{r.ember_ms:>10.2f}{_gflops(f, r.ember_ms):>9}{r.torch_ms or 0:>10.2f}{_gflops(f, r.torch_ms):>9}"
              f"{'-' if r.ratio is None else f'{r.ratio:.2f}x':>8}", flush=True)


if __name__ == "__main__":
    main()
