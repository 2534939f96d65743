"""ember.profiler / ember.autograd.profiler: op timings from the primitive dispatch, record_function ranges,
key_averages().table(), Chrome traces, schedules; nothing is patched while no profiler runs."""

import json

import pytest

import ember
from ember.autograd import function as F
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def _work():
    m = ember.nn.Linear(8, 4)
    x = ember.randn(16, 8)
    with record_function("model_inference"):
        y = m(x).relu().sum()
    y.backward()


def test_ops_and_ranges_are_recorded_with_nesting(tmp_path):
    original = F.Primitive.__dict__["apply"]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        _work()
    assert F.Primitive.__dict__["apply"] is original  # restored: no cost when not profiling
    avg = {e.key: e for e in prof.key_averages()}
    assert {"model_inference", "Linear", "LinearBackward0", "Sum"} <= set(avg)
    rng = avg["model_inference"]
    assert rng.count == 1 and rng.is_user_annotation
    assert rng.cpu_time_total >= avg["Linear"].cpu_time_total > 0
    assert rng.self_cpu_time_total < rng.cpu_time_total  # its ops are its children
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    lines = table.splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    by_total = sorted(avg.values(), key=lambda e: e.cpu_time_total, reverse=True)
    assert [ln.split()[0] for ln in lines[3:8]] == [e.key for e in by_total[:5]]  # the largest totals first
    assert len(lines) == 5 + 5 and lines[-1].startswith("Self CPU time total:")
    shapes = prof.key_averages(group_by_input_shape=True)
    assert any(e.key == "Linear" and e.input_shapes == [[16, 8], [4, 8], [4]] for e in shapes)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    names = {e["name"] for e in trace}
    assert "Linear" in names and all(e["ph"] == "X" and e["dur"] >= 0 for e in trace)
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        prof.key_averages().table(sort_by="bogus")


def test_record_function_decorator_and_outside_a_profile():
    @record_function("helper")
    def helper():
        return ember.ones(2) * 2

    helper()  # no profiler: nothing recorded, nothing fails
    with profile() as prof:
        helper()
    assert [e.name for e in prof.events() if e.is_user_annotation] == ["helper"]


def test_schedule_and_on_trace_ready():
    fn = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [fn(i) for i in range(6)] == [ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                                        ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE, ProfilerAction.NONE]
    ready = []
    with profile(schedule=fn, on_trace_ready=lambda p: ready.append(len(p.events()))) as prof:
        for _ in range(6):
            ember.ones(3).exp()
            prof.step()
    assert len(ready) == 1 and ready[0] == 2  # the two active steps' Exp ops


def test_autograd_profiler_interface():
    with ember.autograd.profiler.profile() as prof:
        _work()
    assert "LinearBackward0" in prof.key_averages().table()
    assert prof.total_average().count == len(prof.function_events)
    with ember.autograd.profiler.profile(enabled=False) as off:
        _work()
    assert len(off.function_events) == 0
