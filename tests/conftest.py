"""Shared test fixtures: the device list (cpu, plus cuda when a GPU is present) and dataset paths.

With EMBER_TEST_FAKE_CUDA=1 the ``cuda`` device is backed by the strict CuPy stand-in in
tests/_fakecuda (installed here, before any test runs); ``tox -e fakecuda`` runs the tests that take
the ``device`` fixture on it (they carry the ``cuda_device`` marker)."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import ember

FAKE_CUDA = os.environ.get("EMBER_TEST_FAKE_CUDA") == "1"
if FAKE_CUDA:
    import _fakecuda

    _fakecuda.install()

SHARED_DATASETS = pathlib.Path(os.environ.get("EMBER_SHARED_DATASETS", pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets"))

DEVICES = ["cpu"] + (["cuda"] if ember.cuda.is_available() else [])


def pytest_addoption(parser):
    group = parser.getgroup("ember parity", "the differential suite against PyTorch (tests/parity)")
    group.addoption("--seed", type=int, default=0, help="seed of the differential suite's random calls (default 0)")
    group.addoption("--trials", type=int, default=None, help="random calls per op in the differential suite")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU (skipped without one)")
    config.addinivalue_line("markers", "cuda: needs a real CUDA GPU through CuPy (`pytest -m cuda`; skipped without one)")
    config.addinivalue_line("markers", "slow: end-to-end run (still part of CI)")
    config.addinivalue_line("markers", "parity: compares against an installed PyTorch (tox -e parity)")
    config.addinivalue_line("markers", "cuda_device: runs on the cuda device through the device fixture (added automatically)")


@pytest.fixture(params=DEVICES)
def device(request):
    """Each test using this runs on the CPU and, when available, on the GPU."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    yield


@pytest.fixture
def shared_datasets():
    if not SHARED_DATASETS.is_dir():
        pytest.skip("../shared/datasets is not present on this machine")
    return SHARED_DATASETS


def pytest_collection_modifyitems(config, items):
    if FAKE_CUDA or not ember.cuda.is_available():
        skip = pytest.mark.skip(reason="the fake CUDA backend is on, not a GPU" if FAKE_CUDA else "no CUDA GPU available")
        for item in items:
            if "gpu" in item.keywords or item.get_closest_marker("cuda") is not None:
                item.add_marker(skip)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.cuda_device)
