"""Linear, Bilinear, activations, dropout, Embedding, Flatten, distances: values recorded from PyTorch 2.13
(fixtures/record_layers.py), float64 gradient checks, errors and reprs."""

import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "layers_ref.npz")

ACTIVATIONS = [
    ("relu", "relu", {}), ("relu6", "relu6", {}), ("elu", "elu", {"alpha": 0.7}), ("selu", "selu", {}),
    ("celu", "celu", {"alpha": 1.3}), ("leaky_relu", "leaky_relu", {"negative_slope": 0.2}),
    ("gelu", "gelu", {}), ("gelu_tanh", "gelu", {"approximate": "tanh"}), ("silu", "silu", {}),
    ("mish", "mish", {}), ("hardswish", "hardswish", {}), ("hardsigmoid", "hardsigmoid", {}),
    ("hardtanh", "hardtanh", {"min_val": -0.5, "max_val": 1.5}), ("softplus", "softplus", {"beta": 2.0, "threshold": 3.0}),
    ("logsigmoid", "logsigmoid", {}), ("softsign", "softsign", {}), ("tanhshrink", "tanhshrink", {}),
    ("threshold", "threshold", {"threshold": 0.3, "value": -2.0}), ("hardshrink", "hardshrink", {"lambd": 0.4}),
    ("softshrink", "softshrink", {"lambd": 0.4}), ("sigmoid", "sigmoid", {}), ("tanh", "tanh", {}),
    ("softmax", "softmax", {"dim": 1}), ("log_softmax", "log_softmax", {"dim": 1}), ("softmin", "softmin", {"dim": 0}),
    ("glu", "glu", {"dim": 1}),
]


