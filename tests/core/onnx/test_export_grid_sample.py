"""ONNX export of grid_sample (GridSample: 4-D from opset 16, 5-D from opset 20) and affine_grid (exported
as its matmul with a constant base grid), checked in ONNX Runtime; ember.onnx.load maps GridSample back."""

import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.onnx import UnsupportedOperatorError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class STN(nn.Module):
    """A spatial transformer head: theta from features, then affine_grid + grid_sample."""

    def __init__(self, nd, mode, padding, align):
        super().__init__()
        self.loc = nn.Linear(4, nd * (nd + 1))
        self.nd, self.mode, self.padding, self.align = nd, mode, padding, align

    def forward(self, x, f):
        theta = self.loc(f).view(-1, self.nd, self.nd + 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=self.align)
        return F.grid_sample(x, grid, mode=self.mode, padding_mode=self.padding, align_corners=self.align)


def _export(model, inputs, opset):
    buf = io.BytesIO()
    ember.onnx.export(model, inputs, buf, input_names=["x", "f"], opset_version=opset)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return buf.getvalue(), proto


CASES = [(2, m, p, a, 16) for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection")
         for a in (False, True)] + [(3, m, "reflection", a, 20) for m in ("bilinear", "nearest") for a in (False, True)]


@pytest.mark.parametrize("nd,mode,padding,align,opset", CASES)
def test_spatial_transformer_runs_in_onnxruntime(nd, mode, padding, align, opset):
    ember.manual_seed(0)
    model = STN(nd, mode, padding, align).eval()
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 3) + (5, 6, 4)[:nd]).astype(np.float32))
    f = ember.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    data, proto = _export(model, (x, f), opset)
    assert "GridSample" in {n.op_type for n in proto.graph.node}
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy(), "f": f.numpy()})[0]
    np.testing.assert_allclose(got, model(x, f).detach().numpy(), rtol=1e-4, atol=1e-5)
    loaded = ember.onnx.load(io.BytesIO(data))
    np.testing.assert_allclose(loaded(x, f).detach().numpy(), got, rtol=1e-4, atol=1e-5)


def test_grid_sample_opsets_are_named():
    model = STN(2, "bilinear", "zeros", False)
    x, f = ember.randn(1, 1, 4, 4), ember.randn(1, 4)
    with pytest.raises(UnsupportedOperatorError, match="'_GridSampler' to ONNX opset version 13.*version 16"):
        ember.onnx.export(model, (x, f), io.BytesIO(), opset_version=13)
    with pytest.raises(UnsupportedOperatorError, match="'_GridSampler' to ONNX opset version 17.*version 20"):
        ember.onnx.export(STN(3, "bilinear", "zeros", False), (ember.randn(1, 1, 2, 3, 4), f), io.BytesIO(), opset_version=17)
    assert "_GridSampler" in ember.onnx.supported_ops() and "GridSample" in ember.onnx.supported_onnx_ops()
