"""Optimizer step benchmarks: SGD with momentum and Adam over 12.8M float32 parameters (ResNet-18 sized)."""

from __future__ import annotations

from .harness import Case

_SHAPES = [(512, 512, 3, 3)] * 4 + [(256, 256, 3, 3)] * 4 + [(1000, 512)] * 2 + [(64,)] * 20


def _step(name, **options):
    def make(lib, device):
        lib.manual_seed(0)
        params = [lib.randn(*s, device=device, requires_grad=True) for s in _SHAPES]
        for p in params:
            p.grad = lib.randn(*p.shape, device=device)
        opt = getattr(lib.optim, name)(params, **options)
        opt.step()  # creates the state
        return opt.step

    return make


CASES = [
    Case("SGD momentum=0.9 step 12.8M params", "optim", _step("SGD", lr=0.01, momentum=0.9), number=3),
    Case("Adam step 12.8M params", "optim", _step("Adam", lr=1e-3), number=3),
    Case("AdamW step 12.8M params", "optim", _step("AdamW", lr=1e-3), number=3),
]