def arr(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("name, fn, kwargs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_gradients_match_pytorch(name, fn, kwargs, device):
    x = ember.tensor(REF["x"], device=device, requires_grad=True)
    y = getattr(F, fn)(x, **kwargs)
    assert y.dtype == ember.float32
    np.testing.assert_allclose(arr(y), REF[f"{name}_y"], rtol=1e-5, atol=1e-6)
    (y * ember.tensor(REF["w"][:, : y.shape[1]], device=device)).sum().backward()
    np.testing.assert_allclose(arr(x.grad), REF[f"{name}_g"], rtol=1e-5, atol=1e-6)


SMOOTH = ["elu", "selu", "celu", "gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "softsign",
          "tanhshrink", "softmax", "log_softmax", "softmin", "glu", "leaky_relu", "hardswish"]


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_first_and_second_derivatives_in_float64(name):
    _, fn, kwargs = next(a for a in ACTIVATIONS if a[0] == name)
    rng = np.random.default_rng(1)
    vals = rng.normal(0, 1.5, size=(3, 4))
    vals[np.abs(vals) < 0.05] = 0.3  # stay off kinks for the finite differences
    vals[np.abs(np.abs(vals) - 3) < 0.05] = 1.0
    x = ember.tensor(vals, dtype=ember.float64, requires_grad=True)
    f = lambda t: getattr(F, fn)(t, **kwargs)  # noqa: E731
    assert gradcheck(f, (x,))
    if name not in ("leaky_relu", "hardswish"):
        assert gradgradcheck(f, (x,))


def test_prelu_and_rrelu():
    x = ember.tensor(REF["prelu_x"], requires_grad=True)
    w = ember.tensor(REF["prelu_w"], requires_grad=True)
    np.testing.assert_allclose(arr(F.prelu(x, w)), REF["prelu_y"], rtol=1e-6)
    xd = ember.tensor(REF["prelu_x"], dtype=ember.float64, requires_grad=True)
    wd = ember.tensor([0.1, -0.3, 0.5], dtype=ember.float64, requires_grad=True)
    assert gradcheck(F.prelu, (xd, wd))
    m = nn.PReLU(3)
    assert repr(m) == "PReLU(num_parameters=3)" and arr(m.weight).tolist() == [0.25] * 3
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(x, ember.ones(2))
    r = F.rrelu(ember.tensor([-1.0, 2.0]), training=False)
    np.testing.assert_allclose(arr(r), [-(1 / 8 + 1 / 3) / 2, 2.0], rtol=1e-6)
    slopes = -arr(F.rrelu(-ember.ones(1000), training=True))
    assert slopes.min() >= 1 / 8 and slopes.max() <= 1 / 3 and slopes.std() > 0.01


def test_activation_inplace_and_errors():
    x = ember.tensor([-1.0, 2.0])
    out = F.relu(x, inplace=True)
    assert out is x and arr(x).tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 0.5, 9.0])
    nn.ReLU6(inplace=True)(y)
    assert arr(y).tolist() == [0.0, 0.5, 6.0]
    with pytest.raises(NotImplementedError, match="Long"):
        F.gelu(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(ember.ones(2), approximate="fast")
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(ember.ones(3, 3))
    leaf = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.relu(leaf, inplace=True)


def test_softmax_implicit_dim_warns_and_dtype_argument():
    x = ember.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(arr(y.sum(1)), [1.0, 1.0], rtol=1e-6)
    assert F.softmax(x, 1, dtype=ember.float64).dtype == ember.float64
    big = ember.tensor([[1000.0, 0.0, -1000.0]])
    assert np.isfinite(arr(F.log_softmax(big, 1))).all()


def test_activation_module_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=-1)) == "Softmax(dim=-1)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.ReLU6()) == "ReLU6()"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardshrink()) == "Hardshrink(0.5)"
    assert repr(nn.SiLU()) == "SiLU()" and repr(nn.Sigmoid()) == "Sigmoid()"
    x = ember.tensor(REF["x"])
    np.testing.assert_allclose(arr(nn.Mish()(x)), REF["mish_y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arr(nn.LogSoftmax(1)(x)), REF["log_softmax_y"], rtol=1e-5, atol=1e-6)


# ---- linear ------------------------------------------------------------------------------------


def test_linear_and_bilinear_match_pytorch(device):
    x, w, b = (ember.tensor(REF[k], device=device) for k in ("lin_x", "lin_w", "lin_b"))
    np.testing.assert_allclose(arr(F.linear(x, w, b)), REF["lin_y"], rtol=1e-5, atol=1e-6)
    args = [ember.tensor(REF[k], device=device) for k in ("bil_x1", "bil_x2", "bil_w", "bil_b")]
    np.testing.assert_allclose(arr(F.bilinear(*args)), REF["bil_y"], rtol=1e-5, atol=1e-5)


def test_linear_gradients_float64():
    rng = np.random.default_rng(0)
    mk = lambda *s: ember.tensor(rng.normal(size=s), dtype=ember.float64, requires_grad=True)  # noqa: E731
    assert gradcheck(F.linear, (mk(2, 3, 4), mk(5, 4), mk(5)))
    assert gradgradcheck(F.linear, (mk(3, 4), mk(2, 4), mk(2)))
    assert gradcheck(F.linear, (mk(4), mk(4), mk()))  # vector weight: a scalar output
    assert gradcheck(F.bilinear, (mk(3, 2), mk(3, 4), mk(5, 2, 4), mk(5)))


def test_linear_module_init_repr_and_errors():
    ember.manual_seed(0)
    m = nn.Linear(20, 30)
    assert repr(m) == "Linear(in_features=20, out_features=30, bias=True)"
    assert list(dict(m.named_parameters())) == ["weight", "bias"]
    bound = 1 / np.sqrt(20)
    assert np.abs(arr(m.weight)).max() <= bound and np.abs(arr(m.weight)).max() > 0.8 * bound
    assert np.abs(arr(m.bias)).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 20x30\)"):
        m(ember.ones(4, 3))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        m(ember.ones(4, 20, dtype=ember.float64))
    assert m(ember.ones(7, 2, 20)).shape == (7, 2, 30)
    assert nn.Linear(3, 2, dtype=ember.float64).weight.dtype == ember.float64
    ident = nn.Identity(54, unused="x")
    x = ember.ones(2)
    assert ident(x) is x
    assert repr(nn.Bilinear(2, 3, 4)) == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"


# ---- dropout -----------------------------------------------------------------------------------


def test_dropout_scales_kept_values_and_passes_through_in_eval():
    x = ember.ones(200, 50)
    y = F.dropout(x, 0.3, training=True)
    vals = np.unique(arr(y))
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    assert 0.25 < (arr(y) == 0).mean() < 0.35
    assert F.dropout(x, 0.3, training=False) is x
    assert float(F.dropout(x, 1.0).sum()) == 0.0
    m = nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"


def test_dropout_gradient_uses_the_same_mask():
    x = ember.ones(100, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), arr(y))


