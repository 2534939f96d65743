"""``ember.onnx``: export traced models to ONNX, and load ONNX graphs back as ember modules.

``export`` and ``load`` need the ``onnx`` package (``pip install ember[onnx]``); run the files with ONNX Runtime.
"""

from __future__ import annotations

from . import errors
from ._export import export, require_onnx
from ._import import OnnxModule, load, supported_onnx_ops
from ._symbolic import supported_ops
from .errors import OnnxExporterError, OnnxImportError, UnsupportedOperatorError


def is_in_onnx_export() -> bool:
    """Whether an export is running (always False outside ``export``'s own trace)."""
    from ..autograd.function import TRACE_HOOK

    return TRACE_HOOK[0] is not None


__all__ = ["export", "load", "OnnxModule", "supported_onnx_ops", "supported_ops", "errors", "OnnxExporterError", "OnnxImportError", "UnsupportedOperatorError",
           "is_in_onnx_export", "require_onnx"]
