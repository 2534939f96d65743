"""The whole differential table: every part's ops in one list (``OPS``)."""

from optable import OPS as _CORE
from optable_nn import OPS_NN

OPS = _CORE + OPS_NN