def test_dropout2d_zeroes_whole_channels_and_alpha_dropout_keeps_statistics():
    y = arr(F.dropout2d(ember.ones(8, 16, 5, 5), 0.5))
    per_channel = y.reshape(8, 16, 25)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    y1 = arr(F.dropout1d(ember.ones(4, 6, 10), 0.5)).reshape(4, 6, 10)
    assert np.all((y1 == 0).all(-1) | (y1 == 2).all(-1))
    z = arr(F.alpha_dropout(ember.randn(200000), 0.2, training=True))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


# ---- embedding ---------------------------------------------------------------------------------


def test_embedding_values_and_gradient_match_pytorch(device):
    w = ember.tensor(REF["emb_w"], device=device, requires_grad=True)
    idx = ember.tensor(REF["emb_idx"], device=device)
    y = F.embedding(idx, w, padding_idx=1, scale_grad_by_freq=True)
    np.testing.assert_array_equal(arr(y), REF["emb_y"])
    (y * ember.arange(y.numel(), device=device).reshape(y.shape)).sum().backward()
    np.testing.assert_allclose(arr(w.grad), REF["emb_g"], rtol=1e-6)
    w2 = ember.tensor(REF["emb_w"], device=device)
    y2 = F.embedding(idx, w2, max_norm=1.0)
    np.testing.assert_allclose(arr(y2), REF["emb_maxnorm_y"], rtol=1e-5)
    np.testing.assert_allclose(arr(w2), REF["emb_maxnorm_w"], rtol=1e-5)


def test_embedding_gradcheck_and_double_backward():
    w = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([[0, 4, 4], [2, 0, 1]])
    assert gradcheck(lambda t: F.embedding(idx, t), (w,))
    assert gradgradcheck(lambda t: F.embedding(idx, t) ** 2, (w,))


def test_embedding_module():
    ember.manual_seed(0)
    m = nn.Embedding(10, 3, padding_idx=0)
    assert repr(m) == "Embedding(10, 3, padding_idx=0)"
    assert arr(m.weight[0]).tolist() == [0.0, 0.0, 0.0]
    out = m(ember.tensor([[1, 0], [9, 9]]))
    assert out.shape == (2, 2, 3) and out.dtype == ember.float32
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        m(ember.tensor([1.0]))
    with pytest.raises(IndexError, match="index out of range in self"):
        m(ember.tensor([10]))
    pre = nn.Embedding.from_pretrained(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not pre.weight.requires_grad and arr(pre(ember.tensor([1]))).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(ember.ones(2, 2), freeze=False).weight.requires_grad
    np.testing.assert_allclose(arr(m.weight[1:]).std(), 1.0, atol=0.6)


def test_one_hot():
    out = F.one_hot(ember.tensor([0, 2, 1]))
    assert out.dtype == ember.int64 and arr(out).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(ember.tensor([[1]]), 4).shape == (1, 1, 4)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(ember.tensor([-1]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ember.tensor([1.0]))


# ---- flatten, distances ------------------------------------------------------------------------


def test_flatten_unflatten():
    x = ember.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 1))(ember.ones(2, 3)).shape == (2, 3, 1)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    with pytest.raises(TypeError):
        nn.Unflatten(1, 5)


