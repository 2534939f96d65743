"""``functional_call``: run a module with some parameters and buffers replaced by given tensors."""

from __future__ import annotations

import contextlib

from ..tensor import Tensor


def _resolve(module, name):
    *path, leaf = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


@contextlib.contextmanager
def _swapped(module, tensors, strict):
    known = dict(module.named_parameters(remove_duplicate=False))
    known.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = [k for k in known if k not in tensors]
        unexpected = [k for k in tensors if k not in known]
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append(f"Unexpected key(s): {', '.join(repr(k) for k in unexpected)}.")
            if missing:
                lines.append(f"Missing key(s): {', '.join(repr(k) for k in missing)}.")
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(lines))
    saved = []
    try:
        for name, value in tensors.items():
            owner, leaf = _resolve(module, name)
            if leaf in owner._parameters:
                store = owner._parameters
            elif leaf in owner._buffers:
                store = owner._buffers
            else:
                raise AttributeError(f"{owner._get_name()} has no parameter or buffer named '{leaf}' (from '{name}')")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"functional_call: the value for '{name}' must be a Tensor, got {type(value).__name__}")
            saved.append((store, leaf, store[leaf]))
            store[leaf] = value
        yield
    finally:
        for store, leaf, original in reversed(saved):
            store[leaf] = original


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named parameters/buffers taken from ``parameter_and_buffer_dicts``
    (a dict, or a sequence of dicts merged in order); the module itself is left unchanged afterwards."""
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = dict(parameter_and_buffer_dicts)
    else:
        tensors = {}
        for d in parameter_and_buffer_dicts:
            overlap = set(tensors) & set(d)
            if overlap:
                raise ValueError(f"{sorted(overlap)} appeared in multiple dictionaries; behavior of functional call is "
                                 "ambiguous")
            tensors.update(d)
    if tie_weights:  # a tensor shared under several names in the module follows the one given
        by_id = {}
        for name, t in list(module.named_parameters(remove_duplicate=False)) + list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in tensors]
            if given:
                for n in names:
                    tensors.setdefault(n, tensors[given[0]])
    args = () if args is None else (args if isinstance(args, tuple) else (args,))
    with _swapped(module, tensors, strict):
        return module(*args, **(kwargs or {}))
