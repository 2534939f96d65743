"""Randomized differential testing of ember against PyTorch.

Each op in ``optable.OPS`` draws calls from its argument generator (``gen.py``); every call runs on both
libraries with the same inputs, and a disagreement in exception class, output structure, shape, dtype,
value or float64 gradient is reported as one line that reproduces the call (``torch`` may be read as
``ember``). Runnable on its own for long runs and counts:

    python tests/parity/differential.py --seed 0 --trials 200 [--op NAME ...]
"""

from __future__ import annotations

import importlib
import math
import re
import warnings

import numpy as np

from gen import Draw, T  # noqa: E402  (tests/parity is on sys.path: see conftest.py)

_TOL = {"float16": (1e-2, 1e-2), "bfloat16": (2e-2, 2e-2), "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}
_GRAD_TOL = (1e-6, 1e-8)


def _resolve(lib, name, args):
    if callable(name):  # a composite call written for both libraries: name(lib, *args)
        return (lambda *a, **k: name(lib, *a, **k)), args
    if name.startswith("."):
        return getattr(args[0], name[1:]), args[1:]
    obj = lib
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj, args


def _build(lib, value, leaves):
    if isinstance(value, T):
        t = value.make(lib)
        leaves.append(t)
        return t
    if isinstance(value, list):
        return [_build(lib, v, leaves) for v in value]
    if isinstance(value, tuple):
        return tuple(_build(lib, v, leaves) for v in value)
    if isinstance(value, dict):
        return {k: _build(lib, v, leaves) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("dtype:"):
        return getattr(lib, value[6:])
    return value


def _flatten(out):
    """Outputs as a flat list of leaves (tensors and Python values); namedtuples count as tuples."""
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def _is_tensor(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "requires_grad")


def _np(t):
    if not hasattr(t, "detach"):
        return np.asarray(t)
    if type(t).__module__.startswith("torch"):
        if str(t.dtype) == "torch.bfloat16":  # NumPy has no bfloat16: compare in float32
            t = t.float()
        return t.detach().numpy(force=True)  # force: gradients may be lazy zero tensors
    a = t.detach().cpu().numpy()
    return a.astype(np.float32) if a.dtype.name == "bfloat16" else a


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


def _compare_values(a, b, dtype, tol=1.0):
    """None if arrays ``a`` (ember) and ``b`` (torch) agree, else a short reason."""
    if a.shape != b.shape:
        return f"shape {list(a.shape)} vs torch {list(b.shape)}"
    if a.size == 0:
        return None
    if a.dtype.kind in "biu" or b.dtype.kind in "biu":
        if not np.array_equal(a, b):
            return f"values {_brief(a)} vs torch {_brief(b)}"
        return None
    rtol, atol = (t * tol for t in _TOL.get(dtype.replace("complex64", "float32").replace("complex128", "float64"), (1e-4, 1e-5)))
    wide = np.complex128 if a.dtype.kind == "c" or b.dtype.kind == "c" else np.float64
    a64, b64 = a.astype(wide), b.astype(wide)
    if not np.allclose(a64, b64, rtol=rtol, atol=atol, equal_nan=True):
        return f"values {_brief(a)} vs torch {_brief(b)}"
    return None


def _brief(a):
    flat = np.asarray(a).reshape(-1)
    s = np.array2string(flat[:6], precision=4, separator=",")
    return s if flat.size <= 6 else s[:-1] + ",...]"


def _run(lib, name, args, kwargs):
    leaves = []
    a = _build(lib, args, leaves)
    k = _build(lib, kwargs, leaves)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn, rest = _resolve(lib, name, a)
            with np.errstate(all="ignore"):
                return fn(*rest, **k), leaves, None
        except Exception as exc:  # noqa: BLE001 - the exception class is what is compared
            return None, leaves, exc


def _grads(lib, outs, leaves, weights):
    """Gradients of sum(out * w) over the float outputs w.r.t. the leaves that require grad."""
    wants = [t for t in leaves if t.requires_grad]
    roots = [(o, w) for o, w in zip(outs, weights) if w is not None and _is_tensor(o) and o.requires_grad]
    if not wants or not roots:
        return None, None
    total = None
    for o, w in roots:
        term = (o * lib.tensor(w, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(all="ignore"):
                gs = lib.autograd.grad(total, wants, allow_unused=True)
        except Exception as exc:  # noqa: BLE001
            return None, exc
    return [None if g is None else _np(g) for g in gs], None


def _exc_ok(mine, theirs):
    """ember's exception must be caught by an ``except`` written for PyTorch's."""
    want = _ember_class(type(theirs))
    return isinstance(mine, want) or (isinstance(theirs, NotImplementedError) and isinstance(mine, RuntimeError))


def _ember_class(cls):
    """ember's class for an exception class PyTorch defines (``torch._C._LinAlgError`` -> ``ember._C._LinAlgError``);
    a class ember lacks stays PyTorch's, which ember's exception can't be an instance of."""
    mod = cls.__module__
    if mod != "torch" and not mod.startswith("torch."):
        return cls
    try:
        found = importlib.import_module("ember" + mod[len("torch"):])
        for part in cls.__qualname__.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return cls
    return found if isinstance(found, type) else cls


def _post(lib, post, out, exc):
    """``post(lib, out)`` (e.g. a reconstruction from a decomposition whose factors are not unique)."""
    if post is None or exc is not None:
        return out, exc
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return post(lib, out), None
    except Exception as e:  # noqa: BLE001
        return None, e


def compare_call(torch, ember, name, args, kwargs, rng, tol=1.0, post=None, values=True):
    """None when ember agrees with torch on this call, else the reason (a short string).

    ``post(lib, out)`` maps both outputs before they are compared; ``values=False`` compares exception
    classes, structure, shapes and dtypes only (random ops)."""
    out_e, leaves_e, exc_e = _run(ember, name, args, kwargs)
    out_t, leaves_t, exc_t = _run(torch, name, args, kwargs)
    out_e, exc_e = _post(ember, post, out_e, exc_e)
    out_t, exc_t = _post(torch, post, out_t, exc_t)
    if exc_t is not None or exc_e is not None:
        if exc_t is None:
            return f"ember raised {type(exc_e).__name__}: {str(exc_e)[:160]}"
        if exc_e is None:
            return f"torch raised {type(exc_t).__name__}: {str(exc_t)[:160]}; ember returned"
        if not _exc_ok(exc_e, exc_t):
            return f"ember raised {type(exc_e).__name__}: {str(exc_e)[:120]} | torch {type(exc_t).__name__}: {str(exc_t)[:120]}"
        return None
    fe, ft = _flatten(out_e), _flatten(out_t)
    if len(fe) != len(ft):
        return f"{len(fe)} outputs vs torch {len(ft)}"
    for i, (e, t) in enumerate(zip(fe, ft)):
        where = f"output {i}: " if len(fe) > 1 else ""
        if _is_tensor(t):
            if not _is_tensor(e):
                return f"{where}returned {type(e).__name__}, torch a Tensor"
            if _dtype_name(e) != _dtype_name(t):
                return f"{where}dtype {_dtype_name(e)} vs torch {_dtype_name(t)}"
            if tuple(e.shape) != tuple(t.shape):
                return f"{where}shape {list(e.shape)} vs torch {list(t.shape)}"
            if bool(e.requires_grad) != bool(t.requires_grad):
                return f"{where}requires_grad {e.requires_grad} vs torch {t.requires_grad}"
            if not values:
                continue
            bad = _compare_values(_np(e), _np(t), _dtype_name(t), tol)
            if bad:
                return where + bad
        elif isinstance(t, (bool, int, float)):
            if _is_tensor(e) or not _scalars_equal(e, t):
                return f"{where}{e!r} vs torch {t!r}"
    if not values:
        return None
    weights = [rng.standard_normal(tuple(t.shape)) if _is_tensor(t) and t.is_floating_point() else None for t in ft]
    ge, err_e = _grads(ember, fe, leaves_e, weights)
    gt, err_t = _grads(torch, ft, leaves_t, weights)
    if err_t is not None or err_e is not None:
        if err_t is None:
            return f"backward: ember raised {type(err_e).__name__}: {str(err_e)[:160]}"
        if err_e is None:  # PyTorch's own backward bugs (e.g. scatter with an empty index): ember may do better
            return None
        return None
    if gt is None and ge is None:
        return None
    if (gt is None) != (ge is None):
        return f"gradient {'missing' if ge is None else 'present'} in ember, torch {'has one' if gt is not None else 'none'}"
    for i, (a, b) in enumerate(zip(ge, gt)):
        ref = leaves_t[[j for j, t in enumerate(leaves_t) if t.requires_grad][i]]
        a = np.zeros(tuple(ref.shape)) if a is None else a
        b = np.zeros(tuple(ref.shape)) if b is None else b
        if a.shape != b.shape:
            return f"grad {i}: shape {list(a.shape)} vs torch {list(b.shape)}"
        # the gradient at a nan input is unspecified (PyTorch's own kernels disagree there): not compared
        at_nan = np.isnan(_np(ref))
        a, b = np.where(at_nan, 0.0, a), np.where(at_nan, 0.0, b)
        if a.size and not np.allclose(a, b, rtol=_GRAD_TOL[0], atol=_GRAD_TOL[1], equal_nan=True):
            return f"grad {i}: {_brief(a)} vs torch {_brief(b)}"
    return None


def _scalars_equal(a, b):
    if isinstance(b, float) and isinstance(a, (int, float)):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)
    return a == b and type(a) is type(b)


def _arg_repr(a):
    if isinstance(a, str) and a.startswith("dtype:"):
        return "torch." + a[6:]
    return repr(a)


def reproducer(name, args, kwargs) -> str:
    parts = [_arg_repr(a) for a in args]
    parts += [f"{k}={_arg_repr(v)}" for k, v in kwargs.items()]
    if callable(name):
        return f"{name.__name__}({', '.join(parts)})"
    if name.startswith("."):
        return f"{parts[0]}{name}({', '.join(parts[1:])})"
    return f"torch.{name}({', '.join(parts)})"


def run_op(torch, ember, op, seed, trials):
    """Disagreements of ``op`` over ``trials`` random calls: a list of (reproducer, reason), one per distinct reason."""
    rng = np.random.default_rng([seed, _stable_hash(op.name)])
    found = {}
    for _ in range(trials):
        draw = Draw(rng, float64_grad=op.grad)
        args, kwargs = op.gen(draw)
        try:
            reason = compare_call(torch, ember, op.fn, args, kwargs, rng, op.tol, op.post, op.values)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that is not a well-formed tensor
            reason = f"comparison failed: {type(exc).__name__}: {str(exc)[:160]}"
        if reason is not None:
            key = re.sub(r"[\d\[(].*", "", reason)[:80]
            found.setdefault(key, (reproducer(op.fn, args, kwargs), reason))
    return list(found.values())


def _stable_hash(s):
    h = 0
    for ch in s:
        h = (h * 131 + ord(ch)) % (2**31)
    return h


def main(argv=None):
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=100, help="calls per op")
    ap.add_argument("--op", nargs="*", help="only these ops (names as in the table)")
    ap.add_argument("-q", action="store_true", help="print the counts only")
    ns = ap.parse_args(argv)
    import torch

    import ember
    from table import OPS

    ops = [o for o in OPS if not ns.op or o.name in ns.op]
    total = bad_ops = 0
    for op in ops:
        found = run_op(torch, ember, op, ns.seed, ns.trials)
        total += len(found)
        bad_ops += bool(found)
        if not ns.q:
            for line, reason in found:
                print(f"[{op.name}] {line}  # {reason}")
    calls = ns.trials * len(ops)
    print(f"{total} distinct disagreements in {bad_ops} of {len(ops)} ops over {calls} calls (seed {ns.seed})")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