def test_distances_match_pytorch():
    c1, c2 = ember.tensor(REF["cos_x1"]), ember.tensor(REF["cos_x2"])
    np.testing.assert_allclose(arr(F.cosine_similarity(c1, c2)), REF["cos_y"], rtol=1e-5)
    np.testing.assert_allclose(arr(nn.CosineSimilarity()(c1, c2)), REF["cos_y"], rtol=1e-5)
    np.testing.assert_allclose(arr(F.pairwise_distance(c1, c2)), REF["pdist_y"], rtol=1e-5)
    np.testing.assert_allclose(arr(F.normalize(c1, p=3.0, dim=0)), REF["norm_y"], rtol=1e-5)
    d1 = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    d2 = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(F.cosine_similarity, (d1, d2))
    assert gradcheck(F.normalize, (d1,))
    assert F.pdist(ember.randn(5, 3)).shape == (10,)
    np.testing.assert_allclose(arr(F.cdist(c1, c2)), np.linalg.norm(REF["cos_x1"][:, None] - REF["cos_x2"][None], axis=-1), rtol=1e-5)


@pytest.mark.parametrize("fn", ["gelu", "silu", "elu", "softplus", "hardswish"])
def test_large_inputs_take_the_blocked_path_with_identical_results(fn):
    x = ember.randn(3, 70000)  # above two 64K blocks
    whole = getattr(F, fn)(x).numpy()
    pieces = np.concatenate([getattr(F, fn)(x[i]).numpy() for i in range(3)])  # each below the threshold
    np.testing.assert_array_equal(whole.reshape(-1), pieces)


@pytest.mark.parametrize("fn, kwargs", [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {})])
def test_no_graph_backward_on_arrays_equals_the_tensor_formula(fn, kwargs):
    x = ember.randn(700, 300, requires_grad=True)  # large: the array derivative runs in row blocks
    w = ember.randn(700, 300)
    (getattr(F, fn)(x, **kwargs) * w).sum().backward()
    formula, = ember.autograd.grad((getattr(F, fn)(x, **kwargs) * w).sum(), x, create_graph=True)
    np.testing.assert_allclose(arr(x.grad), arr(formula), rtol=1e-5, atol=1e-6)


PIECEWISE = ["relu", "relu6", "hardtanh", "hardsigmoid", "threshold", "hardshrink", "softshrink", "sigmoid", "tanh"]


@pytest.mark.parametrize("name", PIECEWISE)
def test_piecewise_activation_gradients_in_float64(name):
    _, fn, kwargs = next(a for a in ACTIVATIONS if a[0] == name)
    # values away from every kink (0, +-0.4, +-0.5, 0.3, +-1, 1.5, +-3, 6)
    vals = np.array([[-4.2, -2.2, -0.8, -0.45, -0.2], [0.1, 0.35, 0.7, 1.2, 2.2], [3.4, 5.1, 7.0, -0.65, 0.9]])
    x = ember.tensor(vals, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: getattr(F, fn)(t, **kwargs), (x,))


def test_dropout_gradients_in_float64():
    x = ember.randn(4, 6, 3, dtype=ember.float64, requires_grad=True)

    def seeded(fn):
        def run(t):
            ember.manual_seed(7)  # the same mask on every evaluation
            return fn(t)
        return run

    assert gradcheck(seeded(lambda t: F.dropout(t, 0.3)), (x,))
    assert gradcheck(seeded(lambda t: F.dropout2d(t.unsqueeze(-1), 0.5)), (x,))
    assert gradcheck(seeded(lambda t: F.alpha_dropout(t, 0.2, training=True)), (x,))


def test_copy_and_fill_gradients_in_float64():
    src = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda s: ember.zeros(2, 3, dtype=ember.float64).copy_(s) * 2, (src,))
    val = ember.tensor(1.5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.zeros(2, dtype=ember.float64).fill_(v), (val,))


def test_distance_gradients_in_float64():
    a = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(F.pairwise_distance, (a, b))
    assert gradcheck(F.pdist, (a,))
    assert gradcheck(F.cdist, (a, b[:2]))


def test_embedding_weight_must_be_a_matrix():
    with pytest.raises(RuntimeError, match=r"'weight' must be 2-D, but got a 1-D tensor of shape \[5\]"):
        F.embedding(ember.tensor([0]), ember.ones(5))


def test_dropout_of_an_integer_tensor_names_its_dtype():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        F.dropout(ember.tensor([1, 2]), 0.5)
