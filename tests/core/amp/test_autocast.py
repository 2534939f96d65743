"""ember.autocast: output dtypes of each op family equal torch.autocast("cpu")'s (recorded in
fixtures/amp_ref.npz), nesting, disabled regions, state queries, gradients in the parameters' dtype."""

import json
import pathlib

import numpy as np
import pytest

import ember
import ember.nn.functional as F

TABLE = json.loads(str(np.load(pathlib.Path(__file__).parent / "fixtures" / "amp_ref.npz")["autocast/table"]))
rng = np.random.default_rng(0)


def t(*shape):
    return ember.tensor(rng.standard_normal(shape).astype(np.float32))


LBL = ember.tensor([0, 1, 2, 1])
OPS = {
    "matmul": lambda: t(4, 5) @ t(5, 3), "mm": lambda: ember.mm(t(4, 5), t(5, 3)),
    "bmm": lambda: ember.bmm(t(2, 4, 5), t(2, 5, 3)), "addmm": lambda: ember.addmm(t(4, 3), t(4, 5), t(5, 3)),
    "baddbmm": lambda: ember.baddbmm(t(2, 4, 3), t(2, 4, 5), t(2, 5, 3)),
    "linear": lambda: F.linear(t(4, 5), t(3, 5), t(3)), "conv1d": lambda: F.conv1d(t(1, 2, 8), t(3, 2, 3)),
    "conv2d": lambda: F.conv2d(t(1, 2, 6, 6), t(3, 2, 3, 3), t(3)),
    "conv_transpose2d": lambda: F.conv_transpose2d(t(1, 2, 4, 4), t(2, 3, 3, 3)),
    "softmax": lambda: F.softmax(t(4, 3), -1), "log_softmax": lambda: F.log_softmax(t(4, 3), -1),
    "relu": lambda: F.relu(t(4, 3)), "exp": lambda: ember.exp(t(4, 3)), "sum": lambda: t(4, 3).sum(),
    "prod": lambda: t(4, 3).prod(), "cumsum": lambda: t(4, 3).cumsum(0),
    "layer_norm": lambda: F.layer_norm(t(4, 3), (3,)), "mse_loss": lambda: F.mse_loss(t(4, 3), t(4, 3)),
    "cross_entropy": lambda: F.cross_entropy(t(4, 3), LBL), "nll_loss": lambda: F.nll_loss(t(4, 3), LBL),
    "l1_loss": lambda: F.l1_loss(t(4, 3), t(4, 3)),
    "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(t(4, 3), t(4, 3).sigmoid()),
    "linear_then_softmax": lambda: F.linear(t(4, 5), t(3, 5)).softmax(-1),
    "linear_then_add_f32": lambda: F.linear(t(4, 5), t(3, 5)) + t(4, 3),
    "cat_mixed": lambda: ember.cat([F.linear(t(4, 5), t(3, 5)), t(4, 3)]),
    "stack_mixed": lambda: ember.stack([F.linear(t(4, 5), t(3, 5)), t(4, 3)]),
    "mse_on_linear": lambda: F.mse_loss(F.linear(t(4, 5), t(3, 5)), t(4, 3)),
    "matmul_f64": lambda: t(4, 5).double() @ t(5, 3).double(),
    "layer_norm_on_linear": lambda: F.layer_norm(F.linear(t(4, 5), t(3, 5)), (3,), t(3), t(3)),
    "batch_norm_on_linear": lambda: F.batch_norm(F.linear(t(4, 5), t(3, 5)), t(3), t(3).abs(), t(3), t(3), True),
    "group_norm_on_conv": lambda: F.group_norm(F.conv1d(t(1, 2, 8), t(4, 2, 3)), 2, t(4), t(4)),
    "gelu_on_linear": lambda: F.gelu(F.linear(t(4, 5), t(3, 5))),
    "dropout_on_linear": lambda: F.dropout(F.linear(t(4, 5), t(3, 5)), 0.5),
    "sdpa": lambda: F.scaled_dot_product_attention(t(1, 4, 3), t(1, 4, 3), t(1, 4, 3)),
    "embedding": lambda: F.embedding(ember.tensor([1, 3]), t(5, 3)),
}


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_output_dtype_matches_torch_autocast_cpu(low, name):
    with ember.autocast("cpu", dtype=getattr(ember, low)):
        assert OPS[name]().dtype.name == TABLE[low][name]
    assert OPS[name]().dtype.name == ("float64" if name == "matmul_f64" else "float32")  # off again outside


def test_inputs_already_low_go_up_for_fp32_ops():
    x = t(4, 3).bfloat16()
    with ember.autocast("cpu"):
        assert F.cross_entropy(x, LBL).dtype == ember.float32
        assert ember.cat([x, x]).dtype == ember.bfloat16  # promote: all bfloat16 stays bfloat16


def test_default_dtypes_state_queries_and_nesting():
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16 and ember.get_autocast_dtype("cuda") == ember.float16
    assert not ember.is_autocast_enabled("cpu")
    x, w = t(2, 3), t(4, 3)
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and ember.is_autocast_cpu_enabled()
        assert not ember.is_autocast_enabled()  # no argument: CUDA's state, as in PyTorch
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert F.linear(x, w).dtype == ember.float32
        with ember.autocast("cpu", dtype=ember.float16):
            assert ember.get_autocast_dtype("cpu") == ember.float16
            assert F.linear(x, w).dtype == ember.float16
        assert ember.get_autocast_dtype("cpu") == ember.bfloat16
        assert F.linear(x, w).dtype == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu") and F.linear(x, w).dtype == ember.float32


def test_decorator_and_amp_aliases():
    @ember.autocast("cpu")
    def f(x, w):
        return F.linear(x, w)

    assert f(t(2, 3), t(4, 3)).dtype == ember.bfloat16
    with ember.amp.autocast("cpu"):
        assert (t(2, 3) @ t(3, 2)).dtype == ember.bfloat16
    with pytest.warns(FutureWarning, match=r"torch.amp.autocast\('cpu'"):
        ctx = ember.cpu.amp.autocast()
    with ctx:
        assert ember.is_autocast_enabled("cpu")
    with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"), pytest.warns(UserWarning, match="CUDA is not available"):
        ember.cuda.amp.autocast()


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        ember.autocast("tpu")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        a = ember.autocast("cpu", dtype=ember.float64)
    with a:
        assert not ember.is_autocast_enabled("cpu")


def test_gradients_flow_back_in_the_parameters_dtype_and_match_float32():
    model = ember.nn.Sequential(ember.nn.Linear(6, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    x, y = t(5, 6), ember.tensor([0, 2, 1, 1, 0])
    with ember.autocast("cpu"):
        out = model(x)
        loss = F.cross_entropy(out, y)
    assert out.dtype == ember.bfloat16 and loss.dtype == ember.float32
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    assert all(g.dtype == ember.float32 for g in grads)
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), rtol=0.05, atol=0.02)


def test_weight_casts_are_cached_within_a_region():
    from ember.autograd.autocast import STATE

    w = ember.nn.Parameter(t(4, 3))
    with ember.autocast("cpu"):
        F.linear(t(2, 3), w)
        F.linear(t(2, 3), w)
        assert [k[1] for k in STATE.cache] == [ember.bfloat16] and ember.is_autocast_cache_enabled()
        with ember.autocast("cpu", enabled=False):
            pass
        assert len(STATE.cache) == 1  # only the outermost exit clears it
    assert not STATE.cache
    with ember.autocast("cpu", cache_enabled=False):
        F.linear(t(2, 3), w)
        assert not STATE.cache
