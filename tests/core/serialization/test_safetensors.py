"""ember.utils.safetensors: the safetensors format written and read without the safetensors package."""

import json
import pathlib
import struct

import ember
import numpy as np
import pytest
from ember.utils import safetensors as st

FIX = pathlib.Path(__file__).parent / "fixtures"
EXPECTED = dict(np.load(FIX / "expected.npz"))


def build(header: dict, data: bytes, pad=True) -> bytes:
    text = json.dumps(header).encode()
    if pad:
        text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def test_hand_written_fixture():
    out = st.load_file(FIX / "hand.safetensors")
    assert sorted(out) == ["half", "ids", "mask", "scalar", "weight"]
    for k, t in out.items():
        ref = EXPECTED[f"hand/{k}"]
        assert t.dtype.np == ref.dtype and tuple(t.shape) == ref.shape
        np.testing.assert_array_equal(t.numpy(), ref)


def test_roundtrip_file_every_dtype(tmp_path, rng):
    tensors = {}
    for dt in (ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float16,
               ember.float32, ember.float64, ember.complex64):
        tensors[f"t_{dt.name}"] = ember.tensor((rng.standard_normal((2, 3)) * 9).astype(dt.np), dtype=dt)
    tensors["scalar"] = ember.tensor(1.5)
    tensors["empty"] = ember.zeros(0, 3)
    path = tmp_path / "x.safetensors"
    st.save_file(tensors, path, metadata={"format": "pt"})
    out = st.load_file(path)
    assert set(out) == set(tensors)
    for k, t in tensors.items():
        assert out[k].dtype == t.dtype and out[k].shape == t.shape
        np.testing.assert_array_equal(out[k].numpy(), t.numpy())


def test_layout_follows_the_spec(tmp_path):
    tensors = {"b": ember.ones(3, dtype=ember.float16), "a": ember.arange(4, dtype=ember.int64),
               "c": ember.tensor([True, False])}
    data = st.save(tensors, metadata={"k": "v"})
    n = struct.unpack("<Q", data[:8])[0]
    assert n % 8 == 0
    header = json.loads(data[8:8 + n])
    assert header["__metadata__"] == {"k": "v"}
    assert header["a"] == {"dtype": "I64", "shape": [4], "data_offsets": [0, 32]}  # widest dtype first
    assert header["b"] == {"dtype": "F16", "shape": [3], "data_offsets": [32, 38]}
    assert header["c"] == {"dtype": "BOOL", "shape": [2], "data_offsets": [38, 40]}
    body = data[8 + n:]
    assert body[:32] == np.arange(4, dtype="<i8").tobytes()
    assert len(body) == 40
    out = st.load(data)
    np.testing.assert_array_equal(out["a"].numpy(), np.arange(4))


def test_bf16_is_loaded_as_bfloat16(tmp_path):
    vals = np.array([1.0, -2.5, 3.140625], np.float32)
    bits = (vals.view(np.uint32) >> 16).astype("<u2").tobytes()
    data = build({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}, bits)
    out = st.load(data)
    assert out["w"].dtype == ember.bfloat16
    np.testing.assert_array_equal(out["w"].float().numpy(), vals)
    saved = st.save({"w": out["w"]})
    assert saved.endswith(bits)
    back = st.load(saved)["w"]
    assert back.dtype == ember.bfloat16
    np.testing.assert_array_equal(back.float().numpy(), vals)


def test_save_refuses_bad_input():
    t = ember.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="non contiguous"):
        st.save({"t": t.t()})
    with pytest.raises(RuntimeError, match="share memory"):
        st.save({"a": t, "b": t[1]})
    with pytest.raises(ValueError, match="expected ember.Tensor"):
        st.save({"a": [1, 2]})
    with pytest.raises(ValueError, match="dict"):
        st.save([t])
    with pytest.raises(ValueError, match="metadata"):
        st.save({"a": t}, metadata={"k": 1})
    with pytest.raises(ValueError, match="__metadata__"):
        st.save({"__metadata__": t})


F32_2 = np.array([1.0, 2.0], np.float32).tobytes()


@pytest.mark.parametrize("data, match", [
    (b"\x01\x02", "too small"),
    (struct.pack("<Q", 1 << 40) + b"{}", "too large"),
    (struct.pack("<Q", 64) + b"{}", "past the end"),
    (struct.pack("<Q", 2) + b"[]", "header start"),
    (struct.pack("<Q", 5) + b"{abc}", "invalid JSON"),
    (build({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32_2[:4]), "truncated"),
    (build({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, F32_2), "needs 12 bytes"),
    (build({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, F32_2), "invalid data_offsets"),
    (build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32_2), "overlap"),
    (build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, F32_2), "incomplete"),
    (build({"a": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 8]}}, F32_2), "unknown dtype"),
    (build({"a": {"dtype": "U16", "shape": [4], "data_offsets": [0, 8]}}, F32_2), "uint16"),
    (build({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, F32_2), "invalid shape"),
    (build({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, F32_2), "invalid data_offsets"),
    (build({"__metadata__": {"k": 3}}, b""), "__metadata__"),
], ids=["tiny", "huge-header", "short-header", "not-object", "bad-json", "short-data", "size-mismatch",
        "reversed", "overlap", "trailing", "dtype", "uint16", "shape", "offsets", "metadata"])
def test_load_refuses_damaged_files(tmp_path, data, match):
    with pytest.raises(ValueError, match=match):
        st.load(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(st.SafetensorError, match=match):
        st.load_file(path)


def test_ember_load_points_to_safetensors():
    with pytest.raises(RuntimeError, match="safetensors"):
        ember.load(FIX / "hand.safetensors")


@pytest.mark.gpu
def test_load_to_cuda(tmp_path):
    path = tmp_path / "g.safetensors"
    st.save_file({"w": ember.arange(4.0, device="cuda")}, path)
    out = st.load_file(path, device="cuda")
    assert out["w"].device.type == "cuda"
    np.testing.assert_array_equal(out["w"].cpu().numpy(), np.arange(4.0, dtype=np.float32))
    assert st.load_file(path)["w"].device.type == "cpu"
