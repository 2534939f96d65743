"""Differentiable primitives, grouped by family; each module binds its functions onto Tensor."""

from . import _common
from .elementwise import *  # noqa: F401,F403
from .broadcast import *  # noqa: F401,F403
from .conversion import to_device_dtype  # noqa: F401
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .selection import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .joining import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .complex import *  # noqa: F401,F403
from .windows import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .binary_math import *  # noqa: F401,F403
from .cumulative import *  # noqa: F401,F403
from .statistics import *  # noqa: F401,F403
from .structure import *  # noqa: F401,F403
from .strided import *  # noqa: F401,F403
from .index_reduction import *  # noqa: F401,F403
from .incomplete_gamma import *  # noqa: F401,F403
from . import windows, spectral
from . import filling  # noqa: F401  (binds copy_/fill_/zero_ onto Tensor)
from . import elementwise, broadcast, reduction, shape, unary, rounding, comparison, selection, sorting, linalg, joining, indexing, special
from . import binary_math, cumulative, statistics, structure, strided, index_reduction, incomplete_gamma
_complex = __import__("importlib").import_module(".complex", __name__)  # the name `complex` is the function

__all__ = [
    name
    for mod in (elementwise, broadcast, reduction, shape, unary, rounding, comparison, selection, sorting, linalg, joining, indexing,
                _complex, windows, spectral, special, binary_math, cumulative, statistics, structure, strided, index_reduction,
                incomplete_gamma)
    for name in mod.__all__
]
