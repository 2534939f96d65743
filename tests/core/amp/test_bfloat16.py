"""bfloat16 tensors (ml_dtypes' NumPy dtype): dtype rules, conversions, arithmetic and checkpoints,
checked against values recorded from torch (fixtures/record_amp.py)."""

import io
import pathlib

import ml_dtypes
import numpy as np
import pytest

import ember
import ember.nn.functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "amp_ref.npz")
BF16_ULP = 2.0**-7  # relative spacing of bfloat16 values at worst (8 significant bits)


def bf(a, requires_grad=False):
    return ember.tensor(a).bfloat16().requires_grad_(requires_grad)


def close(t, want, ulps=1.0, cancellation=False):
    """Within ``ulps`` bfloat16 ulps; where the reference formula cancels (a gradient g - p * sum(g)), the
    ulps are counted at the size of the largest value, since torch rounds its intermediates differently."""
    assert t.dtype == ember.bfloat16
    got = t.detach().float().numpy()
    scale = float(np.abs(want).max()) if cancellation else 1e-2
    np.testing.assert_allclose(got, want, rtol=ulps * BF16_ULP, atol=ulps * BF16_ULP * scale)


def test_dtype_object_names_and_finfo():
    assert ember.bfloat16.is_floating_point and ember.bfloat16.is_signed and ember.bfloat16.itemsize == 2
    assert repr(ember.bfloat16) == "ember.bfloat16" and ember.bfloat16.np == np.dtype(ml_dtypes.bfloat16)
    fi = ember.finfo(ember.bfloat16)
    assert (fi.bits, fi.eps, fi.max, fi.tiny) == (16, 2.0**-7, float(ml_dtypes.finfo(ml_dtypes.bfloat16).max), 2.0**-126)
    assert ember.tensor([1.0]).bfloat16().type() == "torch.BFloat16Tensor"


@pytest.mark.parametrize("other, want", [
    ("float16", "float32"), ("float32", "float32"), ("float64", "float64"), ("int64", "bfloat16"),
    ("bool", "bfloat16"), ("uint8", "bfloat16"), ("complex64", "complex64"),
])
def test_promotion(other, want):
    o = getattr(ember, other if other != "bool" else "bool")
    assert ember.promote_types(ember.bfloat16, o) == getattr(ember, want)
    assert ember.promote_types(o, ember.bfloat16) == getattr(ember, want)
    x = ember.ones(3, dtype=ember.bfloat16)
    assert (x + ember.ones(3, dtype=o)).dtype == getattr(ember, want)


def test_scalars_and_zero_dim_keep_bfloat16():
    x = ember.ones(3, dtype=ember.bfloat16)
    assert (x * 2.5).dtype == (x + 1).dtype == (x * ember.tensor(2.0)).dtype == ember.bfloat16


def test_creation_and_conversions():
    z = ember.zeros(2, 3, dtype=ember.bfloat16)
    assert z.dtype == ember.bfloat16 and z.is_floating_point() and not z.any()
    assert ember.full((2,), 1.5, dtype=ember.bfloat16).tolist() == [1.5, 1.5]
    assert ember.randn(4, dtype=ember.bfloat16).dtype == ember.bfloat16
    x = ember.arange(4.0)
    assert x.bfloat16().dtype == x.to(ember.bfloat16).dtype == x.type(ember.bfloat16).dtype == ember.bfloat16
    assert x.half().dtype == ember.float16 and x.bfloat16().half().dtype == ember.float16
    assert x.bfloat16().numpy().dtype == np.dtype(ml_dtypes.bfloat16)
    assert ember.from_numpy(np.ones(2, ml_dtypes.bfloat16)).dtype == ember.bfloat16
    m = ember.nn.Linear(3, 2).bfloat16()
    assert m.weight.dtype == m.bias.dtype == ember.bfloat16


def test_conversion_rounding_matches_torch():
    x = ember.tensor(REF["round/in"])
    np.testing.assert_array_equal(x.bfloat16().float().numpy(), REF["round/bf16"])
    np.testing.assert_array_equal(x[:16].half().bfloat16().float().numpy(), REF["round/f16_to_bf16"])
    np.testing.assert_array_equal(x[:16].bfloat16().half().float().numpy(), REF["round/bf16_to_f16"])


def test_printing():
    x = ember.tensor([1.0, -2.5, 3.140625]).bfloat16()
    assert repr(x) == "tensor([ 1.0000, -2.5000,  3.1406], dtype=ember.bfloat16)"
    assert x[2].item() == 3.140625


