"""Per-op micro-benchmarks: small tensors (per-op overhead) and large tensors (throughput),
forward alone and forward+backward."""

from __future__ import annotations

from .harness import Case


def _pair(lib, device, shape, requires_grad=False):
    lib.manual_seed(0)
    a = lib.randn(*shape, device=device, requires_grad=requires_grad)
    b = lib.randn(*shape, device=device, requires_grad=requires_grad)
    return a, b


def _forward(op, shape, unary=False):
    def make(lib, device):
        a, b = _pair(lib, device, shape)
        f = getattr(lib, op)
        if unary:
            return lambda: f(a)
        return lambda: f(a, b)

    return make


def _linalg(op, shape, dtype="float64", backward=False):
    """A LAPACK routine on a well-conditioned (symmetric positive-definite) batch; ``backward``: solve's
    forward+backward (the backward reuses the forward's LU in both frameworks)."""

    def make(lib, device):
        lib.manual_seed(0)
        dt = getattr(lib, dtype)
        x = lib.randn(*shape, device=device, dtype=lib.float64)
        a = (x @ x.mT + shape[-1] * lib.eye(shape[-1], device=device, dtype=lib.float64)).to(dt)
        b = lib.randn(*shape[:-1], 4, device=device, dtype=dt)
        f = getattr(lib.linalg, op)
        if backward:
            a.requires_grad_(True)
            b.requires_grad_(True)

            def run():
                f(a, b).sum().backward()
                a.grad = None
                b.grad = None

            return run
        return (lambda: f(a, b)) if op == "solve" else (lambda: f(a))

    return make


def _backward(op, shape, unary=False):
    def make(lib, device):
        a, b = _pair(lib, device, shape, requires_grad=True)
        f = getattr(lib, op)

        def run():
            out = f(a) if unary else f(a, b)
            out.sum().backward()
            a.grad = None
            b.grad = None

        return run

    return make


def _chain(lib, device):
    """Three nodes forward+backward on tiny tensors: the per-node autograd overhead."""
    x, w = _pair(lib, device, (16,), requires_grad=True)

    def run():
        y = (x * w + x).sum()
        y.backward()
        x.grad = None
        w.grad = None

    return run


def _matmul(n, backward):
    def make(lib, device):
        a, b = _pair(lib, device, (n, n), requires_grad=backward)
        if not backward:
            return lambda: a @ b

        def run():
            (a @ b).sum().backward()
            a.grad = None
            b.grad = None

        return run

    return make


def _reduce(op, shape):
    def make(lib, device):
        a, _ = _pair(lib, device, shape)
        return lambda: getattr(a, op)(dim=-1)

    return make


SMALL, LARGE = (100,), (1024, 1024)

CASES = [
    Case("add small fwd", "ops", _forward("add", SMALL), number=2000),
    Case("add small fwd+bwd", "ops", _backward("add", SMALL), number=500),
    Case("mul small fwd", "ops", _forward("mul", SMALL), number=2000),
    Case("exp small fwd", "ops", _forward("exp", SMALL, unary=True), number=2000),
    Case("tanh small fwd+bwd", "ops", _backward("tanh", SMALL, unary=True), number=500),
    Case("chain of 3 nodes fwd+bwd", "ops", _chain, number=500),
    Case("add 1M fwd", "ops", _forward("add", LARGE), number=20),
    Case("mul 1M fwd+bwd", "ops", _backward("mul", LARGE), number=5),
    Case("exp 1M fwd", "ops", _forward("exp", LARGE, unary=True), number=20),
    Case("tanh 1M fwd+bwd", "ops", _backward("tanh", LARGE, unary=True), number=5),
    Case("sum 1M dim=-1", "ops", _reduce("sum", LARGE), number=20),
    Case("matmul 512 fwd", "ops", _matmul(512, False), number=10),
    Case("matmul 512 fwd+bwd", "ops", _matmul(512, True), number=3),
    # the few-millisecond linalg rows take 15 samples: PyTorch's samples of them spread by 15-45% (interquartile),
    # enough to move a median of 7 by a tenth of the ratio between runs
    *[Case(f"linalg.{op} {label}", "ops", _linalg(op, shape), number=number, repeat=repeat)
      for op in ("solve", "cholesky", "svd", "eigh")
      for label, shape, number, repeat in (("b64x64x64", (64, 64, 64), 3, 15), ("512x512", (512, 512), 2, 15))],
    *[Case(f"linalg.solve {label}{suffix}", "ops", _linalg("solve", shape, dtype, backward), number=number, repeat=15)
      for label, shape, number in (("b64x64x64", (64, 64, 64), 3), ("512x512", (512, 512), 2))
      for suffix, dtype, backward in ((" float32", "float32", False), (" fwd+bwd", "float64", True))],
    *[Case(f"linalg.{op} 512x512 float32", "ops", _linalg(op, (512, 512), "float32"), number=2) for op in ("svd", "eigh")],
]
