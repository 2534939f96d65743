"""Exception classes that PyTorch defines in ``torch._C`` and exposes elsewhere under public names, kept
here under the same names so that code naming either spelling (``torch._C._LinAlgError`` or
``torch.linalg.LinAlgError``) catches ember's errors. A leaf: it imports nothing from ember."""


class _LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (public as ``ember.linalg.LinAlgError``)."""


__all__ = ["_LinAlgError"]
