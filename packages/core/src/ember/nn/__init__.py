"""``ember.nn``: modules, layers, functional API, losses and initialisation."""

from .modules import *  # noqa: F401,F403
from . import functional, init, utils  # noqa: F401
