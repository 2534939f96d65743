"""Layer benchmarks (issue: nn): Linear, Conv2d, MaxPool2d, BatchNorm2d, LayerNorm, GELU, softmax,
Embedding and CrossEntropyLoss, forward alone and forward+backward, at training-sized shapes."""

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


CASES = (
    _both("Linear 1024->1024 b256", lambda lib: lib.nn.Linear(1024, 1024), (256, 1024), 10, 5)
    + _both("Conv2d 3x3 64->64 32x32 b32", lambda lib: lib.nn.Conv2d(64, 64, 3, padding=1), (32, 64, 32, 32), 2, 1)
    + _both("Conv2d 3x3 3->64 32x32 b32", lambda lib: lib.nn.Conv2d(3, 64, 3, padding=1), (32, 3, 32, 32), 3, 2)
    + _both("MaxPool2d 2x2 64ch 32x32 b32", lambda lib: lib.nn.MaxPool2d(2), (32, 64, 32, 32), 5, 3)
    + _both("BatchNorm2d 64ch 32x32 b32", lambda lib: lib.nn.BatchNorm2d(64), (32, 64, 32, 32), 5, 3)
    + _both("LayerNorm 256 (32x128 tokens)", lambda lib: lib.nn.LayerNorm(256), (32, 128, 256), 5, 3)
    + _both("GELU 1M", lambda lib: lib.nn.GELU(), (1024, 1024), 10, 5)
    + _both("Softmax 1M dim=-1", lambda lib: lib.nn.Softmax(dim=-1), (1024, 1024), 10, 5)
    + _both("Embedding 20000x128 b32x200", lambda lib: lib.nn.Embedding(20000, 128), ((32, 200), 20000), 20, 5)
    + [
        Case("CrossEntropyLoss 256x1000 fwd", "layers", _cross_entropy(False), number=20),
        Case("CrossEntropyLoss 256x1000 fwd+bwd", "layers", _cross_entropy(True), number=10),
    ]
)
