"""The reference values recorded from PyTorch by fixtures/record_spectral.py (shared by the spectral tests)."""

import pathlib

import numpy as np

REF = np.load(pathlib.Path(__file__).with_name("fixtures") / "spectral_ref.npz")


def cplx(a):
    """A stored real view ``[..., 2]`` as a complex array."""
    return a[..., 0] + 1j * a[..., 1]
