"""``DistributedDataParallel``: one model replica per rank, gradients averaged across ranks during backward."""

from __future__ import annotations

import contextlib

import numpy as np

from ... import backend
from ... import distributed as dist
from ...autograd import engine
from ...autograd.function import PostAccumulateGradHook
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..module import Module


# a parameter this large is all-reduced alone, in place in its .grad: copying it into a bucket and back would
# cost about as much memory traffic as the all-reduce itself
_SOLO_BYTES = 1 << 20
# dtypes MPI reduces natively; others (float16, bfloat16) go through dist.all_reduce, which widens them
_MPI_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _pack(grads, sizes, buf):
    """The gradients flattened one after another into ``buf`` (zeros where a parameter has none)."""
    offset = 0
    for g, n in zip(grads, sizes):
        if g is None:
            buf[offset:offset + n] = 0
        else:
            buf[offset:offset + n] = g.reshape(-1)
        offset += n
    return buf


class _Bucket:
    """Parameters whose gradients are all-reduced together: one parameter's .grad in place, or several copied
    into one flat buffer that is kept from step to step.

    On the MPI fast path (``fast``: CPU float32/float64 parameters, mpi backend) each gradient is divided by
    the world size as soon as it is accumulated, while it is still in cache: in place in a one-parameter
    bucket, or into its slot of the flat buffer (the copy and the division in one pass; ``views``: the slots
    in the parameters' shapes); the all-reduce then sums the averaged parts, as PyTorch's DDP divides before
    reducing. Other buckets are packed when full and averaged while being copied back."""

    __slots__ = ("params", "sizes", "offsets", "pending", "work", "flat", "buffer", "views", "inplace", "filled",
                 "fast", "prescaled")

    def __init__(self, params, fast):
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(int).tolist()
        self.pending = len(params)
        self.work = None
        self.flat = None  # what is being reduced this step (a Tensor on the slow path)
        self.fast = fast
        # the reused flat array of a multi-parameter fast bucket (made when first needed otherwise)
        self.buffer = self.views = None
        if fast and len(params) > 1:
            self.make_buffer()
        self.inplace = False
        self.filled = [False] * len(params)  # which slots hold this step's averaged gradient (fast path)
        self.prescaled = False  # a one-parameter bucket's .grad was divided before it was accumulated

    def make_buffer(self):
        self.buffer = np.empty(sum(self.sizes), dtype=self.params[0]._data.dtype)
        self.views = [self.buffer[o:o + n].reshape(p.shape) for p, o, n in zip(self.params, self.offsets, self.sizes)]


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model on every rank and train as usual.

    At construction, rank 0's parameters and buffers are broadcast to all ranks. During ``backward`` the
    gradients are grouped into buckets of about ``bucket_cap_mb`` (in reverse parameter order, the order
    backward produces them); each bucket is all-reduced as soon as all its gradients are accumulated, and
    the averaged gradients are in every ``.grad`` when ``backward`` returns. Inside :meth:`no_sync` gradients
    only accumulate locally; the first backward after it averages the accumulated sum. With
    ``gradient_as_bucket_view=True`` the gradients of the parameters sharing a bucket become views of it (no
    copy back after the all-reduce; a following backward accumulates into the bucket). ``state_dict`` keys
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
        self._world = dist.get_world_size(self.process_group)
        self._slot_of = {}  # id(param) -> (its bucket, its index there)
        for bucket in self._buckets:
            for i, p in enumerate(bucket.params):
                self._slot_of[id(p)] = (bucket, i)
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._prescale_handles = [b.params[0].register_hook(self._prescale_hook(b)) for b in self._buckets
                                  if b.fast and len(b.params) == 1 and self._world > 1]
        self._finalize_queued = False
        self._buffer_bytes = None  # the reused byte buffer of _broadcast_buffers

    # --- construction ---
    def _sync_module_states(self):
        with no_grad():
            for t in list(self.module.parameters()) + [b for b in self.module.buffers() if b is not None]:
                dist.broadcast(t, dist.get_global_rank(self.process_group, 0) if self.process_group else 0,
                               group=self.process_group)

    def _make_buckets(self, params):
        mpi = dist._state.resolve(self.process_group).name() == "mpi"

        def bucket(ps):
            fast = mpi and ps[0]._data.dtype in _MPI_DTYPES and isinstance(ps[0]._data, np.ndarray)
            return _Bucket(ps, fast)

        buckets, current, size, dtype = [], [], 0, None
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            if nbytes >= _SOLO_BYTES:
                buckets.append(bucket([p]))
                continue
            if current and (size + nbytes > self.bucket_bytes_cap or p.dtype != dtype):
                buckets.append(bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
            dtype = p.dtype
        if current:
            buckets.append(bucket(current))
        return buckets

    # --- forward ---
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training:
            self._broadcast_buffers()
        if self.require_backward_grad_sync:
            self._reset_buckets()
        return self.module(*inputs, **kwargs)

    def _broadcast_buffers(self):
        """Rank 0's buffers to every rank: CPU buffers in one broadcast of their bytes packed together (one
        collective per buffer, or per dtype, would cost a round trip each, for BatchNorm's many small
        statistics); others one by one through ``dist.broadcast``."""
        src = dist.get_global_rank(self.process_group, 0) if self.process_group else 0
        host, other = [], []
        for b in self.module.buffers():
            if b is not None:
                (host if isinstance(b._data, np.ndarray) else other).append(b)
        pg = dist._state.resolve(self.process_group)
        if pg.name() != "mpi":  # NCCL: every buffer through its own broadcast
            host, other = [], other + host
        with no_grad():
            for b in other:
                dist.broadcast(b, src, group=self.process_group)
        if not host:
            return
        sizes = [b._data.nbytes for b in host]
        if self._buffer_bytes is None or self._buffer_bytes.size != sum(sizes):
            self._buffer_bytes = np.empty(sum(sizes), dtype=np.uint8)
        flat = self._buffer_bytes
        root = pg.rank() == 0
        if root:
            offset = 0
            for b, n in zip(host, sizes):
                flat[offset:offset + n] = np.ascontiguousarray(b._data).reshape(-1).view(np.uint8)
                offset += n
        # shapes and dtypes were checked across the ranks by the broadcasts at construction
        dist.Work(pg, "broadcast", [pg.comm.Ibcast(flat, root=0)]).wait()
        if not root:
            offset = 0
            for b, n in zip(host, sizes):
                b._data[...] = flat[offset:offset + n].view(b._data.dtype).reshape(b._data.shape)
                b._bump_version()
                offset += n

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
            bucket.filled = [False] * len(bucket.params)
            bucket.prescaled = False
        self._finalize_queued = False

    def _prescale_hook(self, bucket):
        """Fast path, a one-parameter bucket: a hook that divides the incoming gradient by the world size into a
        new array, which autograd then keeps as the .grad instead of copying the incoming one (its copy, for a
        gradient it does not own, such as a convolution's weight gradient, becomes the division: one pass over
        the gradient saved). Only when the .grad is empty (else the accumulated sum is divided after
        accumulation, in :meth:`_average_into`) and no hook registered after this one would see the division."""
        param = bucket.params[0]
        world = self._world

        def hook(grad):
            if not self.require_backward_grad_sync or param.grad is not None or grad.requires_grad:
                return None
            g = grad._data
            if type(g) is not np.ndarray or g.dtype != param._data.dtype:
                return None
            hooks = param._hooks
            if any(not isinstance(h, PostAccumulateGradHook) for h in hooks[hooks.index(hook) + 1:]):
                return None
            bucket.prescaled = True
            return Tensor._make(np.multiply(g, 1.0 / world, order="C"))  # C order: reduced in place

        return hook

    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            return
        if not self._finalize_queued:
            self._finalize_queued = True
            engine.queue_callback(self._finalize)
        bucket, i = self._slot_of[id(param)]
        if bucket.fast:
            self._average_into(bucket, i)
        bucket.pending -= 1
        # with unused parameters the ranks may finish buckets in different orders: reduce them all at the end
        if bucket.pending == 0 and not self.find_unused_parameters:
            self._launch(bucket)

    def _average_into(self, bucket, i):
        """Fast path: parameter ``i``'s gradient divided by the world size, in place when it is its bucket's
        only one (and its own writable array), else into its slot of the bucket's buffer (zeros without one)."""
        p = bucket.params[i]
        grad = p.grad
        g = grad._data if grad is not None else None
        if g is not None and not isinstance(g, np.ndarray):
            raise RuntimeError(f"DistributedDataParallel: a gradient on {grad.device} for a parameter that was on "
                               "the CPU when the model was wrapped; move the module before wrapping it")
        # multiplying by the reciprocal, as PyTorch's DDP does, is twice as fast as dividing on data in cache
        scale = 1.0 if bucket.prescaled else 1.0 / self._world
        bucket.prescaled = False
        # a leaf's .grad is its own array (autograd copies the incoming one), unless the graph is being kept
        # for double backward, where it may be shared: then it is copied like a small one
        if (len(bucket.params) == 1 and g is not None and g.dtype == p._data.dtype and g.flags.c_contiguous
                and g.flags.writeable and not grad.requires_grad):
            if scale != 1.0:
                np.multiply(g, scale, out=g)
            bucket.flat, bucket.inplace = g, True
        else:
            if bucket.buffer is None:
                bucket.make_buffer()
            slot = bucket.views[i]
            if g is None:
                slot.fill(0)
            elif g is slot:  # gradient_as_bucket_view: accumulated in its slot already
                if scale != 1.0:
                    np.multiply(g, scale, out=g)
            else:
                np.multiply(g, scale, out=slot, casting="unsafe")
            bucket.flat, bucket.inplace = bucket.buffer, False
        bucket.filled[i] = True

    def _launch(self, bucket):
        pg = dist._state.resolve(self.process_group)
        if not bucket.fast:
            # other dtypes, NCCL and device tensors: through dist.all_reduce on a bucket beside the parameters
            self._launch_generic(bucket, [p.grad._data if p.grad is not None else None for p in bucket.params])
            return
        for i, done in enumerate(bucket.filled):  # parameters without a gradient this step (unused ones)
            if not done:
                self._average_into(bucket, i)
        if len(bucket.params) > 1:
            bucket.flat, bucket.inplace = bucket.buffer, False
        # the shapes were checked across the ranks when the parameters were broadcast at construction,
        # so the per-call agreement round trip of dist.all_reduce is skipped here
        req = pg.comm.Iallreduce(dist._mpi.mpi().IN_PLACE, bucket.flat, dist._mpi.mpi().SUM)
        bucket.work = dist.Work(pg, "all_reduce", [req])

    def _launch_generic(self, bucket, grads):
        template = next((g for g in grads if g is not None), None)
        dtype = template.dtype if template is not None else np.dtype(np.float32)
        device = bucket.params[0].device
        with backend.device_guard(device):  # the bucket lives with its parameters (CPU or GPU)
            flat = _pack(grads, bucket.sizes, backend.module_for(device).empty(sum(bucket.sizes), dtype=dtype))
        bucket.inplace = False
        bucket.flat = flat
        bucket.work = dist.all_reduce(Tensor._make(flat), dist.ReduceOp.SUM, group=self.process_group, async_op=True)

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
        world = self._world
        as_view = self.gradient_as_bucket_view
        for bucket in self._buckets:
            bucket.work.wait()
            flat = bucket.flat
            if bucket.inplace:  # the average is already in .grad
                pass
            elif bucket.fast and as_view:  # the gradients become views of their slots: no copy back
                for p, view in zip(bucket.params, bucket.views):
                    if p.grad is None or p.grad._data is not view:
                        p.grad = Tensor._make(view)
            elif bucket.fast:  # averaged before the sum: copy back
                for p, view in zip(bucket.params, bucket.views):
                    if p.grad is None:
                        p.grad = Tensor._make(view.copy())
                    else:
                        np.copyto(p.grad._data, view, casting="unsafe")
            else:  # average while copying back: one pass over the buffer
                xp = backend.module_for(bucket.params[0].device)
                for p, offset, n in zip(bucket.params, bucket.offsets, bucket.sizes):
                    chunk = flat[offset:offset + n].reshape(p.shape)
                    if p.grad is None:
                        p.grad = Tensor._make((chunk / world).astype(p._data.dtype, copy=False))
                    else:
                        xp.divide(chunk, world, out=p.grad._data, casting="unsafe")
            bucket.flat = bucket.work = None

    # --- state ---
    def __getstate__(self):
        raise TypeError("DistributedDataParallel cannot be pickled; save .module.state_dict() instead")
