"""Whether the optional numba extra (``ember[fast]``) is importable, and the ``kernel_path`` fixture (shared
through ``tests/core/conftest.py``): a test on the NumPy path and on the compiled one (skipped without numba)."""

import pytest

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False


@pytest.fixture(params=["numpy", "fast"])
def kernel_path(request, monkeypatch):
    """"numpy" with ``EMBER_NO_FAST=1``, "fast" with the compiled kernels."""
    if request.param == "numpy":
        monkeypatch.setenv("EMBER_NO_FAST", "1")
    elif not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")
    else:
        monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    return request.param
