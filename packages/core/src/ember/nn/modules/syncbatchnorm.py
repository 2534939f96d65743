"""``SyncBatchNorm``: batch normalization whose statistics are computed over the whole global batch."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over ``(N, C, +)`` inputs with mean and variance taken across every rank's batch.

    In training with an initialised process group the per-channel sums are all-reduced (differentiably, so
    the gradient is the one of the global batch); otherwise it is :class:`BatchNorm`.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input):
        from ... import distributed as dist

        self._check_input_dim(input)
        if not (self.training and dist.is_initialized() and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        from ...distributed.nn.functional import all_reduce

        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        dims = [0] + list(range(2, input.dim()))
        shape = [1, -1] + [1] * (input.dim() - 2)
        count_local = input.numel() // input.shape[1]
        totals = all_reduce(input.new_tensor([float(count_local)]), group=self.process_group)
        count = float(totals.item())
        mean = all_reduce(input.sum(dims), group=self.process_group) / count
        centred = input - mean.reshape(shape)
        var = all_reduce((centred * centred).sum(dims), group=self.process_group) / count
        out = centred * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.running_mean is not None:
            with no_grad():
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                unbiased = var.detach() * (count / max(count - 1.0, 1.0))
                self.running_var.mul_(1 - factor).add_(unbiased * factor)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Return ``module`` with every ``BatchNorm*D`` layer replaced by a :class:`SyncBatchNorm` (same state)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                      module.track_running_stats, process_group)
            with no_grad():
                if module.affine:
                    converted.weight = module.weight
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.train(module.training)
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


