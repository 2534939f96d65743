"""The benchmark harness runs and reports (no timing is asserted: speed lives in benchmarks/)."""

import json
import os

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


# ---- load checks and the refusal to write figures on a busy machine (load mocked; nothing timed) ----

def _tiny_case():
    def make(lib, device):
        x = lib.ones(4)
        return lambda: x + 1

    return harness.Case("tiny", "smoke", make, number=1, repeat=1)


@pytest.fixture
def bench_main(monkeypatch):
    """``benchmarks.__main__.main`` over one tiny case, with the load average and other processes'
    runnable threads set by ``set_load(load1, others)``."""
    from benchmarks import __main__ as bm

    monkeypatch.setattr(bm, "collect", lambda selected=None: [("bench_fake", [_tiny_case()])])

    def set_load(load1, others):
        monkeypatch.setattr(harness, "load_average", lambda: (load1, load1, load1))
        monkeypatch.setattr(harness, "others_running", lambda *a, **k: others)

    return bm, set_load


@pytest.mark.parametrize("load1, others, first, busy", [
    (0.2, 0.0, True, False),
    (0.6, 0.0, True, True),  # before anything ran: the load average is judged
    (1.8, 0.1, False, False),  # later it counts the benchmark itself: only other processes are
    (0.2, 0.9, False, True),
    (0.2, None, True, False),  # no /proc: the load average alone
])
def test_check_load(monkeypatch, load1, others, first, busy):
    monkeypatch.setattr(harness, "load_average", lambda: (load1, 0.0, 0.0))
    monkeypatch.setattr(harness, "others_running", lambda *a, **k: others)
    check = harness.check_load(first=first)
    assert check.busy is busy and check.load[0] == load1
    assert ("BUSY" in check.describe()) is busy and f"{load1:.2f}" in check.describe()


def test_refuse_figures():
    idle, busy = harness.LoadCheck((0.1,) * 3, 0.0, False), harness.LoadCheck((2.0,) * 3, 2.0, True)
    assert not harness.refuse_figures([idle, idle], allow_busy=False)
    assert harness.refuse_figures([idle, busy], allow_busy=False)
    assert not harness.refuse_figures([idle, busy], allow_busy=True)


def test_busy_machine_refused_without_allow_busy(bench_main, tmp_path, capsys):
    bm, set_load = bench_main
    set_load(3.0, 2.5)
    path = tmp_path / "r.json"
    assert bm.main(["--no-torch", "--json", str(path)]) == 2
    assert not path.exists()
    out, err = capsys.readouterr()
    assert "load average 3.00" in out and "refused" in err and "--allow-busy" in err


def test_busy_machine_with_allow_busy_marks_figures(bench_main, tmp_path, capsys):
    bm, set_load = bench_main
    set_load(3.0, 2.5)
    path = tmp_path / "r.json"
    assert bm.main(["--no-torch", "--allow-busy", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert [r["busy"] for r in data["results"]] == [True]
    assert data["load"][0]["suite"] == "bench_fake" and data["load"][0]["before"]["load"][0] == 3.0
    out = capsys.readouterr().out
    assert "before bench_fake" in out and "after bench_fake" in out and "busy" in out


def test_idle_machine_writes_figures(bench_main, tmp_path):
    bm, set_load = bench_main
    set_load(0.1, 0.0)
    path = tmp_path / "r.json"
    assert bm.main(["--no-torch", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert [r["busy"] for r in data["results"]] == [False] and "busy_comparison" not in data
    # the BLAS kernel is part of every figure: what NumPy's OpenBLAS runs, and the variable that may force it
    assert data["machine"]["blas_kernel"] == harness.blas_kernel()
    assert data["machine"]["openblas_coretype_env"] == os.environ.get("OPENBLAS_CORETYPE")


def test_blas_kernel_names_numpys_openblas_kernel():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    found = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"
             and "numpy" in i.get("filepath", "")]
    if not found:
        pytest.skip("NumPy is not linked against OpenBLAS here")
    assert harness.blas_kernel().lower() == found[0]["architecture"].lower()


def test_machine_turning_busy_during_the_run_is_refused(bench_main, tmp_path, monkeypatch):
    bm, set_load = bench_main
    set_load(0.1, 0.0)
    real = harness.check_load
    monkeypatch.setattr(harness, "check_load", lambda first=False: real(first) if first else
                        harness.LoadCheck((0.1,) * 3, 1.5, True))
    path = tmp_path / "r.json"
    assert bm.main(["--no-torch", "--json", str(path)]) == 2 and not path.exists()


def test_busy_option_pairs_each_case(bench_main, tmp_path, monkeypatch, capsys):
    bm, set_load = bench_main
    set_load(0.1, 0.0)
    started = []

    import contextlib

    @contextlib.contextmanager
    def fake_busy(n=1):
        started.append(n)
        yield []

    monkeypatch.setattr(harness, "busy_cpu", fake_busy)
    path = tmp_path / "r.json"
    assert bm.main(["--no-torch", "--busy", "--busy-procs", "2", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert started == [2] and data["busy_comparison"][0]["name"] == "tiny"
    assert "competing" in data["busy_comparison"][0]["busy"]["note"]
    assert "slowdown" in capsys.readouterr().out


def test_busy_cpu_starts_and_stops_a_process():
    with harness.busy_cpu(1) as procs:
        assert len(procs) == 1 and procs[0].poll() is None
    assert procs[0].poll() is not None


def test_word_language_model_row_is_causal_and_normalised():
    import ember
    from benchmarks import bench_models, models

    ember.manual_seed(0)
    model = models.word_language_model(ember, ntoken=50).eval()
    src = ember.randint(0, 50, (7, 3))
    out = model(src)
    assert out.shape == (7, 3, 50)
    assert ember.allclose(out.exp().sum(-1), ember.ones(7, 3), atol=1e-5)
    changed = src.clone()
    changed[5:] = (changed[5:] + 1) % 50  # later tokens must not change earlier outputs
    out2 = model(changed)
    assert ember.allclose(out[:5], out2[:5], atol=1e-5) and not ember.allclose(out[5:], out2[5:])
    names = {n for n, _ in model.named_parameters()}
    assert {"input_emb.weight", "decoder.weight", "encoder.layers.1.linear2.weight", "encoder.norm.weight"} <= names
    assert [c.name for c in bench_models.CASES if "WLM" in c.name][0].endswith("step")
