"""``ember.nn``: modules, layers, functional API, losses and initialisation."""

from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .module import Module, register_module_forward_hook, register_module_forward_pre_hook
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from . import functional, init, parallel, utils  # noqa: F401
from .parallel import DataParallel  # noqa: F401

from .._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr(__name__)  # PyTorch names Ember lacks: "ember.X is not implemented yet"
