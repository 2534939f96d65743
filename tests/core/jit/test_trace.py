"""ember.jit.trace: recording, replay, save/load, TracerWarning, check_trace/check_inputs, modes."""

import inspect
import zipfile

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd.function import TRACE_HOOK
from ember.jit import ScriptModule, TracerWarning, TracingCheckError


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x)), inplace=True), 2)
        x = self.drop(x.view(x.size(0), -1))
        return self.fc(x).log_softmax(-1)


def _model():
    ember.manual_seed(0)
    return SmallCNN().eval()


def _x(n=2, seed=1):
    return ember.tensor(np.random.default_rng(seed).standard_normal((n, 1, 8, 8)).astype(np.float32))


def test_trace_records_primitives_and_replays_without_python_code():
    m = _model()
    x = _x()
    traced = ember.jit.trace(m, x)
    assert isinstance(traced, ScriptModule) and isinstance(traced, nn.Module)
    kinds = [n.kind for n in traced.graph.nodes]
    assert kinds[:2] == ["Convolution", "_Normalize"] and "MaxPool2dFn" in kinds and "Linear" in kinds
    text = str(traced.graph)
    assert "%input : Float(2, 1, 8, 8)" in text and "%conv.weight : Float(4, 1, 3, 3)" in text and "return" in text
    assert traced.code.startswith("def forward(self, input):") and "ops.Convolution(" in traced.code
    expected = m(x)
    m.forward = None  # the replay must not touch the model's Python code
    np.testing.assert_array_equal(traced(x).detach().numpy(), expected.detach().numpy())
    # different values, same shape: the replay computes, it did not store the example's result
    x2 = _x(seed=5)
    np.testing.assert_allclose(traced(x2).detach().numpy(), SmallCNN.forward(_model(), x2).detach().numpy(), rtol=1e-6)
    assert TRACE_HOOK[0] is None


