"""``ember.autograd.graph``: the node type behind ``tensor.grad_fn``."""

from .function import Node

__all__ = ["Node"]
