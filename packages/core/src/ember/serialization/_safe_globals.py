"""Allowlisting globals for ``ember.load(weights_only=True)`` (PyTorch's ``torch.serialization`` functions)."""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickletools
import zipfile

from . import _torch_reader


def add_safe_globals(safe_globals: list) -> None:
    """Mark globals (classes or functions, or ``(global, "module.name")`` pairs) as safe for
    ``weights_only=True`` loading."""
    _torch_reader._marked_safe_globals.extend(g for g in safe_globals if g not in _torch_reader._marked_safe_globals)


def get_safe_globals() -> list:
    """The globals marked safe with :func:`add_safe_globals`."""
    return list(_torch_reader._marked_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global marked safe with :func:`add_safe_globals`."""
    _torch_reader._marked_safe_globals.clear()


class safe_globals:
    """Context manager marking ``safe_globals`` as safe for ``weights_only=True`` loading inside its body."""

    def __init__(self, safe_globals: list):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._added = [g for g in self.safe_globals if g not in _torch_reader._marked_safe_globals]
        _torch_reader._marked_safe_globals.extend(self._added)

    def __exit__(self, type, value, tb):
        for g in self._added:
            if g in _torch_reader._marked_safe_globals:
                _torch_reader._marked_safe_globals.remove(g)


def _default_safe_strings() -> set:
    loader = _torch_reader._Loader(None, False, None, dry=True)
    return {f"{m}.{n}" for m, n in loader.allowed}


def get_unsafe_globals_in_checkpoint(f) -> list:
    """The ``module.name`` strings of the pickle GLOBALs in a checkpoint that ``weights_only=True`` would
    refuse (neither allowlisted by default nor marked safe). Reads the pickle's opcodes; runs nothing."""
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(os.fsdecode(f), "rb") as fh:
            return get_unsafe_globals_in_checkpoint(io.BytesIO(fh.read()))
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    if head != b"PK\x03\x04":
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    with zipfile.ZipFile(f) as zf:
        names = zf.namelist()
        if any(n.endswith("constants.pkl") for n in names):
            raise ValueError("Expected input to be a checkpoint returned by torch.save but got a torchscript checkpoint")
        pkl = _torch_reader.find_pickle(names)
        if pkl is None:
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        data = zf.read(pkl)
    found = set()
    strings = []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            module, _, name = arg.partition(" ")
            if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol-2 spellings of builtins
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            found.add(f"{module}.{name}")
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
            found.add(f"{strings[-2]}.{strings[-1]}")
        if isinstance(arg, str):
            strings.append(arg)
    safe = _default_safe_strings() | set(_torch_reader.user_allowed_globals())
    return list(found - safe)
