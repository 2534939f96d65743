"""A strict stand-in for CuPy, for the test suite only (``EMBER_TEST_FAKE_CUDA=1``).

No GPU is needed: the "device" arrays hold NumPy arrays, but behave like CuPy's where CuPy is strict
(see ``_array``), expose only CuPy's names (``_api``) and count host<->device copies (``transfers``).
``tests/conftest.py`` calls ``install()``, which hands the module to Ember through a private backend
hook; nothing in the ember package imports this, so user code never runs on it.

Files: ``_array.py`` the array type; ``_api.py`` the ``cupy``/``cupyx`` namespaces from allowlists;
``_cuda.py`` ``cupy.cuda`` (devices, streams, events, runtime, memory pools); ``_transfers.py`` the counts.
"""

from __future__ import annotations

from ._api import cupy, cupyx
from ._array import ndarray
from ._transfers import transfers

__all__ = ["cupy", "cupyx", "install", "ndarray", "transfers"]


def install():
    """Make the fake Ember's CuPy for this process (tests only)."""
    from ember import backend

    backend._use_test_cuda_module(cupy, cupyx)
