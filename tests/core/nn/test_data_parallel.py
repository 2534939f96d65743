"""nn.DataParallel / nn.parallel.data_parallel: a transparent wrapper on one device, ``module.`` keys."""

import numpy as np
import pytest

import ember
from ember import nn


def test_wrapper_is_transparent_and_prefixes_state_dict_keys():
    inner = nn.Linear(2, 3)
    dp = nn.DataParallel(inner)
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert dp.module is inner
    assert repr(dp) == "DataParallel(\n  (module): Linear(in_features=2, out_features=3, bias=True)\n)"
    x = ember.randn(4, 2)
    np.testing.assert_array_equal(dp(x).detach().numpy(), inner(x).detach().numpy())
    dp(x).sum().backward()
    assert inner.weight.grad is not None
    other = nn.DataParallel(nn.Linear(2, 3))
    other.load_state_dict(dp.state_dict())
    np.testing.assert_array_equal(other.module.weight.detach().numpy(), inner.weight.detach().numpy())
    opt = ember.optim.SGD(dp.parameters(), lr=0.1)  # the wrapped module's parameters
    assert len(opt.param_groups[0]["params"]) == 2


@pytest.mark.skipif(ember.cuda.is_available(), reason="CPU-only behaviour")
def test_cpu_only_answers_as_pytorch():
    assert nn.DataParallel(nn.Linear(2, 3)).device_ids == []
    with pytest.raises(RuntimeError, match="device type could not be determined"):
        nn.parallel.data_parallel(nn.Linear(2, 3), ember.ones(1, 2))


@pytest.mark.gpu
def test_single_gpu():
    dp = nn.DataParallel(nn.Linear(2, 3))
    assert dp.device_ids[0] == 0 and dp.module.weight.device.type == "cuda"
    assert dp(ember.ones(4, 2)).device.type == "cuda"
    out = nn.parallel.data_parallel(dp.module, ember.ones(4, 2, device="cuda"))
    assert out.shape == (4, 3)
