"""Devices without a GPU: the error says how to install the CUDA extra."""

from __future__ import annotations

import importlib.util

import pytest

import ember


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(RuntimeError, match=r'CuPy is not installed \(from the repository: pip install "\./packages/core\[cuda\]"; '
                                           r'from a package index: pip install "ember\[cuda\]"\)'):
        ember.zeros(1, device="cuda")
