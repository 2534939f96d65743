"""``ember.nn``: modules, layers, functional API, losses and initialisation."""

from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .module import Module, register_module_forward_hook, register_module_forward_pre_hook
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from . import functional, init, utils  # noqa: F401
