"""Module ``__getattr__`` for PyTorch names Ember does not have yet.

``ember.linalg`` raises :class:`NotImplementedYetError` (an ``AttributeError`` *and* a
``NotImplementedError``): ``hasattr(ember, "linalg")`` stays ``False`` for feature detection, and a
program that uses the name learns it is a gap in Ember, not a typo. Names PyTorch does not have either
get Python's plain ``AttributeError``. The list of PyTorch's names is ``_torch_names.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys


class NotImplementedYetError(AttributeError, NotImplementedError):
    """A PyTorch name that Ember does not implement yet."""


_names: dict = {}


def _torch_names(module_name):
    if module_name not in _names:
        from ._torch_names import TORCH_NAMES

        _names[module_name] = frozenset(TORCH_NAMES.get(module_name, ()))
    return _names[module_name]


def module_getattr(module_name):
    """A module-level ``__getattr__`` for the Ember module ``module_name``."""

    def __getattr__(name):
        module = sys.modules.get(module_name)
        if not name.startswith("_") and name in _torch_names(module_name):
            # a submodule that exists but was not imported yet (``ember.foo`` before ``import ember.foo``)
            if hasattr(module, "__path__") and importlib.util.find_spec(f"{module_name}.{name}") is not None:
                return importlib.import_module(f"{module_name}.{name}")
            raise NotImplementedYetError(f"{module_name}.{name} is not implemented yet", name=name, obj=module)
        raise AttributeError(f"module '{module_name}' has no attribute '{name}'", name=name, obj=module)

    return __getattr__
