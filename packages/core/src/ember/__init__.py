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


from . import nn, optim, utils, backends, hub, special, distributions  # noqa: E402  (they build on everything above)
from ._compat import *  # noqa: E402,F401,F403
from .ops.activation import softmax, log_softmax  # noqa: E402,F401
from .ops.dropout import dropout, alpha_dropout, feature_alpha_dropout  # noqa: E402,F401
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: E402,F401
from .ops.pooling import max_pool1d, max_pool2d, avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d  # noqa: E402,F401
from .ops.normalization import layer_norm, group_norm, rms_norm  # noqa: E402,F401
from .ops.distance import cosine_similarity, pairwise_distance, pdist, cdist  # noqa: E402,F401
from .serialization import save, load  # noqa: E402
