"""The whole differential table: every part's ops in one list (``OPS``)."""

from optable import OPS as _CORE
from optable_math import OPS_MATH
from optable_more import OPS_MORE
from optable_nn import OPS_NN
from optable_writes import OPS_WRITES

OPS = _CORE + OPS_NN + OPS_MATH + OPS_MORE + OPS_WRITES
