"""``nn.utils.stateless.functional_call``: the older home of :func:`ember.func.functional_call`."""

from ...func.functional_call import functional_call

__all__ = ["functional_call"]
