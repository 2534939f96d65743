"""``DistributedDataParallel``: one model replica per rank, gradients averaged across ranks during backward."""

from __future__ import annotations

import contextlib

import numpy as np

from ... import backend
from ... import distributed as dist
from ...autograd import engine
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    """Parameters whose gradients are all-reduced together, as one flat buffer."""

    __slots__ = ("params", "sizes", "pending", "work", "flat")

    def __init__(self, params):
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.pending = len(params)
        self.work = None
        self.flat = None


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model on every rank and train as usual.

    At construction, rank 0's parameters and buffers are broadcast to all ranks. During ``backward`` the
    gradients are grouped into buckets of about ``bucket_cap_mb`` (in reverse parameter order, the order
    backward produces them); each bucket is all-reduced as soon as all its gradients are accumulated, and
    the averaged gradients are in every ``.grad`` when ``backward`` returns. Inside :meth:`no_sync` gradients
    only accumulate locally; the first backward after it averages the accumulated sum. ``state_dict`` keys
    carry the ``module.`` prefix, as in PyTorch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("Default process group has not been initialized, please make sure to call "
                               "init_process_group.")
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self._sync_module_states()
        self._buckets = self._make_buckets(params)
        self._bucket_of = {}
        for bucket in self._buckets:
            for p in bucket.params:
                self._bucket_of[id(p)] = bucket
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._finalize_queued = False

    # --- construction ---
    def _sync_module_states(self):
        with no_grad():
            for t in list(self.module.parameters()) + [b for b in self.module.buffers() if b is not None]:
                dist.broadcast(t, dist.get_global_rank(self.process_group, 0) if self.process_group else 0,
                               group=self.process_group)

    def _make_buckets(self, params):
        buckets, current, size, dtype = [], [], 0, None
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > self.bucket_bytes_cap or p.dtype != dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
            dtype = p.dtype
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # --- forward ---
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training:
            with no_grad():
                for b in self.module.buffers():
                    if b is not None:
                        dist.broadcast(b, 0 if self.process_group is None
                                       else dist.get_global_rank(self.process_group, 0), group=self.process_group)
        if self.require_backward_grad_sync:
            self._reset_buckets()
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, backward only accumulates gradients locally (no communication)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # --- backward ---
    def _reset_buckets(self):
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None
        self._finalize_queued = False

    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            return
        if not self._finalize_queued:
            self._finalize_queued = True
            engine.queue_callback(self._finalize)
        bucket = self._bucket_of[id(param)]
        bucket.pending -= 1
        # with unused parameters the ranks may finish buckets in different orders: reduce them all at the end
        if bucket.pending == 0 and not self.find_unused_parameters:
            self._launch(bucket)

    def _launch(self, bucket):
        arrays = [p.grad._data.reshape(-1) if p.grad is not None else None for p in bucket.params]
        template = next(a for a in arrays if a is not None) if any(a is not None for a in arrays) else None
        dtype = template.dtype if template is not None else np.dtype(np.float32)
        with backend.device_guard(bucket.params[0].device):  # the bucket lives with its parameters (CPU or GPU)
            flat = backend.module_for(bucket.params[0].device).empty(sum(bucket.sizes), dtype=dtype)
        offset = 0
        for a, n in zip(arrays, bucket.sizes):
            if a is None:
                flat[offset:offset + n] = 0
            else:
                flat[offset:offset + n] = a
            offset += n
        bucket.flat = Tensor._make(flat)
        bucket.work = dist.all_reduce(bucket.flat, dist.ReduceOp.SUM, group=self.process_group, async_op=True)

    def _finalize(self):
        if any(b.pending for b in self._buckets) and not self.find_unused_parameters:
            names = {id(p): n for n, p in self.module.named_parameters()}
            missing = [names.get(id(p), "?") for b in self._buckets if b.pending for p in b.params if p.grad is None]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This "
                "error indicates that your module has parameters that were not used in producing loss. You can "
                "enable unused parameter detection by passing the keyword argument "
                "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`. Parameters "
                f"that did not receive a gradient: {', '.join(missing) or '(unknown)'}")
        for bucket in self._buckets:
            if bucket.work is None:
                bucket.pending = 0
                self._launch(bucket)
        world = dist.get_world_size(self.process_group)
        for bucket in self._buckets:
            bucket.work.wait()
            flat = bucket.flat._data
            flat /= world
            offset = 0
            for p, n in zip(bucket.params, bucket.sizes):
                chunk = flat[offset:offset + n].reshape(p.shape)
                if p.grad is None:
                    p.grad = Tensor._make(chunk.copy())
                else:
                    p.grad._data[...] = chunk
                offset += n
            bucket.flat = bucket.work = None

    # --- state ---
    def __getstate__(self):
        raise TypeError("DistributedDataParallel cannot be pickled; save .module.state_dict() instead")
