"""The op table's row type. Each ``spec_<family>.py`` beside this file defines ``SPECS``: a list of
``OpSpec`` that ``test_op_table.py`` runs forward against a NumPy reference (float32, and on every
device) and backward against float64 finite differences (``gradcheck``, optionally ``gradgradcheck``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class OpSpec:
    name: str
    fn: Callable[..., Any]  # ember function: fn(*tensors, **kwargs)
    ref: Callable[..., Any] | None  # NumPy reference on float64 arrays: ref(*arrays, **kwargs); None = no forward check
    shapes: list = field(default_factory=lambda: [(3, 4)])  # one shape per float input
    domain: tuple = (-2.0, 2.0)  # inputs drawn uniformly from here ...
    make_inputs: Callable[[np.random.Generator], list] | None = None  # ... unless this builds them (arrays)
    differentiable: tuple | None = None  # indices of inputs to differentiate (default: all float inputs)
    kwargs: dict = field(default_factory=dict)
    gradcheck: bool = True
    gradgradcheck: bool = False
    atol: float = 1e-5
    rtol: float = 1e-4
    id: str | None = None  # pytest id (defaults to name)

    def inputs(self, rng: np.random.Generator) -> list:
        if self.make_inputs is not None:
            return [np.asarray(a) for a in self.make_inputs(rng)]
        lo, hi = self.domain
        return [rng.uniform(lo, hi, size=s) for s in self.shapes]

    @property
    def test_id(self) -> str:
        return self.id or self.name
