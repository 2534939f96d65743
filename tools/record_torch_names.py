"""Record PyTorch's public names for Ember's "not implemented yet" errors (run once per PyTorch upgrade).

    /work/oracle/bin/python tools/record_torch_names.py

Writes ``packages/core/src/ember/_torch_names.py``: for ``torch``, ``torch.nn``, ``torch.nn.functional`` and
``torch.optim``, the public names of ``dir(module)`` minus what the module merely imports from elsewhere
(``os``, ``math``, ``typing.Optional``, ...) and build flags. ``ember``'s module ``__getattr__`` uses the list
to tell "PyTorch has it, Ember not yet" from "no such name".
"""

from __future__ import annotations

import inspect
import pathlib
import textwrap
import types

import torch
import torch.nn
import torch.nn.functional
import torch.optim

MODULES = {"ember": torch, "ember.nn": torch.nn, "ember.nn.functional": torch.nn.functional, "ember.optim": torch.optim}
SKIP = {"TYPE_CHECKING", "USE_GLOBAL_DEPS", "USE_RTLD_GLOBAL_WITH_LIBTORCH"}
OUT = pathlib.Path(__file__).resolve().parents[1] / "packages" / "core" / "src" / "ember" / "_torch_names.py"


def public_names(module) -> list:
    names = []
    for name in dir(module):
        if name.startswith("_") or name in SKIP or name.endswith("_notes"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            keep = obj.__name__.startswith("torch.")
        elif inspect.isclass(obj) or callable(obj):
            origin = getattr(obj, "__module__", None)
            keep = origin is None or origin.startswith("torch")
        else:
            keep = True  # dtypes, layouts, constants (pi, inf, ...)
        if keep:
            names.append(name)
    return sorted(names)


def main() -> None:
    parts = [f'"""Public names of PyTorch {torch.__version__.split("+")[0]} per Ember module, written by '
             'tools/record_torch_names.py (do not edit)."""\n\nTORCH_NAMES = {\n']
    for ember_name, module in MODULES.items():
        body = " ".join(f'"{n}",' for n in public_names(module))
        parts.append(f'    "{ember_name}": (\n')
        parts.append(textwrap.fill(body, width=116, initial_indent=" " * 8, subsequent_indent=" " * 8,
                                   break_long_words=False, break_on_hyphens=False) + "\n    ),\n")
    parts.append("}\n")
    OUT.write_text("".join(parts))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
