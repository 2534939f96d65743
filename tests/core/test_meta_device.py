"""The meta device: tensors with a shape and a dtype and no data; modules built there, moved with
to_empty, filled with load_state_dict(assign=True); errors and reprs as PyTorch's (hand-copied)."""

import numpy as np
import pytest

import ember
from ember import nn


def test_factories_and_repr():
    x = ember.empty(2, 3, device="meta")
    assert x.device == ember.device("meta") and x.is_meta and x.shape == (2, 3) and x.dtype == ember.float32
    assert repr(x) == "tensor(..., device='meta', size=(2, 3))"
    assert repr(ember.empty(2, device="meta", dtype=ember.long)) == "tensor(..., device='meta', size=(2,), dtype=ember.int64)"
    assert repr(ember.empty((), device="meta")) == "tensor(..., device='meta', size=())"
    for t in (ember.zeros(3, device="meta"), ember.randn(3, device="meta"), ember.randint(0, 5, (3,), device="meta"),
              ember.arange(4, device="meta"), ember.ones(2, 2).to("meta")):
        assert t.is_meta
    assert ember.randint(0, 5, (3,), device="meta").dtype == ember.int64


def test_no_memory_for_huge_tensors():
    with ember.device("meta"):
        big = nn.Linear(50_000, 50_000)  # 10 GB of float32 if it had data
    assert big.weight.shape == (50_000, 50_000) and big.weight.is_meta
    assert big.weight._data.strides == (0, 0)


def test_shape_reasoning_through_layers_and_backward():
    with ember.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    out = model(ember.empty(4, 3, 16, 16, device="meta"))
    assert out.shape == (4, 10) and out.is_meta
    out.sum().backward()
    assert model[0].weight.grad.shape == (8, 3, 3, 3) and model[0].weight.grad.is_meta
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.step()  # updates nothing, fails nothing
    t = ember.empty(4, 5, device="meta")
    assert t[1:, [0, 2]].shape == (3, 2) and (t > 0).dtype == ember.bool and t.mean(0).shape == (5,)
    lstm = nn.LSTM(5, 7, device="meta")
    assert lstm(ember.empty(3, 2, 5, device="meta"))[0].shape == (3, 2, 7)


def test_no_data_errors():
    x = ember.empty(2, device="meta")
    with pytest.raises(NotImplementedError, match=r"Cannot copy out of meta tensor; no data! Please use torch.nn.Module.to_empty\(\)"):
        x.cpu()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta tensors"):
        ember.empty((), device="meta").item()
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        x.item()


def test_to_empty_and_load_state_dict_assign():
    ref = nn.Linear(2, 3)
    with ember.device("meta"):
        m = nn.Linear(2, 3)
    w = m.weight
    assert m.load_state_dict(ref.state_dict()).missing_keys == [] and m.weight.is_meta  # copy_ into meta: no-op
    assert m.to_empty(device="cpu") is m and m.weight is w and m.weight.device.type == "cpu"
    m.reset_parameters()
    assert np.isfinite(m.weight.detach().numpy()).all()
    with ember.device("meta"):
        m2 = nn.Linear(2, 3)
    m2.load_state_dict(ref.state_dict(), assign=True)
    assert m2.weight.device.type == "cpu" and isinstance(m2.weight, nn.Parameter) and m2.weight.requires_grad
    x = ember.randn(4, 2)
    ember.testing.assert_close(m2(x), ref(x))
