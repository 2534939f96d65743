"""Random number generation: ``Generator``, ``manual_seed`` and the random tensor factories."""

from __future__ import annotations

import math

import numpy

from . import backend, dtypes
from .autograd.function import Function, Primitive
from .autograd.grad_mode import STATE
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers for one device; seed it with ``manual_seed`` for reproducible runs."""

    def __init__(self, device="cpu"):
        self.device = backend.device(device) if not isinstance(device, backend.device) else device
        self._seed = _DEFAULT_SEED
        self._reset()

    def _reset(self):
        if self.device.type == "cpu":
            self._rng = numpy.random.Generator(numpy.random.PCG64(self._seed))
        else:
            cp = backend.cupy_module()
            with cp.cuda.Device(self.device.index or 0):
                self._rng = cp.random.default_rng(self._seed) if hasattr(cp.random, "default_rng") else cp.random.RandomState(self._seed)

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self._reset()
        return self

    def seed(self) -> int:
        self.manual_seed(int(numpy.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator state as a uint8 tensor (restorable with ``set_state``)."""
        if self.device.type != "cpu":
            raise NotImplementedError("get_state() of a CUDA generator is not supported by ember")
        import pickle

        blob = pickle.dumps(self._rng.bit_generator.state)
        return Tensor._make(numpy.frombuffer(blob, dtype=numpy.uint8).copy())

    def set_state(self, state: Tensor) -> "Generator":
        state_dict = _decode_state(state)
        self._rng.bit_generator.state = state_dict
        return self


def _decode_state(state):
    """Parse a state made by ``get_state``: a dict of ints and strings only (never arbitrary objects)."""
    import pickle

    class _Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            raise pickle.UnpicklingError(f"RNG state may not contain objects ({module}.{name})")

    import io

    data = bytes(backend.to_device(state._data, backend.CPU).astype(numpy.uint8))
    try:
        value = _Restricted(io.BytesIO(data)).load()
    except Exception as exc:
        raise RuntimeError(f"invalid RNG state: {exc}") from None
    if not isinstance(value, dict):
        raise RuntimeError("invalid RNG state")
    return value


_default_generators: dict = {}


def default_generator_for(dev: backend.device) -> Generator:
    key = str(dev)
    gen = _default_generators.get(key)
    if gen is None:
        gen = _default_generators[key] = Generator(dev)
    return gen


default_generator = default_generator_for(backend.CPU)


def manual_seed(seed) -> Generator:
    """Seed every default generator (CPU and CUDA); returns the CPU one."""
    for gen in _default_generators.values():
        gen.manual_seed(seed)
    _pending_seed[0] = int(seed)
    return default_generator


_pending_seed = [None]


def seed() -> int:
    s = default_generator.seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


class _MetaRNG:
    """Draws on the meta device: shapes and dtypes only (no random numbers, no generator state used)."""

    def random(self, shape=None, dtype=numpy.float64):
        from . import _meta

        return _meta.empty(() if shape is None else shape, dtype)

    standard_normal = random

    def integers(self, low, high=None, size=None, dtype=numpy.int64):
        from . import _meta

        return _meta.empty(() if size is None else size, dtype)

    randint = integers

    def poisson(self, lam, size=None):
        from . import _meta

        return _meta.empty(() if size is None else size, numpy.int64)

    def permutation(self, n):
        from . import _meta

        return _meta.empty((int(n),), numpy.int64)


_META_RNG = _MetaRNG()


def _gen(generator, dev):
    if dev.type == "meta":
        return _META_RNG
    if generator is not None:
        if generator.device.type != dev.type:
            raise RuntimeError(
                f"Expected a '{dev.type}' device type for generator but found '{generator.device.type}'"
            )
        return generator._rng
    gen = _default_generators.get(str(dev))
    if gen is None:
        gen = default_generator_for(dev)
        if _pending_seed[0] is not None:
            gen.manual_seed(_pending_seed[0])
    return gen._rng


def _size(size):
    from .creation import _size as size_of

    return size_of(size)


def _dev(device):
    return backend.canonical_device(device) if device is not None else backend.default_device()


def _float_dtype(dtype, kernel, shape=None):
    """The dtype of a sampling factory. Another one is PyTorch's missing-kernel error, except where PyTorch
    skips the kernel for an empty result (``shape`` given: ``randn((2, 0), dtype=torch.int64)`` returns)."""
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not dt.is_floating_point and not (shape is not None and math.prod(shape) == 0):
        raise _no_kernel(kernel, dt)
    return dt


