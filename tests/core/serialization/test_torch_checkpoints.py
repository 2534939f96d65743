"""ember.load of files written by torch.save (fixtures recorded once by fixtures/make_fixtures.py), read
without PyTorch; crafted pickles must be refused before they can run anything."""

import collections
import io
import os
import pathlib
import pickle
import warnings
import zipfile

import ember
import numpy as np
import pytest

FIX = pathlib.Path(__file__).parent / "fixtures"
EXPECTED = dict(np.load(FIX / "expected.npz"))


def load_quiet(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ember.load(path, **kw)


def flatten(obj, path=""):
    if isinstance(obj, ember.Tensor):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{path}.{i}" if path else str(i))


def check_against_expected(name, obj):
    got = dict(flatten(obj))
    want = {k.split("/", 1)[1]: v for k, v in EXPECTED.items() if k.startswith(name + "/")}
    assert sorted(got) == sorted(want)
    for k, ref in want.items():
        t = got[k]
        if t.dtype == ember.bfloat16:  # the fixture keeps bfloat16 values as (exactly equal) float32
            t = t.float()
        assert t.dtype.np == ref.dtype, k
        assert tuple(t.shape) == ref.shape, k
        np.testing.assert_array_equal(t.detach().numpy(), ref, err_msg=k)


@pytest.mark.parametrize("name", ["torch_state_dict", "torch_mixed", "torch_legacy", "torch_legacy_p4", "torch_bf16"])
def test_fixture_values_dtypes_shapes(name):
    check_against_expected(name, load_quiet(FIX / f"{name}.pt"))


def test_state_dict_structure():
    sd = ember.load(FIX / "torch_state_dict.pt")
    assert type(sd) is collections.OrderedDict
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked"]
    assert sd._metadata == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}
    assert sd["1.num_batches_tracked"].dtype == ember.int64 and sd["1.num_batches_tracked"].shape == ()
    assert all(type(v) is ember.Tensor and not v.requires_grad for v in sd.values())
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    model.load_state_dict(sd)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), EXPECTED["torch_state_dict/0.weight"])


def test_mixed_non_tensor_values():
    m = ember.load(FIX / "torch_mixed.pt")
    assert m["size"] == ember.Size([2, 3]) and type(m["size"]) is ember.Size
    assert m["dtype"] is ember.float16
    assert m["text"] == "hello" and m["bytes"] == b"\x00\x01" and m[3] == "int key"
    assert type(m["nested"]) is collections.OrderedDict and list(m["nested"]) == ["a", "b"]
    assert m["nested"]["a"]["y"] == [1, 2.5, "s", None, True]
    assert isinstance(m["nested"]["b"], tuple) and m["nested"]["b"][1] == 4
    assert type(m["param"]) is ember.nn.Parameter and m["param"].requires_grad
    assert type(m["frozen"]) is ember.nn.Parameter and not m["frozen"].requires_grad
    assert m["empty"].shape == (0, 4)


@pytest.mark.parametrize("name", ["torch_mixed", "torch_legacy", "torch_legacy_p4"])
def test_shared_storage_is_kept(name):
    m = ember.load(FIX / f"{name}.pt")
    assert m["rows"].storage_offset() == 4
    assert m["tr"].stride() == (1, 4)
    m["base"][1, 0] = 100.0
    assert m["rows"][0, 0].item() == 100.0
    assert m["tr"][0, 1].item() == 100.0
    if "col" in m:
        assert m["col"].stride() == (4,)
        m["base"][2, 2] = -5.0
        assert m["col"][2].item() == -5.0


def test_bfloat16_loads_as_bfloat16():
    m = ember.load(FIX / "torch_bf16.pt")
    assert m["w"].dtype == ember.bfloat16
    np.testing.assert_array_equal(m["w"].float().numpy(), EXPECTED["torch_bf16/w"])
    m["w"][1] = 0.0  # the view still shares the storage
    assert m["w_view"][0].item() == 0.0


def test_unsupported_dtype_is_a_clear_error():
    with pytest.raises(RuntimeError, match="uint16"):
        ember.load(FIX / "torch_uint16.pt")


def test_map_location_and_mmap_on_torch_files():
    locs = []
    m = ember.load(FIX / "torch_mixed.pt", map_location=lambda s, loc: locs.append(loc))
    assert set(locs) == {"cpu"}
    check_against_expected("torch_mixed", m)
    check_against_expected("torch_mixed", ember.load(FIX / "torch_mixed.pt", map_location={"cuda:0": "cpu"}))
    mm = ember.load(FIX / "torch_mixed.pt", mmap=True)
    check_against_expected("torch_mixed", mm)
    mm["base"][0, 0] = 42.0
    assert mm["tr"][0, 0].item() == 42.0
    assert ember.load(FIX / "torch_mixed.pt")["base"][0, 0].item() == 0.0  # file untouched
    with pytest.raises(RuntimeError, match="mmap"):
        ember.load(FIX / "torch_legacy.pt", mmap=True)


def test_file_object():
    with open(FIX / "torch_state_dict.pt", "rb") as fh:
        check_against_expected("torch_state_dict", ember.load(fh))
    check_against_expected("torch_legacy", ember.load(io.BytesIO((FIX / "torch_legacy.pt").read_bytes())))


# ---- malicious and damaged files --------------------------------------------------------------------

class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _replace_pickle(src: pathlib.Path, payload: bytes) -> bytes:
    zf = zipfile.ZipFile(src)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in zf.infolist():
            data = payload if info.filename.endswith("data.pkl") else zf.read(info.filename)
            dst.writestr(info.filename, data)
    return out.getvalue()


