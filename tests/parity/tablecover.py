"""Which of ember's public callables the differential table covers (used by test_coverage.py).

A name is covered when the table calls it: ``ember.X`` as ``"X"``, ``ember.nn.functional.X`` as
``"nn.functional.X"``, ``ember.linalg/fft/special.X`` as ``"linalg.X"`` ...; a Tensor method ``m`` when the
table calls ``".m"`` or the function ``"m"`` (the method binds the same op), or, for an in-place ``m_``,
when ``m`` is covered.
"""

from __future__ import annotations

import inspect

NAMESPACES = {"": None, "nn.functional.": "nn.functional", "linalg.": "linalg", "fft.": "fft", "special.": "special"}


def public_callables(ember):
    """``{qualified name: object}`` for every public function of ember's op namespaces and Tensor methods."""
    out = {}
    for prefix, attr in NAMESPACES.items():
        mod = ember
        for part in (attr or "").split(".") if attr else ():
            mod = getattr(mod, part)
        for n in dir(mod):
            if n.startswith("_"):
                continue
            obj = getattr(mod, n)
            if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
                out[prefix + n] = obj
    for n in dir(ember.Tensor):
        if not n.startswith("_") and callable(getattr(ember.Tensor, n, None)):
            out["Tensor." + n] = getattr(ember.Tensor, n)
    return out


def table_names(ops):
    names = set()
    for op in ops:
        if callable(op.fn):
            names.update(getattr(op.fn, "covers", ()))
        else:
            names.add(op.fn)
    return names


def uncovered(ember, ops, excluded):
    names = table_names(ops)
    missing = []
    for q in public_callables(ember):
        if q in names or q in excluded:
            continue
        if q.startswith("Tensor."):
            m = q[7:]
            if "." + m in names or m in names or (m.endswith("_") and (m[:-1] in names or "." + m[:-1] in names)):
                continue
        missing.append(q)
    return sorted(missing)
