"""Layers, one file per family (as in PyTorch's torch/nn/modules)."""

from .linear import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from . import linear, conv, pooling, upsampling, padding, fold, pixelshuffle, activation, normalization, dropout, embedding, loss, flatten, rnn, distance, attention, transformer

__all__ = [
    name
    for mod in (linear, conv, pooling, upsampling, padding, fold, pixelshuffle, activation, normalization, dropout, embedding, loss, flatten, rnn, distance, attention, transformer)
    for name in mod.__all__
]
from . import batchnorm, instancenorm  # noqa: E402,F401  (PyTorch's module paths)
from .syncbatchnorm import SyncBatchNorm  # noqa: E402
from .embedding_bag import EmbeddingBag  # noqa: E402
from . import lazy  # noqa: E402,F401  (LazyModuleMixin)

__all__ += ["SyncBatchNorm", "EmbeddingBag"]
