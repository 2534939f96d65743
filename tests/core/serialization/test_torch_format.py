"""ember.save writes PyTorch's zip format: torch.load reads it (recorded once in
fixtures/ember_written_torch.npz by fixtures/record_ember_written.py), whole modules and other objects
round-trip with weights_only=False, and weights_only=True refuses anything off its allowlist."""

import io
import json
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import ember
from ember import nn

from ._ember_objects import build

FIX = pathlib.Path(__file__).parent / "fixtures"
TORCH_SAW = np.load(FIX / "ember_written_torch.npz")
OTHERS = json.loads(str(TORCH_SAW["others"]))


def _save(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return buf


def _walk(obj, key=""):
    if isinstance(obj, ember.Tensor):
        yield key, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{key}/{k}")
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, ember.Tensor) for v in obj):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{key}/{i}")


def test_ember_still_writes_the_pickle_torch_read():
    """The recorded file was read by torch.load(weights_only=True); today's ember writes the same pickle."""
    recorded = zipfile.ZipFile(FIX / "ember_written.pt")
    now = zipfile.ZipFile(_save(build(ember)))
    assert now.read("archive/data.pkl") == recorded.read("ember_written/data.pkl")
    for name in now.namelist():
        if "/data/" in name:
            assert now.read(name) == recorded.read(name.replace("archive/", "ember_written/")), name


def test_what_torch_saw_matches_what_ember_saved_and_loads():
    saved = build(ember)
    loaded = ember.load(FIX / "ember_written.pt")
    tensors = dict(_walk(saved))
    assert sorted(tensors) == sorted(k for k in TORCH_SAW.files if k != "others")
    for key, t in tensors.items():
        info = OTHERS[key]
        np.testing.assert_array_equal(TORCH_SAW[key], t.detach().numpy(), err_msg=key)
        assert info["dtype"] == str(t.dtype).replace("ember.", "torch."), key
        if t.numel():  # (ember gives an empty tensor zero strides)
            assert info["stride"] == list(t.stride()), key
        assert info["requires_grad"] == t.requires_grad and info["type"] == type(t).__name__, key
        back = dict(_walk(loaded))[key]
        np.testing.assert_array_equal(back.detach().numpy(), t.detach().numpy())
        assert type(back) is type(t) and back.dtype == t.dtype and back.shape == t.shape
    assert OTHERS["/view"]["offset"] == 8
    assert OTHERS["/model#type"] == "OrderedDict"
    assert OTHERS["/meta/size"] == "torch.Size([2, 3])" and OTHERS["/meta/dtype"] == "torch.float64"
    assert OTHERS["/optimizer/param_groups"].startswith("[{'lr': 0.005, 'betas': (0.9, 0.999)")
    assert loaded["meta"] == saved["meta"]
    assert loaded["scheduler"] == saved["scheduler"]
    loaded["view"][0, 0] = 100.0  # views still share their storage
    assert loaded["base"][1, 2].item() == 100.0


def test_optimizer_and_scheduler_resume_from_a_checkpoint():
    model = nn.Linear(3, 2)
    opt = ember.optim.Adadelta(model.parameters())
    sched = ember.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    x = ember.randn(4, 3)

    def step(m, o, s):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
        s.step()

    step(model, opt, sched)
    ck = ember.load(_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}))
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(ck["model"])
    opt2 = ember.optim.Adadelta(model2.parameters())
    opt2.load_state_dict(ck["opt"])
    sched2 = ember.optim.lr_scheduler.StepLR(opt2, 1, gamma=0.5)
    sched2.load_state_dict(ck["sched"])
    step(model, opt, sched)
    step(model2, opt2, sched2)
    np.testing.assert_array_equal(model.weight.detach().numpy(), model2.weight.detach().numpy())
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == 0.25


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.rnn = nn.LSTM(4, 5, batch_first=True)
        self.register_buffer("scale", ember.tensor(2.0))

    def forward(self, x):
        return self.rnn(self.fc(x))[0] * self.scale


def test_whole_module_round_trip_needs_weights_only_false(tmp_path):
    net = _Net()
    path = tmp_path / "net.pt"
    ember.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL .*_Net was not an allowed global"):
        ember.load(path)
    unsafe = ember.serialization.get_unsafe_globals_in_checkpoint(path)
    assert f"{__name__}._Net" in unsafe and "ember.nn.modules.rnn.LSTM" in unsafe
    back = ember.load(path, weights_only=False)
    assert type(back) is _Net and list(back.state_dict()) == list(net.state_dict())
    x = ember.randn(2, 3, 3)
    ember.testing.assert_close(back(x), net(x))
    assert isinstance(back.fc.weight, nn.Parameter) and back.fc.weight.requires_grad
    # shared parameters stay shared
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    back = ember.load(_save(tied), weights_only=False)
    assert back[1].weight is back[0].weight


class _Config:
    def __init__(self, depth):
        self.depth = depth


def test_safe_globals_allowlist():
    buf = _save({"cfg": _Config(3), "w": ember.ones(2)})
    with pytest.raises(pickle.UnpicklingError, match=r"add_safe_globals\(\[.*_Config\]\)"):
        ember.load(buf)
    buf.seek(0)
    with ember.serialization.safe_globals([_Config]):
        assert ember.serialization.get_safe_globals() == [_Config]
        assert ember.serialization.get_unsafe_globals_in_checkpoint(buf) == []
        buf.seek(0)
        assert ember.load(buf)["cfg"].depth == 3
    assert ember.serialization.get_safe_globals() == []
    ember.serialization.add_safe_globals([(_Config, f"{__name__}._Config")])
    try:
        buf.seek(0)
        assert ember.load(buf)["cfg"].depth == 3
    finally:
        ember.serialization.clear_safe_globals()
    with pytest.raises(ValueError, match="Expected tuple of length 2"):
        with ember.serialization.safe_globals([(_Config,)]):
            buf.seek(0)
            ember.load(buf)
    with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by torch.save"):
        ember.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b"not a zip"))


def test_numpy_arrays_and_torch_load_defaults():
    arrays = {"x": np.linspace(0, 1, 5), "y": np.arange(6, dtype=np.int32).reshape(2, 3)}
    out = ember.load(_save(arrays), weights_only=False)
    for k, v in arrays.items():
        np.testing.assert_array_equal(out[k], v)
        assert out[k].dtype == v.dtype


def test_meta_and_legacy_options_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="zip format"):
        ember.save([1], io.BytesIO(), _use_new_zipfile_serialization=False)


@pytest.mark.parity
def test_parity_torch_load_reads_ember_files(tmp_path):
    torch = pytest.importorskip("torch")
    obj = build(ember)
    path = tmp_path / "e.pt"
    ember.save(obj, path)
    got = torch.load(path)
    for key, t in _walk(obj):
        ref = got
        for part in key.strip("/").split("/"):
            ref = ref[int(part)] if isinstance(ref, (list, tuple)) else ref[part if part in ref else int(part)]
        np.testing.assert_array_equal(ref.detach().numpy(), t.detach().numpy())
        assert list(ref.stride()) == list(t.stride()) or not t.numel()
    ember.save({"a": np.arange(3.0)}, path)
    np.testing.assert_array_equal(torch.load(path, weights_only=False)["a"], np.arange(3.0))