def _legacy_with(payload: bytes) -> bytes:
    header = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    header += pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    return header + payload


@pytest.mark.parametrize("container", ["plain", "torch_zip", "legacy"])
def test_malicious_reduce_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"x": _Evil(marker)}, protocol=2)
    data = {"plain": lambda: payload,
            "torch_zip": lambda: _replace_pickle(FIX / "torch_state_dict.pt", payload),
            "legacy": lambda: _legacy_with(payload)}[container]()
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL (posix|os|nt)\.system"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed.*trusted source.*with `weights_only=True`"):
        ember.load(path, weights_only=True)
    if container == "torch_zip":
        assert ember.serialization.get_unsafe_globals_in_checkpoint(path) == [f"{os.system.__module__}.system"]
    if container == "plain":  # not a checkpoint at all: never unpickled, whatever weights_only says
        with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
            ember.load(path, weights_only=False)
    assert not marker.exists()


@pytest.mark.parametrize("container", ["torch_zip", "legacy"])
def test_weights_only_false_unpickles_arbitrary_objects(tmp_path, container):
    """As documented (and as torch.load does): weights_only=False runs the file's reduce calls."""
    marker = tmp_path / "ran"
    payload = pickle.dumps({"x": _Evil(marker)}, protocol=2)
    data = (_replace_pickle(FIX / "torch_state_dict.pt", payload) if container == "torch_zip"
            else _legacy_with(payload + pickle.dumps([], protocol=2)))
    path = tmp_path / "trusted.pt"
    path.write_bytes(data)
    out = ember.load(path, weights_only=False)
    assert out["x"] == 0 and marker.exists()


@pytest.mark.parametrize("global_", [b"builtins\neval", b"builtins\ngetattr", b"torch\nload", b"numpy\nload",
                                     b"torch._utils\n_rebuild_device_tensor_from_numpy", b"subprocess\nPopen"])
def test_other_globals_are_refused(global_):
    payload = b"\x80\x02c" + global_ + b"\nq\x00."
    name = global_.replace(b"\n", b".").decode().removeprefix("builtins.")
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {name} was not an allowed global"):
        ember.load(io.BytesIO(_replace_pickle(FIX / "torch_state_dict.pt", payload)))


def test_out_of_bounds_tensor_in_pickle_is_refused():
    zf = zipfile.ZipFile(FIX / "torch_mixed.pt")
    good = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    bad = good.replace(b"K\x03K\x04\x86", b"M\x00\x04K\x04\x86", 1)  # a (3, 4) size becomes (1024, 4)
    assert bad != good
    with pytest.raises(RuntimeError, match="corrupted"):
        ember.load(io.BytesIO(_replace_pickle(FIX / "torch_mixed.pt", bad)))


@pytest.mark.parametrize("name", ["torch_state_dict", "torch_legacy"])
def test_truncated_torch_files(name):
    data = (FIX / f"{name}.pt").read_bytes()
    for cut in (20, 200, len(data) // 2, len(data) - 10):
        with pytest.raises(RuntimeError, match="truncated|corrupted|not an ember"):
            ember.load(io.BytesIO(data[:cut]))


@pytest.mark.parametrize("name", ["torch_mixed", "torch_legacy"])
def test_random_damage_never_escapes_as_another_error(name):
    data = (FIX / f"{name}.pt").read_bytes()
    rng = np.random.default_rng(1)
    for _ in range(100):
        d = bytearray(data)
        for pos in rng.integers(0, len(d), rng.integers(1, 4)):
            d[pos] = rng.integers(0, 256)
        if rng.random() < 0.2:
            d = d[:rng.integers(0, len(d))]
        try:
            load_quiet(io.BytesIO(bytes(d)))
        except (RuntimeError, pickle.UnpicklingError):  # clear errors; a damaged global name is refused
            pass


def test_storage_record_of_wrong_size():
    zf = zipfile.ZipFile(FIX / "torch_state_dict.pt")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in zf.infolist():
            data = zf.read(info.filename)
            dst.writestr(info.filename, data[:-4] if info.filename.endswith("data/0") else data)
    with pytest.raises(RuntimeError, match="expected"):
        ember.load(io.BytesIO(out.getvalue()))


def test_plain_pickle_of_data_is_not_a_checkpoint():
    with pytest.raises(RuntimeError, match="not an ember or PyTorch checkpoint"):
        ember.load(io.BytesIO(pickle.dumps({"a": 1}, protocol=2)))


# ---- parity with an installed PyTorch ---------------------------------------------------------------

@pytest.mark.parity
def test_parity_random_checkpoints(tmp_path):
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(5, 6, generator=gen)
    obj = {"w": base, "v": base[2:, 1:4], "t": base.t(), "i": torch.randint(-9, 9, (4,), generator=gen),
           "h": torch.randn(3, generator=gen).half(), "sd": torch.nn.Linear(4, 2).state_dict()}
    for zipped in (True, False):
        path = tmp_path / f"p{zipped}.pt"
        torch.save(obj, path, _use_new_zipfile_serialization=zipped)
        got = ember.load(path)
        ref = torch.load(path)
        for (k, a), (k2, b) in zip(flatten(got), ((k, v) for k, v in _torch_flatten(ref))):
            assert k == k2
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert list(a.stride()) == list(b.stride()) and a.storage_offset() == b.storage_offset()


def _torch_flatten(obj, path=""):
    if hasattr(obj, "numpy") and hasattr(obj, "stride"):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _torch_flatten(v, f"{path}.{k}" if path else str(k))
