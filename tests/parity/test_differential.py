"""Random calls of every op in optable.OPS on ember and PyTorch must agree (``tox -e parity``).

``--seed`` and ``--trials`` (calls per op) widen a local run; CI uses seed 0 and the default trials.
Each failure lists one reproducer line per distinct disagreement.
"""

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from differential import run_op  # noqa: E402
from table import OPS  # noqa: E402

pytestmark = pytest.mark.parity

DEFAULT_TRIALS = 60

# ops with disagreements still open at seed 0, each with the reason: reported (xfail), not failed, until fixed
# (a fixed one shows as XPASS)
KNOWN_OPEN = {
    "logdet": "the gradient of a singular matrix raises in ember (PyTorch gives inf/nan)",
    "ldexp": "a float64 0-d mantissa with an int64 exponent tensor: PyTorch float64, ember float32 (0-d promotion)",
    "linalg.slogdet": "the sign output does not require grad in ember",
    "linalg.vector_norm": "+-inf norm over an empty tensor or an empty dim: which case raises differs",
    "nanmedian": "over an empty dim: RuntimeError instead of IndexError",
    "nextafter": "ember has no derivative for nextafter (PyTorch: not differentiable only in `other`)",
    "scatter_reduce": "result does not require grad for some reduce modes",
    "take_along_dim": "negative indices: PyTorch wraps them, ember refuses",
    "trapezoid": "inf - inf in a trapezoid: PyTorch nan, ember +-inf (order of the sums)",
    "adaptive_max_pool1d": "torch.adaptive_max_pool1d returns (values, indices); ember's returns values only",
    "group_norm": "one value per group: PyTorch computes (var 0), ember raises ValueError",
    "meshgrid": "mixed dtypes: PyTorch refuses, ember promotes",
    "sum_to_size": "unsigned integer sums come back as uint64 (PyTorch keeps int64 / uint8 rules)",
    "trapz": "a single inf sample: PyTorch nan (0 * inf), ember 0",
}


def _param(op):
    marks = [pytest.mark.xfail(reason=KNOWN_OPEN[op.name], strict=False)] if op.name in KNOWN_OPEN else []
    return pytest.param(op, id=op.name, marks=marks)


@pytest.mark.parametrize("op", [_param(o) for o in OPS])
def test_op_agrees_with_torch(op, request):
    seed = request.config.getoption("--seed")
    trials = request.config.getoption("--trials") or DEFAULT_TRIALS
    found = run_op(torch, ember, op, seed, trials)
    assert not found, f"{len(found)} disagreement(s) with PyTorch (seed {seed}):\n" + "\n".join(
        f"  {line}  # {reason}" for line, reason in found
    )
