"""Shared test fixtures: the device list (cpu, plus cuda when a GPU is present) and dataset paths.

With EMBER_TEST_FAKE_CUDA=1 the ``cuda`` device is backed by the strict CuPy stand-in in
tests/_fakecuda (installed here, before any test runs); ``tox -e fakecuda`` runs the tests that take
the ``device`` fixture on it, and the ``gpu`` tests (all these carry the ``cuda_device`` marker)."""

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
    config.addinivalue_line("markers", "cuda_device: runs on the cuda device (the device fixture's cuda, or a gpu test on the fake; added automatically)")


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


@pytest.fixture
def launch_ranks():
    """``launch_ranks(module, argv, nproc=2)``: run ``python -m module argv`` under ``ember.distributed.run`` (one
    thread per rank) and return the finished process; skips when MPI or mpiexec is missing."""
    import subprocess
    import sys

    import ember.distributed as dist
    from ember.distributed.run import find_mpiexec

    if not dist.is_mpi_available():
        pytest.skip("mpi4py / MPI is not installed (ember[mpi])")
    try:
        find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), OMP_NUM_THREADS="1")

    def launch(module, argv, nproc=2, timeout=300):
        return subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(nproc), "-m",
                               module, *argv], capture_output=True, text=True, timeout=timeout, env=env)

    return launch


def pytest_collection_modifyitems(config, items):
    if not ember.cuda.is_available():
        skip = pytest.mark.skip(reason="no CUDA GPU available")
        for item in items:
            if "gpu" in item.keywords or item.get_closest_marker("cuda") is not None:
                item.add_marker(skip)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (callspec is not None and callspec.params.get("device") == "cuda") or (FAKE_CUDA and "gpu" in item.keywords):
            item.add_marker(pytest.mark.cuda_device)
