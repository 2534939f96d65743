"""Ember: a deep-learning framework with PyTorch's API on NumPy (CPU) and CuPy (GPU)."""

from ._version import __version__
from . import backend as _backend
from .backend import device
from .dtypes import (
    dtype,
    bool_ as bool,
    uint8,
    int8,
    int16,
    int32,
    int64,
    float16,
    float32,
    float64,
    complex64,
    complex128,
    get_default_dtype,
    set_default_dtype,
    promote_types,
)
from .dtypes import result_type as _result_type
from .size import Size
from .tensor import Tensor
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .creation import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
from ._tensor_str import set_printoptions
from . import autograd, cuda, random, testing

half = float16
float = float32
double = float64
short = int16
int = int32
long = int64
cfloat = complex64
cdouble = complex128


def result_type(tensor1, tensor2):
    """The dtype an elementwise op on the two operands (tensors or numbers) produces."""
    return _result_type(tensor1, tensor2)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def is_complex(input) -> bool:
    return input.is_complex()


def numel(input) -> int:
    return input.numel()


def set_num_threads(n: int) -> None:
    """Accepted for compatibility; NumPy's BLAS thread count is set by its environment variables."""


def get_num_threads() -> int:
    import os

    return os.cpu_count() or 1


from . import nn, optim, utils  # noqa: E402  (they build on everything above)
from .serialization import save, load  # noqa: E402
