"""``Optimizer``: the base class of every optimizer (param groups, per-parameter state, state dicts, hooks).

Optimizers update parameters in place on their arrays (``p._data``) with whole-array ufuncs and
``out=`` buffers. On the CPU large tensors are processed in cache-sized blocks (see ``_blockwise``),
which keeps every pass of an update in L2 instead of streaming the whole tensor through memory
once per elementary operation.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import numpy

from .. import backend
from .._parallel import run_spans
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook"]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _Handle:
    """Removable handle for hooks stored in an ``OrderedDict`` (``handle.remove()``)."""

    _next_id = 0

    def __init__(self, store):
        self._store = store
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self):
        self._store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_global_optimizer_pre_hooks: OrderedDict[int, object] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, object] = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register a pre hook common to all optimizers: ``hook(optimizer, args, kwargs) -> None or (args, kwargs)``."""
    handle = _Handle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register a post hook common to all optimizers: ``hook(optimizer, args, kwargs) -> None``."""
    handle = _Handle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return type(obj).__module__.replace("ember", "torch", 1) + "." + type(obj).__qualname__
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def _to_scalar(x):
    """A 1-element tensor option (lr, betas) as a Python number; numbers pass through."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _hooked_step(func):
    """Wrap a subclass's ``step`` so step pre/post hooks run around it."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        self = args[0]
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
        msg = self._sparse_error
        if msg is not None:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and p.grad.is_sparse:
                        raise RuntimeError(msg)
        out = func(*args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class for all optimizers.

    Args:
        params (iterable): an iterable of Tensors, of dicts (parameter groups with per-group
            options), or of ``(name, Tensor)`` pairs.
        defaults (dict): default values of the optimization options (used by groups that do not
            specify them).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _typename(params)
            )
        if not isinstance(params, Iterable):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _typename(params)
            )

        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    # group options that older pickled states may lack, with the values to fill in
    _group_defaults_on_unpickle: dict = {}
    _sparse_error = None  # PyTorch's error for an optimizer that refuses sparse gradients

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:  # options added after the state was pickled
            for key, value in self._group_defaults_on_unpickle.items():
                group.setdefault(key, value)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # -- hooks ------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, called before ``step``."""
        handle = _Handle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None``, called after ``step``."""
        handle = _Handle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, store, hook, prepend):
        handle = _Handle(store)
        store[handle.id] = hook
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend: bool = False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dict -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are replaced by their index in the order of ``param_groups``; the state holds
        references to the live tensors (deep-copy or save it to snapshot)."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {id(p): i for i, p in enumerate(group["params"], start_index) if id(p) not in param_mappings}
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _cast_value(param, value, key=None):
        """A copy of a state tensor on ``param``'s device (and dtype, for floating params; 'step' keeps its own)."""
        from ..ops.conversion import to_device_dtype

        with no_grad():
            if key == "step":
                return to_device_dtype(value, None, None, copy=True)
            dt = param.dtype if param.is_floating_point() else None
            return to_device_dtype(value, param.device, dt, copy=True)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load an optimizer state (as returned by :meth:`state_dict`); tensors are copied and cast to
        their parameter's device and floating dtype."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def _cast(param, value, key=None):
            if isinstance(value, Tensor):
                return Optimizer._cast_value(param, value, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, (str, bytes)):
                return value
            if isinstance(value, Iterable):
                return type(value)(_cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- gradients and steps ----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, else to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    elif p.grad.is_sparse:
                        p.grad.zero_()
                    else:
                        g = p.grad
                        if g.grad_fn is not None:
                            g.detach_()
                        else:
                            g.requires_grad_(False)
                        g._data.fill(0)
                        g._version_counter.value += 1

    def step(self, closure=None):
        """Perform a single optimization step (implemented by subclasses)."""
        raise NotImplementedError

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def add_param_group(self, param_group: dict) -> None:
        """Add a param group to the optimizer's ``param_groups`` (options not given take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        param_set: set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {txt} to the optimizer"
                )
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)


# -- shared helpers for the concrete optimizers -------------------------------------------------------


def _check_common(defaults: dict):
    if defaults.get("differentiable"):
        raise NotImplementedError("ember optimizers do not support differentiable=True (autograd through step())")


def _lr_check(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _new_step(value: float = 0.0) -> Tensor:
    """The per-parameter step counter: a float32 0-dim CPU tensor, as PyTorch keeps it."""
    return Tensor._make(numpy.array(value, dtype=numpy.float32))


def _bump_step(state: dict) -> float:
    """Increment ``state['step']`` in place (float32, like PyTorch) and return its value."""
    st = state["step"]
    if not isinstance(st, Tensor):
        st = state["step"] = _new_step(float(st))
    arr = st._data
    if isinstance(arr, numpy.ndarray):
        numpy.add(arr, numpy.float32(1), out=arr)
        return float(arr)
    arr += 1
    return float(arr.item())


def _zeros_like(p: Tensor) -> Tensor:
    xp = backend.array_module(p._data)
    return Tensor._make(xp.zeros(p._data.shape, dtype=p._data.dtype))


def _touch(p: Tensor):
    """Record an in-place update of ``p`` (autograd's version counter)."""
    p._version_counter.value += 1


_BLOCK = 65536  # elements per block: a few float32 blocks fit in L2 together
_local = threading.local()


def _num_threads() -> int:
    env = os.environ.get("EMBER_OPTIM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(2, os.cpu_count() or 1))


def _scratch(dtype, k):
    """``k`` scratch blocks of ``_BLOCK`` elements for the calling thread (reused across calls)."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = numpy.dtype(dtype).str
    bufs = cache.get(key)
    if bufs is None or len(bufs) < k or bufs[0].size < _BLOCK:
        bufs = cache[key] = [numpy.empty(_BLOCK, dtype=dtype) for _ in range(k)]
    return bufs


def _run_blocks(fn, flats, ntmp, start, stop):
    tmps = _scratch(flats[0].dtype, ntmp)
    for s in range(start, stop, _BLOCK):
        e = min(s + _BLOCK, stop)
        m = e - s
        fn(*[a[s:e] for a in flats], *[t[:m] for t in tmps[:ntmp]])


def _real_view(a):
    """A complex array viewed as real numbers (the imaginary parts interleaved)."""
    if a.dtype.kind != "c":
        return a
    if a.ndim == 0:
        a = a.reshape(1)
    return a.view(a.real.dtype)


def _blockwise(fn, arrays, ntmp: int = 2):
    """Call ``fn(*views, *scratch)`` over matching blocks of the (same-shape) ``arrays``.

    NumPy arrays are walked in ``_BLOCK``-element blocks (several ufunc passes stay in cache), split
    over a few threads for large tensors (ufuncs release the GIL); CuPy or non-contiguous arrays get
    one call over the whole arrays with freshly allocated scratch."""
    if arrays[0].dtype.kind == "c":  # complex tensors are updated as (real, imag) pairs, like view_as_real
        arrays = [_real_view(a) for a in arrays]
    a0 = arrays[0]
    n = a0.size
    if not isinstance(a0, numpy.ndarray) or not all(a.flags.c_contiguous for a in arrays):
        xp = backend.array_module(a0)
        fn(*arrays, *[xp.empty(a0.shape, dtype=a0.dtype) for _ in range(ntmp)])
        return
    flats = [a.reshape(-1) for a in arrays]
    nthreads = _num_threads()
    nblocks = -(-n // _BLOCK)
    if nthreads == 1 or nblocks < 8:
        _run_blocks(fn, flats, ntmp, 0, n)
        return
    per = -(-nblocks // nthreads) * _BLOCK
    run_spans(lambda s, e: _run_blocks(fn, flats, ntmp, s, e), [(s, min(s + per, n)) for s in range(0, n, per)])
