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
    "bernoulli": "the result does not require grad in ember (PyTorch's does when the input does)",
    "normal": "tensor mean/std: result dtype and requires_grad differ from PyTorch's",
    "randn": "an int64 dtype with an empty shape: PyTorch returns, ember refuses",
    "block_diag": "mixed-dtype promotion and the gradient of a 0-d/1-d block",
    "cartesian_prod": "mixed dtypes: PyTorch refuses (meshgrid), ember promotes",
    "combinations": "result does not require grad when the input does",
    "cov": "a 1-D input's covariance is 0-d in PyTorch, [1, 1] in ember",
    "cummin": "dim out of range on a 0-d tensor: PyTorch accepts dim 0/-1 only, ember's check differs",
    "igamma": "values at a == 0 and a == inf (PyTorch returns the limits 0 / 1; ember nan or the series' value)",
    "igammac": "values at a == 0 and a == inf (PyTorch returns its limits; ember the series' value)",
    "special.gammainc": "igamma's kernel: values at a == 0 and a == inf (seen at other seeds)",
    "special.gammaincc": "igammac's kernel: values at a == inf (PyTorch 1, ember 0.6065 at x=1; seed 1)",
    "inverse": "a singular matrix: LinAlgError subclass mismatch (torch._C._LinAlgError)",
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
