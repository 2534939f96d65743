"""Every package ships the licence and complete metadata (``pip show`` fills every line from it)."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))


def test_the_repository_has_the_bsd_licence():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "the Ember authors" in text


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_package_carries_the_licence_and_metadata(package):
    # hatchling builds from the package folder: the licence must be there, identical to the top-level one
    assert (package / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    pyproject = (package / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
    assert 'authors = [{ name = "the Ember authors" }]' in pyproject
    urls = dict(re.findall(r'^(\w+) = "(https://[^"]+)"$', pyproject.split("[project.urls]", 1)[1], re.M))
    assert set(urls) >= {"Homepage", "Documentation", "Source", "Issues"}
    assert all(u.startswith("https://github.com/ember-ml/ember") for u in urls.values())
