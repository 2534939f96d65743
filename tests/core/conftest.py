"""Fixtures shared by the core tests."""

from ._numba import kernel_path  # noqa: F401 (a fixture)
