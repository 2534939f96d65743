"""``DataParallel`` as PyTorch defines it, for ember's single-process model: the wrapped module runs on
``device_ids[0]`` with the whole batch (ember does not split a batch over several GPUs). Without a GPU it
is a transparent wrapper, as PyTorch's is on a CPU-only machine. State dict keys get the ``module.``
prefix, so checkpoints are interchangeable with PyTorch's."""

from __future__ import annotations

from itertools import chain

from ... import backend
from ...tensor import Tensor
from ..module import Module

__all__ = ["DataParallel", "data_parallel"]


def _device_index(d) -> int:
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    dev = backend.device(d)
    return dev.index or 0


def _to(obj, dev):
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to(v, dev) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(v, dev) for v in obj)
    if isinstance(obj, dict):
        return {k: _to(v, dev) for k, v in obj.items()}
    return obj


def _check_devices(module, src):
    for t in chain(module.parameters(), module.buffers()):
        if t.device != src:
            raise RuntimeError(
                "module must have its parameters and buffers on device "
                f"{src} (device_ids[0]) but found one of them on device: {t.device}"
            )


class DataParallel(Module):
    """Run ``module`` on ``device_ids[0]`` (inputs are moved there; outputs to ``output_device``).

    Args:
        module (Module): module to wrap (its state dict keys get the ``module.`` prefix).
        device_ids (list of int or device): CUDA devices (default: all); without CUDA the wrapper is transparent.
        output_device (int or device): where outputs go (default: ``device_ids[0]``).
        dim (int): the batch dimension (kept for compatibility).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0) -> None:
        super().__init__()
        if not backend.cuda_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(backend.cuda_device_count()))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device_index(d) for d in device_ids]
        self.output_device = _device_index(output_device)
        self.src_device_obj = backend.device("cuda", self.device_ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _check_devices(self.module, self.src_device_obj)
        out = self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
        return _to(out, backend.device("cuda", self.output_device))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Evaluate ``module(*inputs)`` on ``device_ids[0]``, the functional form of :class:`DataParallel`."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not backend.cuda_available():
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = list(range(backend.cuda_device_count()))
    if output_device is None:
        output_device = device_ids[0]
    src = backend.device("cuda", _device_index(device_ids[0]))
    _check_devices(module, src)
    out = module(*_to(inputs, src), **_to(module_kwargs or {}, src))
    return _to(out, backend.device("cuda", _device_index(output_device)))
