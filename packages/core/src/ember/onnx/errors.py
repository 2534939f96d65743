"""Errors of ``ember.onnx`` (as ``torch.onnx.errors``), plus the one for reading ONNX files."""

from __future__ import annotations


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """A primitive of the traced graph has no ONNX mapping in the requested opset."""

    def __init__(self, name: str, version: int, supported_version=None):
        if supported_version is not None:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not supported. Support for "
                   f"this operator was added in version {supported_version}, try exporting with this version.")
        else:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not supported: ember has "
                   "no ONNX mapping for it (see ember.onnx.supported_ops()).")
        super().__init__(msg)
        self.name, self.version = name, version


class OnnxImportError(RuntimeError):
    """An ONNX file that ``ember.onnx.load`` can't read or run: malformed, or an unsupported op/opset."""


__all__ = ["OnnxExporterError", "UnsupportedOperatorError", "OnnxImportError"]
