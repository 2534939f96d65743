"""``ember.distributed.nn``: collectives that autograd can differentiate."""

from . import functional

__all__ = ["functional"]