def _no_kernel(kernel, dt):
    from .ops.unary import scalar_type_name

    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(dt.np)}\'')


class _Sample(Function):
    """A sample drawn with tensor parameters joins the graph when a parameter requires grad, as in PyTorch:
    its gradient is zero (the draw is not reparameterised), or an error where PyTorch has no derivative."""

    no_derivative = None  # the ATen op's name where PyTorch records the op but has no derivative for it

    @staticmethod
    def forward(ctx, *params, sample):
        ctx.params = [(p._data.shape, p.dtype) if isinstance(p, Tensor) else None for p in params]
        return sample

    @staticmethod
    def backward(ctx, grad):
        if ctx._fn.no_derivative:
            raise RuntimeError(f"derivative for aten::{ctx._fn.no_derivative} is not implemented")
        return tuple(None if p is None else grad.new_zeros(p[0], dtype=p[1]) for p in ctx.params)


class Normal(_Sample):
    pass


class Bernoulli(_Sample):
    pass


class BernoulliScalarP(_Sample):  # bernoulli(input, p: float)
    no_derivative = "bernoulli"


def _sampled(kind, arr, params, out=None):
    """``arr`` (drawn with ``params``) as the result of the sampling op ``kind`` (a ``_Sample`` class): the one
    place that decides whether a random op's result requires grad."""
    t = Tensor._make(arr)
    if out is not None:
        return _wrap(t._data, False, out)
    if STATE.enabled and any(isinstance(p, Tensor) and p._requires_grad for p in params):
        return kind.apply(*params, sample=t)
    return t


def _wrap(arr, requires_grad, out=None):
    t = Tensor._make(arr)
    if out is not None:
        from .ops.elementwise import _maybe_out

        return _maybe_out(t, out)
    return t.requires_grad_(True) if requires_grad else t


def uniform_array(rng, shape, np_dtype, low=0.0, high=1.0):
    if np_dtype in (numpy.float32, numpy.float64) and isinstance(rng, numpy.random.Generator):
        arr = rng.random(shape, dtype=np_dtype)
    else:
        arr = rng.random(shape).astype(np_dtype)
    if low != 0.0 or high != 1.0:
        arr *= high - low
        arr += low
    return arr


