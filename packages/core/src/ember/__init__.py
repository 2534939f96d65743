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
    bfloat16,
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


def set_default_device(device) -> None:  # noqa: F811  (the parameter shadows ember.device, as in PyTorch)
    """Make factory functions (zeros, randn, tensor, ...) create tensors on ``device`` when they are not
    given one (None: back to the CPU). ``with ember.device(...):`` does the same for a block."""
    _backend.set_default_device(device)


def get_default_device():
    """The device factory functions use when they are not given one."""
    return _backend.default_device()


from ._parallel import (set_num_threads, get_num_threads, set_num_interop_threads,  # noqa: E402,F401
                        get_num_interop_threads)


from . import nn, optim, utils, backends, hub, distributed, func, jit, onnx  # noqa: E402  (they build on everything above)
from . import accelerator, functional, multiprocessing, profiler, special, distributions  # noqa: E402
from . import fft  # noqa: E402  (the ember.fft namespace)
from . import amp, cpu  # noqa: E402  (mixed precision; ember.cpu.amp / ember.cuda.amp)
from .amp import autocast  # noqa: E402,F401
from .amp.autocast_mode import (get_autocast_cpu_dtype, get_autocast_dtype, get_autocast_gpu_dtype,  # noqa: E402,F401
                                is_autocast_cache_enabled, is_autocast_cpu_enabled, is_autocast_enabled,
                                set_autocast_cache_enabled, set_autocast_dtype, set_autocast_enabled,
                                clear_autocast_cache)
from .utils.dlpack import from_dlpack  # noqa: E402,F401
from .functional import chain_matmul, unravel_index  # noqa: E402,F401
from ._compat import *  # noqa: E402,F401,F403
from .ops.activation import softmax, log_softmax  # noqa: E402,F401
from .ops.dropout import aten_dropout as dropout, aten_alpha_dropout as alpha_dropout  # noqa: E402,F401
from .ops.dropout import aten_feature_alpha_dropout as feature_alpha_dropout  # noqa: E402,F401
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: E402,F401
from .ops.pooling import max_pool1d, max_pool2d, avg_pool1d, adaptive_avg_pool1d  # noqa: E402,F401
from .ops.pooling import aten_adaptive_max_pool1d as adaptive_max_pool1d  # noqa: E402,F401
from .ops.pooling3d import max_pool3d  # noqa: E402,F401
from .ops.grid_sample import affine_grid_generator, grid_sampler, grid_sampler_2d, grid_sampler_3d  # noqa: E402,F401
from .ops.normalization import layer_norm, rms_norm, aten_group_norm as group_norm  # noqa: E402,F401
from .ops.distance import cosine_similarity, pairwise_distance, pdist, cdist, dist  # noqa: E402,F401
from .serialization import save, load  # noqa: E402
from . import linalg  # noqa: E402
from .ops.linalg_api import (cholesky_inverse, cholesky_solve, inverse, logdet, lu_unpack, matrix_exp,  # noqa: E402,F401
                             pinverse, symeig, triangular_solve)
from .ops.linalg_api import _cholesky as cholesky, _det as det, _lu as lu, _lu_solve as lu_solve  # noqa: E402,F401
from .ops.linalg_api import _matrix_power as matrix_power, _qr as qr, _svd as svd, slogdet  # noqa: E402,F401

from ._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr(__name__)  # PyTorch names Ember lacks: "ember.X is not implemented yet"
