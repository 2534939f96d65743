"""Lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) and the
uninitialized parameters / buffers they hold: behaviour checked against what PyTorch 2.13 does."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy


def test_uninitialized_parameter_and_buffer():
    p = UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>" and is_lazy(p) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad is None and p.dtype == ember.float32 and p.device.type == "cpu"
    assert tuple(p.size()) == (0,) and p.cls_to_become is nn.Parameter
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        p.shape
    for use in (lambda: p + 1, lambda: p.numel(), lambda: p.dim(), lambda: ember.nn.functional.linear(ember.ones(2, 3), p)):
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in .*Call `forward` with a dummy batch"):
            use()
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad and not is_lazy(p)
    b = UninitializedBuffer(dtype=ember.float64)
    assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad and b.cls_to_become is ember.Tensor
    b.materialize(4)
    assert type(b) is ember.Tensor and tuple(b.shape) == (4,) and b.dtype == ember.float64
    assert nn.UninitializedParameter is UninitializedParameter and nn.UninitializedBuffer is UninitializedBuffer


def test_lazy_linear_becomes_linear_initialised_as_linear():
    x = ember.randn(2, 5)
    ember.manual_seed(3)
    m = nn.LazyLinear(4)
    assert isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()
    assert repr(m) == "LazyLinear(in_features=0, out_features=4, bias=True)"
    y = m(x)
    ember.manual_seed(3)
    ref = nn.Linear(5, 4)
    assert type(m) is nn.Linear and type(m.weight) is nn.Parameter and m.in_features == 5
    assert repr(m) == "Linear(in_features=5, out_features=4, bias=True)" and not m._forward_pre_hooks
    assert not hasattr(m, "_initialize_hook") and not hasattr(m, "_load_hook")
    np.testing.assert_array_equal(m.weight.detach().numpy(), ref.weight.detach().numpy())
    np.testing.assert_array_equal(m.bias.detach().numpy(), ref.bias.detach().numpy())
    np.testing.assert_allclose(y.detach().numpy(), ref(x).detach().numpy(), rtol=1e-6)
    assert tuple(nn.LazyLinear(3)(ember.randn(7)).shape) == (3,)
    nb = nn.LazyLinear(3, bias=False)
    assert nb.bias is None and list(nb.state_dict()) == ["weight"]


def test_optimizer_built_before_first_forward_updates_the_materialized_parameters():
    m = nn.LazyLinear(2)
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    m(ember.ones(3, 4)).sum().backward()
    w0, b0 = m.weight.detach().clone(), m.bias.detach().clone()
    opt.step()
    np.testing.assert_allclose(m.weight.detach().numpy(), w0.numpy() - 0.5 * 3.0, rtol=1e-6)
    np.testing.assert_allclose(m.bias.detach().numpy(), b0.numpy() - 0.5 * 3.0, rtol=1e-6)
    assert opt.param_groups[0]["params"][0] is m.weight
    ember.optim.Adam(nn.LazyConv2d(4, 3).parameters())  # building one from uninitialized parameters works


def test_state_dict_of_and_into_uninitialized_modules():
    lazy = nn.LazyLinear(4)
    sd = lazy.state_dict()
    assert list(sd) == ["weight", "bias"] and all(is_lazy(v) for v in sd.values())
    trained = nn.Linear(3, 4)
    target = nn.LazyLinear(4)
    target.load_state_dict(trained.state_dict())  # materializes with the loaded shapes, stays a LazyLinear
    assert type(target) is nn.LazyLinear and type(target.weight) is nn.Parameter and tuple(target.weight.shape) == (4, 3)
    np.testing.assert_array_equal(target.weight.detach().numpy(), trained.weight.detach().numpy())
    x = ember.randn(2, 3)
    np.testing.assert_allclose(target(x).detach().numpy(), trained(x).detach().numpy(), rtol=1e-6)
    assert type(target) is nn.Linear
    still = nn.LazyLinear(4)
    still.load_state_dict(nn.LazyLinear(4).state_dict())
    assert still.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.Linear(3, 4).load_state_dict(nn.LazyLinear(4).state_dict())


def test_conversions_copies_and_containers_before_initialization():
    m = nn.LazyLinear(3).double()
    assert m.weight.dtype == ember.float64 and is_lazy(m.weight)
    m(ember.randn(2, 2, dtype=ember.float64))
    assert m.weight.dtype == ember.float64
    c = copy.deepcopy(nn.LazyLinear(3))
    assert type(c) is nn.LazyLinear and is_lazy(c.weight)
    s = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(1))
    s(ember.randn(4, 6))
    assert [type(k) for k in s] == [nn.Linear, nn.ReLU, nn.Linear] and s[2].in_features == 3


@pytest.mark.parametrize("lazy, regular, x, shape", [
    (lambda: nn.LazyConv1d(4, 3, groups=2), lambda: nn.Conv1d(6, 4, 3, groups=2), (2, 6, 9), (4, 3, 3)),
    (lambda: nn.LazyConv2d(8, 3, padding=1), lambda: nn.Conv2d(3, 8, 3, padding=1), (3, 5, 5), (8, 3, 3, 3)),
    (lambda: nn.LazyConv3d(2, 2, bias=False), lambda: nn.Conv3d(3, 2, 2, bias=False), (1, 3, 4, 4, 4), (2, 3, 2, 2, 2)),
    (lambda: nn.LazyConvTranspose1d(4, 3, stride=2), lambda: nn.ConvTranspose1d(5, 4, 3, stride=2), (2, 5, 6), (5, 4, 3)),
    (lambda: nn.LazyConvTranspose2d(8, 3, groups=2), lambda: nn.ConvTranspose2d(4, 8, 3, groups=2), (4, 5, 5), (4, 4, 3, 3)),
    (lambda: nn.LazyConvTranspose3d(2, 2), lambda: nn.ConvTranspose3d(3, 2, 2), (1, 3, 3, 3, 3), (3, 2, 2, 2, 2)),
])
def test_lazy_convolutions(lazy, regular, x, shape):
    x = ember.randn(*x)
    ember.manual_seed(5)
    m = lazy()
    y = m(x)
    ember.manual_seed(5)
    ref = regular()
    assert type(m) is type(ref) and repr(m) == repr(ref) and tuple(m.weight.shape) == shape
    np.testing.assert_array_equal(m.weight.detach().numpy(), ref.weight.detach().numpy())
    np.testing.assert_allclose(y.detach().numpy(), ref(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_lazy_conv_errors_and_repr():
    assert repr(nn.LazyConv2d(8, 3, padding=1, groups=2)) == "LazyConv2d(0, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=2)"
    with pytest.raises(ValueError, match="^in_channels must be divisible by groups$"):
        nn.LazyConv2d(8, 3, groups=2)(ember.randn(1, 3, 5, 5))
    with pytest.raises(RuntimeError) as info:
        nn.LazyConv2d(8, 3)(ember.randn(3, 5))
    assert str(info.value) == "Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of size: torch.Size([3, 5])"


@pytest.mark.parametrize("lazy, regular, x", [
    (nn.LazyBatchNorm1d, nn.BatchNorm1d, (4, 5)),
    (nn.LazyBatchNorm2d, nn.BatchNorm2d, (2, 5, 3, 3)),
    (nn.LazyBatchNorm3d, nn.BatchNorm3d, (2, 5, 2, 3, 3)),
    (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (2, 5, 6)),
    (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (2, 5, 3, 3)),
    (nn.LazyInstanceNorm3d, nn.InstanceNorm3d, (2, 5, 2, 3, 3)),
])
def test_lazy_norms(lazy, regular, x):
    m = lazy(momentum=0.3)
    name = lazy.__name__[4:]
    assert repr(m) == f"{lazy.__name__}(0, eps=1e-05, momentum=0.3, affine=True, bias=True, track_running_stats=True)"
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert is_lazy(m.running_mean) and int(m.num_batches_tracked) == 0
    x = ember.randn(*x)
    y = m(x)
    ref = regular(5, momentum=0.3, affine=True, track_running_stats=True)
    assert type(m) is regular and repr(m) == repr(ref) and type(m.running_mean) is ember.Tensor
    np.testing.assert_allclose(y.detach().numpy(), ref(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    for key, value in ref.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[key].numpy(), value.numpy(), rtol=1e-6, err_msg=f"{name} {key}")


def test_lazy_norm_without_affine_or_stats_and_pytorch_unbatched_quirk():
    m = nn.LazyBatchNorm1d(affine=False, track_running_stats=False)
    assert list(m.state_dict()) == [] and not m.has_uninitialized_params()
    m(ember.randn(3, 4))
    # nothing was uninitialized, so (as in PyTorch) num_features stays 0
    assert type(m) is nn.BatchNorm1d and m.num_features == 0
    assert repr(m) == "BatchNorm1d(0, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    # PyTorch reads num_features from dim 1 even for unbatched instance-norm input
    with pytest.raises(ValueError, match=r"expected input's size at dim=0 to match num_features \(3\), but got: 5\."):
        nn.LazyInstanceNorm1d()(ember.randn(5, 3))


def test_save_load_and_pickle_of_uninitialized_modules():
    import io
    import pickle

    m = nn.LazyLinear(3, dtype=ember.float64)
    buf = io.BytesIO()
    ember.save(m.state_dict(), buf)
    buf.seek(0)
    with pytest.raises(Exception, match="Weights only load failed"):  # as torch.load: not a weights-only object
        ember.load(buf)
    buf.seek(0)
    sd = ember.load(buf, weights_only=False)
    # PyTorch pickles an uninitialized parameter as its class and requires_grad: the dtype is not kept
    assert type(sd["weight"]) is UninitializedParameter and sd["weight"].dtype == ember.float32 and sd["weight"].requires_grad
    fresh = nn.LazyLinear(3)
    fresh.load_state_dict(sd)
    assert fresh.has_uninitialized_params()
    clone = pickle.loads(pickle.dumps(m))
    assert type(clone) is nn.LazyLinear and is_lazy(clone.weight)
    assert tuple(clone(ember.randn(2, 4, dtype=ember.float64)).shape) == (2, 3) and type(clone) is nn.Linear
