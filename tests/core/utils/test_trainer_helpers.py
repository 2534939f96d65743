"""ember.utils._data_parallel and ember.utils._onnx_deploy: what the domain trainers share."""

from __future__ import annotations

import pytest

import ember
from ember import nn
from ember.utils import _data_parallel, _onnx_deploy


def test_ranks_split_each_global_batch_into_equal_contiguous_shares():
    batches = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11]]
    shares = [list(_data_parallel.ShardedBatchSampler(batches, _data_parallel.DataParallel(r, 2, enabled=True)))
              for r in range(2)]
    # 5 does not split in two: index 10 is left out; a batch smaller than the ranks is skipped on both
    assert shares == [[[0, 1, 2], [6, 7]], [[3, 4, 5], [8, 9]]]
    assert len(_data_parallel.ShardedBatchSampler(batches, _data_parallel.DataParallel(0, 2, enabled=True))) == 3


def test_one_process_is_untouched(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    single = _data_parallel.setup(False, 10)
    assert (single.rank, single.world, single.enabled, single.is_main) == (0, 1, False, True)
    model = nn.Linear(2, 2)
    assert single.wrap(model) is model and single.shard([1, 2, 3]) == [1, 2, 3]
    assert single.sum(1, 2.5) == [1.0, 2.5]
    assert _data_parallel.requested(False) is False
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert _data_parallel.requested(False) is True


def test_only_rank_zero_logs(capsys):
    _data_parallel.DataParallel(1, 2, enabled=True).log("from rank 1")
    _data_parallel.DataParallel(0, 2, enabled=True).log("from rank 0")
    assert capsys.readouterr().out == "from rank 0\n"


class _Peeks(nn.Module):
    def forward(self, x):
        return x[: int(x.sum() > 0) + 1]


@pytest.mark.parametrize("model, match", [
    (_Peeks(), "_Peeks can't be exported to ONNX yet: its forward turns a tensor into a Python value"),
    (nn.Sequential(nn.Linear(3, 2)), None),
])
def test_export_writes_the_file_and_prints_usage_or_refuses_an_untraceable_forward(tmp_path, capsys, model, match):
    pytest.importorskip("onnx")
    path = tmp_path / "m.onnx"
    inputs = [("x", "float32 [batch, 3]")]
    if match:
        with pytest.raises(SystemExit, match=match):
            _onnx_deploy.export_onnx(model, (ember.ones(2, 3),), str(path), inputs)
        assert not path.exists()
        return
    assert _onnx_deploy.export_onnx(model, (ember.ones(2, 3),), str(path), inputs, what="scores") == str(path)
    out = capsys.readouterr().out
    assert path.exists() and f"session = ort.InferenceSession({str(path)!r}" in out
    assert "x = ...  # float32 [batch, 3]" in out and "session.run(['logits'], {'x': x})" in out
    assert "output 'logits': scores" in out and not model.training


def test_export_without_onnx_is_a_clear_exit(tmp_path, monkeypatch):
    def missing(*args, **kwargs):
        raise ImportError("ember.onnx.export needs the onnx package: pip install 'ember[onnx]'")

    monkeypatch.setattr(ember.onnx, "export", missing)
    with pytest.raises(SystemExit, match=r"error: --export-onnx: ember.onnx.export needs the onnx package"):
        _onnx_deploy.export_onnx(nn.Linear(3, 2), (ember.ones(1, 3),), str(tmp_path / "m.onnx"), [("x", "")])