UNARY = {
    "exp": ember.exp, "log": lambda x: ember.log(x.abs() + 0.5), "tanh": ember.tanh, "sigmoid": ember.sigmoid,
    "gelu": F.gelu, "sum": lambda x: x.sum(0), "mean": lambda x: x.mean(1), "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(-1), "square_add": lambda x: x * x + x, "div": lambda x: x / 3.0,
    "sqrt": lambda x: (x.abs() + 1).sqrt(), "cumsum": lambda x: x.cumsum(1), "max": lambda x: x.amax(1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_op_values_and_gradients_match_torch(name):
    x = bf(REF["bf16/x"], requires_grad=True)
    y = UNARY[name](x)
    close(y, REF[f"bf16/{name}/out"], ulps=2)
    go = REF["bf16/go"].reshape(-1)[: y.numel()].reshape(tuple(y.shape))
    (y.float() * ember.tensor(go)).sum().backward()
    assert x.grad.dtype == ember.bfloat16
    close(x.grad, REF[f"bf16/{name}/grad"], ulps=2, cancellation=True)


def test_matmul_linear_conv_cross_entropy_layer_norm_match_torch():
    a, b = bf(REF["mm/a"]), bf(REF["mm/b"])
    close(a @ b, REF["mm/matmul"], ulps=2)
    close(F.linear(a, bf(REF["mm/w"]), bf(REF["mm/bias"])), REF["mm/linear"], ulps=2)
    close(F.conv2d(bf(REF["conv/x"]), bf(REF["conv/w"]), padding=1), REF["conv/out"], ulps=2)
    close(F.cross_entropy(bf(REF["ce/logits"]), ember.tensor(REF["ce/target"])), REF["ce/out"], ulps=1)
    close(F.layer_norm(bf(REF["bf16/x"]), (64,), bf(REF["ln/w"]), bf(REF["ln/b"])), REF["ln/out"], ulps=2)


def test_sum_accumulates_in_float32():
    # 4096 ones summed in bfloat16 would stop at 256; PyTorch (and ember) accumulate in float32
    assert ember.ones(4096, dtype=ember.bfloat16).sum().item() == 4096.0


def test_views_stay_views_and_inplace_ops_write_through():
    x = ember.zeros(2, 3, dtype=ember.bfloat16)
    v = x.view(6)
    v[1] = 2.0
    x.t()[0, 1] = 3.0
    x[1].add_(1.5)
    x.mul_(2)
    assert x.dtype == ember.bfloat16
    assert x.tolist() == [[0.0, 4.0, 0.0], [9.0, 3.0, 3.0]]


def test_module_training_step_keeps_bfloat16_parameters():
    m = ember.nn.Linear(4, 2).bfloat16()
    opt = ember.optim.Adam(m.parameters(), lr=0.1)
    before = m.weight.detach().clone()
    m(ember.randn(3, 4, dtype=ember.bfloat16)).square().mean().backward()
    assert m.weight.grad.dtype == ember.bfloat16
    opt.step()
    assert m.weight.dtype == ember.bfloat16 and not ember.equal(m.weight.detach(), before)


def test_save_load_round_trip():
    x = ember.randn(3, 4).bfloat16()
    buf = io.BytesIO()
    ember.save({"x": x, "row": x[1]}, buf)
    buf.seek(0)
    d = ember.load(buf)
    assert d["x"].dtype == d["row"].dtype == ember.bfloat16
    assert ember.equal(d["x"], x)
    d["x"][1, 0] = 7.0  # the view shares storage after loading, as in PyTorch
    assert d["row"][0].item() == 7.0


def test_float64_gradcheck_through_a_bfloat16_round_trip_is_exact_on_representable_values():
    # values representable in bfloat16 survive float64 -> bfloat16 -> float64 unchanged
    x = ember.tensor([0.5, -1.25, 3.0], dtype=ember.float64, requires_grad=True)
    y = x.bfloat16().double()
    assert ember.equal(y, x)
    y.sum().backward()
    assert x.grad.dtype == ember.float64 and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_moving_bfloat16_to_cuda_is_a_clear_error():
    # checked before any CuPy call, so it holds with or without a GPU
    from ember.ops.conversion import ToCopy

    with pytest.raises(TypeError, match="bfloat16 tensors are CPU-only: CuPy has no bfloat16"):
        ToCopy.apply(ember.ones(2, dtype=ember.bfloat16), ember.device("cuda"), None)
    with pytest.raises(TypeError, match="bfloat16 tensors are CPU-only"):
        ToCopy.apply(ember.ones(2), ember.device("cuda"), ember.bfloat16.np)


def test_norms_with_float32_weights_keep_a_bfloat16_input_dtype():
    # as PyTorch's CPU kernels (checked with torch 2.13): the input's dtype wins over float32 parameters
    x = ember.randn(4, 6)
    w, b = ember.rand(6) + 0.5, ember.randn(6)
    for f in (lambda v: F.layer_norm(v, (6,), w, b),
              lambda v: F.batch_norm(v, ember.zeros(6), ember.ones(6), w, b, training=True),
              lambda v: F.group_norm(v, 3, w, b)):
        got = f(x.bfloat16())
        assert got.dtype == ember.bfloat16
        np.testing.assert_allclose(got.float().numpy(), f(x.bfloat16().float()).numpy(), rtol=2 * BF16_ULP, atol=0.02)
    assert (x.bfloat16() + ember.ones(6)).dtype == ember.float32  # while elementwise ops promote


def test_mixed_operand_ops_keep_bfloat16_and_assert_close_uses_bfloat16_tolerances():
    x = ember.tensor([1.0, 2.0]).bfloat16()
    assert ember.where(x > 1, x, 0.0).dtype == ember.bfloat16
    assert ember.where(x > 1, x, ember.zeros(2)).dtype == ember.float32
    assert x.gather(0, ember.tensor([1, 0])).dtype == ember.bfloat16
    ember.testing.assert_close(x, ember.tensor([1.005, 2.0]).bfloat16())  # rtol 1.6e-2, as PyTorch
    with pytest.raises(AssertionError, match="not close"):
        ember.testing.assert_close(x, ember.tensor([1.1, 2.0]).bfloat16())