def test_state_dict_names_and_gradients_match_the_module():
    m = _model()
    x = _x()
    traced = ember.jit.trace(m, x)
    assert list(traced.state_dict()) == list(m.state_dict())
    traced(x).sum().backward()
    m2 = _model()
    m2(x).sum().backward()
    for (name, p), (_, q) in zip(traced.named_parameters(), m2.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def test_save_and_load_round_trip_without_pickle(tmp_path):
    m = _model()
    m.bn.running_mean.fill_(0.25)
    x = _x()
    path = tmp_path / "model.ember"
    ember.jit.trace(m, x).save(str(path))
    with zipfile.ZipFile(path) as zf:
        assert not any(name.endswith(".pkl") for name in zf.namelist())
    loaded = ember.jit.load(str(path))
    assert isinstance(loaded, ScriptModule) and not loaded.training
    np.testing.assert_array_equal(loaded(x).detach().numpy(), m(x).detach().numpy())
    assert list(loaded.state_dict()) == list(m.state_dict())
    # the batch-norm statistics are the loaded buffers, not copies baked into the graph
    loaded.bn.running_mean.fill_(0.0)
    m.bn.running_mean.fill_(0.0)
    np.testing.assert_allclose(loaded(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    assert "Convolution" in str(loaded.graph)


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "weights.ember"
    ember.save({"w": ember.ones(2)}, str(path))
    with pytest.raises(RuntimeError, match="not an ember.jit archive"):
        ember.jit.load(str(path))


def test_tracer_warning_names_the_line():
    assert issubclass(TracerWarning, Warning)

    def f(x):
        if x.sum() > 0:  # data-dependent control flow
            return x * 2
        return x * x.mean().item()

    line = inspect.getsourcelines(f)[1] + 1
    with pytest.warns(TracerWarning, match=r"Python boolean.*test_trace.py:%d" % line) as record:
        ember.jit.trace(f, ember.ones(3))
    assert record[0].filename == __file__ and record[0].lineno == line

    def g(x):
        return x * len(x.tolist())

    with pytest.warns(TracerWarning, match="Python list"):
        ember.jit.trace(g, ember.ones(3))


def test_no_warning_for_values_of_parameters():
    class Scaled(nn.Linear):
        def forward(self, x):
            scale = float(self.bias.detach().abs().max())  # computed from a parameter, not the input
            return super().forward(x) * scale

    m = Scaled(2, 2)
    x = ember.ones(1, 2)
    np.testing.assert_allclose(ember.jit.trace(m, x)(x).detach().numpy(), m(x).detach().numpy())  # no warning


def test_check_inputs_catch_baked_values():
    def f(x):
        return x - x.mean().item()

    with pytest.warns(TracerWarning):
        traced = ember.jit.trace(f, ember.ones(3))
    with pytest.warns(TracerWarning), pytest.raises(TracingCheckError, match="does not match"):
        ember.jit.trace(f, ember.ones(3), check_inputs=[(ember.tensor([0.0, 1.0, 5.0]),)])
    np.testing.assert_array_equal(traced(ember.tensor([0.0, 1.0, 5.0])).numpy(), [-1.0, 0.0, 4.0])  # baked mean 1


def test_shapes_are_checked():
    traced = ember.jit.trace(_model(), _x(2))
    with pytest.raises(RuntimeError, match=r"shape \[3, 1, 8, 8\].*traced for shape \[2, 1, 8, 8\].*dynamic_axes"):
        traced(_x(3))
    with pytest.raises(RuntimeError, match="takes 1 input"):
        traced(_x(2), _x(2))


def test_training_mode_is_traced_as_current():
    ember.manual_seed(0)
    m = SmallCNN()
    m.drop.p = 0.0
    x = _x(4)
    traced = ember.jit.trace(m, x)
    assert traced.training
    before = traced.bn.running_mean.clone()
    out = traced(x)
    # batch statistics, and the running estimates move on every replay (as in the module)
    assert not np.allclose(traced.bn.running_mean.numpy(), before.numpy())
    np.testing.assert_allclose(out.detach().numpy(), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    m.drop.p = 0.5
    with pytest.warns(TracerWarning, match="dropout in training mode"):
        ember.jit.trace(m, x, check_trace=False)


def test_functions_multiple_inputs_and_outputs():
    def f(a, b):
        return (a @ b).relu(), ember.cat([a, b.t()], 0)[1:, ::2]

    a, b = ember.randn(2, 3), ember.randn(3, 2)
    traced = ember.jit.trace(f, (a, b))
    y1, y2 = traced(a, b)
    e1, e2 = f(a, b)
    np.testing.assert_array_equal(y1.numpy(), e1.numpy())
    np.testing.assert_array_equal(y2.numpy(), e2.numpy())


def test_inplace_updates_are_followed():
    def f(x):
        y = x * 1.0
        y += 1
        y.relu_()
        return y.detach() * 2

    x = ember.tensor([-3.0, 0.5])
    traced = ember.jit.trace(f, x)
    np.testing.assert_array_equal(traced(ember.tensor([1.0, -5.0])).numpy(), [4.0, 0.0])


def test_strict_rejects_list_outputs():
    with pytest.raises(RuntimeError, match="strict=False"):
        ember.jit.trace(lambda x: [x * 2], ember.ones(2))
    traced = ember.jit.trace(lambda x: [x * 2], ember.ones(2), strict=False)
    assert isinstance(traced(ember.ones(2)), list)


def test_trace_hook_is_removed_after_an_error():
    def f(x):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        ember.jit.trace(f, ember.ones(2))
    assert TRACE_HOOK[0] is None and not ember.jit.is_tracing()


def test_bad_example_inputs():
    with pytest.raises(TypeError, match="example input 1 must be a Tensor"):
        ember.jit.trace(lambda a, b: a, (ember.ones(1), 3))


def test_script_points_to_trace_and_export():
    with pytest.raises(NotImplementedError, match=r"ember\.jit\.trace.*ember\.onnx\.export"):
        ember.jit.script(_model())


def test_inputs_read_outside_the_primitives_are_reported():
    def f(x, mask):
        return x * ember.tensor(mask.detach().numpy())  # the mask's values become a constant

    with pytest.warns(TracerWarning, match="NumPy array"):
        with pytest.warns(TracerWarning, match="input 1 of the traced function is not used"):
            ember.jit.trace(f, (ember.ones(2), ember.ones(2)))
