"""``ember.backends``: the flags PyTorch scripts set (``backends.cudnn.benchmark = True``, ...).

Ember has no cuDNN or MPS backend; the flags are kept so such scripts run, and read back as set."""

from types import SimpleNamespace


def _false():
    return False


cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True, is_available=_false)
mps = SimpleNamespace(is_available=_false, is_built=_false)
mkldnn = SimpleNamespace(enabled=False, is_available=_false)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False))
