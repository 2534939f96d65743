"""The benchmark harness runs and reports (no timing is asserted: speed lives in benchmarks/)."""

import json

import pytest

pytest.importorskip("benchmarks.harness")
from benchmarks import harness  # noqa: E402


def test_run_case_and_report(tmp_path):
    calls = []

    def make(lib, device):
        x = lib.ones(8)
        return lambda: calls.append(float((x + 1).sum()))

    case = harness.Case("tiny add", "smoke", make, number=3, repeat=2)
    res = harness.run_case(case, with_torch=False)
    assert res.torch_ms is None and res.ember_ms > 0 and res.ratio is None
    assert calls and all(c == 16.0 for c in calls)
    table = harness.format_table([res])
    assert "smoke/tiny add" in table
    path = tmp_path / "r.json"
    harness.write_json([res], path)
    data = json.loads(path.read_text())
    assert data["results"][0]["name"] == "tiny add" and "numpy" in data["machine"]
