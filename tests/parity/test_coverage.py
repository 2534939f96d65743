"""The differential table covers every public op ember has: each public callable of ``ember``,
``ember.nn.functional``, ``ember.linalg``, ``ember.fft``, ``ember.special`` and each Tensor method is called by
the table or listed in exclusions.py with its reason. Runs without PyTorch (the default suite keeps it)."""

import ember
from tablecover import public_callables, table_names, uncovered  # tests/parity is on sys.path (conftest.py)
from exclusions import EXCLUDED
from table import OPS


def test_every_public_callable_is_in_the_table_or_excluded_with_a_reason():
    missing = uncovered(ember, OPS, EXCLUDED)
    assert not missing, f"{len(missing)} public callables neither in the table nor excluded: {' '.join(missing)}"


def test_exclusions_name_existing_callables_not_in_the_table():
    public = public_callables(ember)
    names = table_names(OPS)
    stale = [n for n in EXCLUDED if n not in public]
    tabled = [n for n in EXCLUDED if n in names]
    assert not stale, f"excluded names ember does not have: {stale}"
    assert not tabled, f"excluded names the table calls: {tabled}"
    assert all(r.strip() for r in EXCLUDED.values())


def test_table_names_are_unique():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names))