def normal_array(rng, shape, np_dtype, mean=0.0, std=1.0):
    if np_dtype in (numpy.float32, numpy.float64) and isinstance(rng, numpy.random.Generator):
        arr = rng.standard_normal(shape, dtype=np_dtype)
    else:
        arr = rng.standard_normal(shape).astype(np_dtype)
    if std != 1.0:
        arr *= std
    if mean != 0.0:
        arr += mean
    return arr


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Uniform samples from [0, 1) (complex dtypes: real and imaginary parts each uniform, as in PyTorch)."""
    dev = _dev(device if out is None or device is not None else out.device)
    dtype = out.dtype if out is not None and dtype is None else dtype
    dt = dtypes.to_dtype(dtype) if dtype is not None else None
    with backend.device_guard(dev):
        if dt is not None and dt.is_complex:
            pair = uniform_array(_gen(generator, dev), _size(size) + (2,), dt.to_real().np)
            arr = (pair[..., 0] + 1j * pair[..., 1]).astype(dt.np, copy=False)
        else:
            arr = uniform_array(_gen(generator, dev), _size(size), _float_dtype(dtype, "check_uniform_bounds").np)
    return _wrap(arr, requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Standard normal samples (complex dtypes: real and imaginary parts each of variance 1/2, as in PyTorch)."""
    dev = _dev(device if out is None or device is not None else out.device)
    dtype = out.dtype if out is not None and dtype is None else dtype
    dt = dtypes.to_dtype(dtype) if dtype is not None else None
    with backend.device_guard(dev):
        if dt is not None and dt.is_complex:
            pair = normal_array(_gen(generator, dev), _size(size) + (2,), dt.to_real().np, 0.0, 0.5**0.5)
            arr = (pair[..., 0] + 1j * pair[..., 1]).astype(dt.np, copy=False)
        else:
            shape = _size(size)
            arr = normal_array(_gen(generator, dev), shape, _float_dtype(dtype, _normal_kernel(dev), shape).np)
    return _wrap(arr, requires_grad, out)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high); int64 by default.

    Overloads as PyTorch: ``randint(high, size)``, ``randint(low, high, size)``, with keywords too."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError(
            "randint() received an invalid combination of arguments: expected (int high, tuple of ints size) "
            "or (int low, int high, tuple of ints size)"
        )
    if isinstance(size, int):
        raise TypeError("randint(): argument 'size' must be tuple of ints, but found element of type int at pos 0")
    dtype = out.dtype if out is not None and dtype is None else dtype
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dev = _dev(device)
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    with backend.device_guard(dev):
        rng = _gen(generator, dev)
        arr = rng.integers(low, high, size=tuple(size)) if hasattr(rng, "integers") else rng.randint(low, high, size=tuple(size))
    return _wrap(arr.astype(dt.np, copy=False), requires_grad, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    dev = _dev(device)
    dtype = out.dtype if out is not None and dtype is None else dtype
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    with backend.device_guard(dev):
        arr = _gen(generator, dev).permutation(int(n))
    return _wrap(arr.astype(dt.np, copy=False), requires_grad, out)


def _normal_kernel(dev):
    return f"normal_kernel_{dev.type}"


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers (then ``size`` is required)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        return _normal_tensor(mean, std, generator, out)
    if size is None:
        raise TypeError("normal() with scalar mean and std needs a size")
    _check_std(std)
    dev = _dev(device)
    with backend.device_guard(dev):
        shape = _size(size)
        arr = normal_array(_gen(generator, dev), shape, _float_dtype(dtype, _normal_kernel(dev), shape).np, mean, std)
    return _wrap(arr, requires_grad)


def _check_std(std):
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _normal_tensor(mean, std, generator, out):
    """``normal`` with a tensor ``mean`` and/or ``std``: the result has ``mean``'s dtype (``std``'s when only
    it is a tensor) and the broadcast shape of both."""
    from ._errors import broadcast_error
    from .ops._common import checks_values

    ref = mean if isinstance(mean, Tensor) else std
    dev, np_dtype = ref.device, ref._data.dtype
    if dtypes.np_kind(np_dtype) != "f":
        raise _no_kernel(_normal_kernel(dev), ref.dtype)
    shapes = [x._data.shape for x in (mean, std) if isinstance(x, Tensor)]
    err = broadcast_error(shapes) if len(shapes) == 2 else None
    if err is not None:
        raise err
    if isinstance(std, Tensor):
        s = std._data
        if checks_values(backend.array_module(s)) and not bool((s >= 0).all()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        s = s.astype(np_dtype, copy=False)
    else:
        _check_std(std)
        s = std
    m = mean._data.astype(np_dtype, copy=False) if isinstance(mean, Tensor) else mean
    shape = numpy.broadcast_shapes(*shapes)
    with backend.device_guard(dev):
        z = normal_array(_gen(generator, dev), tuple(shape), np_dtype)
    return _sampled(Normal, (z * s + m).astype(np_dtype, copy=False), (mean, std), out)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._data.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._data.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, device=device or input.device)


def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples 1 with probability ``input`` (or ``p``), else 0, in ``input``'s dtype."""
    from .ops._common import checks_values

    dev, arr = input.device, input._data
    if p is None:
        if dtypes.np_kind(arr.dtype) != "f" and arr.size:
            raise _no_kernel(f"bernoulli_tensor_{dev.type}_p_", input.dtype)
        if checks_values(backend.array_module(arr)) and not bool(((arr >= 0) & (arr <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        probs, kind = arr, Bernoulli
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        probs, kind = p, BernoulliScalarP
    with backend.device_guard(dev):
        u = uniform_array(_gen(generator, dev), arr.shape, arr.dtype if dtypes.np_kind(arr.dtype) == "f" else numpy.float32)
    return _sampled(kind, (u < probs).astype(arr.dtype), (input,), out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the rows of ``input`` (non-negative weights), int64."""
    probs = backend.to_device(input._data, backend.CPU).astype(numpy.float64)
    squeeze = probs.ndim == 1
    probs = probs.reshape(-1, probs.shape[-1])
    if (probs < 0).any() or not numpy.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = probs.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > probs.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = _gen(generator, backend.CPU)
    probs = probs / sums
    if replacement:
        cdf = numpy.cumsum(probs, axis=1)
        u = rng.random((probs.shape[0], num_samples))
        out = (u[:, :, None] > cdf[:, None, :]).sum(axis=2)
        out = numpy.minimum(out, probs.shape[1] - 1)
    else:
        # Gumbel-top-k: sampling without replacement in one vectorised pass
        keys = numpy.log(rng.random(probs.shape)) / numpy.where(probs > 0, probs, 1e-300)
        keys = numpy.where(probs > 0, keys, -numpy.inf)
        out = numpy.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(numpy.int64)
    if squeeze:
        out = out[0]
    return Tensor._make(backend.to_device(out, input.device))


_POISSON_LAM_MAX = 9.2233720064847708e18  # NumPy's largest rate; past 2**63 PyTorch's int64 count overflows


def poisson(input, generator=None):
    """Samples from Poisson distributions with the rates in ``input`` (non-negative), in ``input``'s dtype.

    The samples carry no gradient information: like PyTorch, the result requires grad when ``input`` does,
    and its gradient with respect to ``input`` is zero."""
    from .ops.unary import check_tensor, scalar_type_name

    check_tensor(input, "poisson")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"poisson(): argument 'generator' (position 2) must be torch.Generator, not {type(generator).__name__}")
    arr = input._data
    if not (arr.dtype.kind == "f" or arr.dtype is dtypes.BF16_NP):
        kernel = "poisson_cpu" if input.device.type == "cpu" else "poisson_cuda"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type_name(arr.dtype)}'")
    return _Poisson.apply(input, generator)


def _poisson_array(rates, generator, dev):
    xp = backend.array_module(rates)
    lam = rates.astype(numpy.float64)
    if xp is numpy and not bool((lam >= 0).all()):  # NaN fails too; not checked on a GPU (no host sync)
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    overflow = lam >= 2.0**63  # PyTorch's int64 count wraps to its minimum there (inf included)
    lam = xp.where(overflow, 0.0, xp.minimum(lam, _POISSON_LAM_MAX))
    with backend.device_guard(dev):
        counts = _gen(generator, dev).poisson(lam, size=lam.shape)
    out = xp.where(overflow, -(2.0**63), counts.astype(numpy.float64))
    return out.astype(rates.dtype)


class _Poisson(Primitive):
    """Poisson samples; the gradient with respect to the rates is zero (PyTorch's ``PoissonBackward0``)."""

    @staticmethod
    def forward(ctx, input, generator):
        return _poisson_array(input._data, generator, input.device)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad._data)
        return Tensor._make(xp.zeros_like(grad._data)), None


# -- in-place samplers used by nn.init and friends ------------------------------------------------
def _fill_(t, arr):
    from .ops._common import check_inplace

    check_inplace(t)
    xp = backend.array_module(t._data)
    xp.copyto(t._data, arr, casting="unsafe")
    t._version_counter.value += 1
    return t


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U(a, b)."""
    with backend.device_guard(self.device):
        arr = uniform_array(_gen(generator, self.device), self._data.shape, self._data.dtype, a, b)
    return _fill_(self, arr)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std**2)."""
    with backend.device_guard(self.device):
        arr = normal_array(_gen(generator, self.device), self._data.shape, self._data.dtype, mean, std)
    return _fill_(self, arr)


def bernoulli_(self, p=0.5, *, generator=None):
    with backend.device_guard(self.device):
        u = uniform_array(_gen(generator, self.device), self._data.shape, numpy.float32)
    probs = p._data if isinstance(p, Tensor) else p
    return _fill_(self, u < probs)


def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers from [from_, to); ``random_(to)`` draws from [0, to)."""
    if to is None:
        default_top = {2: 2**11, 4: 2**24, 8: 2**53}.get(self._data.itemsize, 2**31) if self._data.dtype.kind == "f" else 2**31
        from_, to = 0, (from_ if from_ else default_top)
    with backend.device_guard(self.device):
        rng = _gen(generator, self.device)
        arr = rng.integers(from_, to, size=self._data.shape) if hasattr(rng, "integers") else rng.randint(from_, to, size=self._data.shape)
    return _fill_(self, arr)


def exponential_(self, lambd=1.0, *, generator=None):
    with backend.device_guard(self.device):
        u = uniform_array(_gen(generator, self.device), self._data.shape, self._data.dtype)
    xp = backend.array_module(self._data)
    return _fill_(self, -xp.log1p(-u) / lambd)


for _name in ("uniform_", "normal_", "bernoulli_", "random_", "exponential_"):
    setattr(Tensor, _name, globals()[_name])
Tensor.bernoulli = bernoulli
Tensor.multinomial = multinomial

__all__ = [
    "Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator",
    "rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like", "bernoulli",
    "multinomial", "poisson",
]
