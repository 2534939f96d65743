"""``ember.nn.functional``: the functional twin of every layer (re-exported from ``ember.ops``)."""

from ..ops.linear import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403
from ..ops.pooling import *  # noqa: F401,F403
from ..ops.pooling3d import *  # noqa: F401,F403
from ..ops.spatial import *  # noqa: F401,F403
from ..ops.grid_sample import *  # noqa: F401,F403
from ..ops.activation import *  # noqa: F401,F403
from ..ops.normalization import *  # noqa: F401,F403
from ..ops.dropout import *  # noqa: F401,F403
from ..ops.embedding import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.distance import *  # noqa: F401,F403
from ..ops.attention import *  # noqa: F401,F403
from ..ops.embedding_bag import embedding_bag  # noqa: F401

from .._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr(__name__)  # PyTorch names Ember lacks: "ember.X is not implemented yet"
