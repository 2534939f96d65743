"""``nn.utils.prune``: zero out parameters with a mask. A pruned ``weight`` becomes the parameter
``weight_orig``, the buffer ``weight_mask`` and the attribute ``weight = weight_orig * weight_mask``,
recomputed before every forward (PyTorch's layout and state_dict keys)."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

from ... import creation
from ... import random as _random
from ...autograd.grad_mode import no_grad

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _validate_amount(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _validate_amount_against(amount, size):
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")


def _n_to_prune(amount, size):
    return amount if isinstance(amount, numbers.Integral) else round(amount * size)


class BasePruningMethod(ABC):
    """A way to compute a mask; ``apply`` attaches it to a module's tensor as a forward pre-hook."""

    _tensor_name: str
    PRUNING_TYPE = "unstructured"

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for tensor ``t`` given the current ``default_mask``."""

    def apply_mask(self, module):
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(dtype=orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        old_method = None
        found = 0
        hooks = [(k, h) for k, h in module._forward_pre_hooks.items()
                 if isinstance(h, BasePruningMethod) and h._tensor_name == name]
        for key, hook in hooks:
            old_method = hook
            del module._forward_pre_hooks[key]
            found += 1
        if found > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                                 "Use a PruningContainer.")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            container = old_method if isinstance(old_method, PruningContainer) else PruningContainer(old_method)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of {module}")
        if old_method is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = creation.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        scores = importance_scores if importance_scores is not None else orig
        with no_grad():
            mask = method.compute_mask(scores, default_mask=default_mask)
        if name + "_mask" in module._buffers:
            module._buffers[name + "_mask"] = mask
        else:
            module.register_buffer(name + "_mask", mask)
        module.__dict__[name] = method.apply_mask(module)
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` with this method's mask applied."""
        scores = importance_scores if importance_scores is not None else t
        mask = self.compute_mask(scores, default_mask=default_mask if default_mask is not None else creation.ones_like(t))
        return t * mask

    def remove(self, module):
        """Make the pruning permanent: ``weight`` becomes a plain parameter holding the masked values."""
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name) and self._tensor_name in module.__dict__:
            del module.__dict__[self._tensor_name]
        orig = module._parameters[self._tensor_name + "_orig"]
        with no_grad():
            orig.copy_(weight)
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        module.register_parameter(self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied in turn to one tensor."""

    def __init__(self, *args):
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):
            args = tuple(args[0])
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._pruning_methods and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer. Found '{method._tensor_name}'")
        if method is not None:
            self._pruning_methods += (method,)
            self._tensor_name = method._tensor_name

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        if method.PRUNING_TYPE == "unstructured":
            keep = default_mask == 1
            new = default_mask.clone()
            partial = method.compute_mask(t[keep], default_mask=default_mask[keep])
            new[keep] = partial.to(new.dtype)
            return new
        if method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim % t.dim()
            others = [d for d in range(t.dim()) if d != dim]
            alive = (default_mask != 0).sum(others) != 0 if others else default_mask != 0
            idx = alive.nonzero().reshape(-1)
            sub_t = t.index_select(dim, idx)
            sub_mask = default_mask.index_select(dim, idx)
            partial = method.compute_mask(sub_t, default_mask=sub_mask)
            new = default_mask.clone()
            new.index_copy_(dim, idx, partial.to(new.dtype))
            return new * default_mask
        return method.compute_mask(t, default_mask=default_mask) * default_mask


class Identity(BasePruningMethod):
    """Keeps everything (a mask of ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _smallest_k_mask(scores, k, default_mask):
    mask = default_mask.clone()
    if k:
        flat = scores.reshape(-1).abs()
        idx = flat.topk(k, largest=False).indices
        mask.reshape(-1)[idx] = 0
    return mask


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` (fraction or count) of the entries, chosen at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        _validate_amount_against(self.amount, t.numel())
        k = _n_to_prune(self.amount, t.numel())
        return _smallest_k_mask(_random.rand(t.shape, dtype=t.dtype), k, default_mask)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zero ``amount`` (fraction or count) of the entries with the smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        _validate_amount_against(self.amount, t.numel())
        return _smallest_k_mask(t, _n_to_prune(self.amount, t.numel()), default_mask)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, keep_idx, default_mask):
    """A mask keeping the slices ``keep_idx`` of ``t`` along ``dim``."""
    mask = creation.zeros_like(default_mask)
    index = [slice(None)] * t.dim()
    index[dim] = keep_idx
    mask[tuple(index)] = 1
    return mask * default_mask


class RandomStructured(BasePruningMethod):
    """Zero ``amount`` of the channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        dim = self.dim % t.dim()
        size = t.shape[dim]
        _validate_amount_against(self.amount, size)
        k = _n_to_prune(self.amount, size)
        keep = _random.rand(size).topk(size - k).indices
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zero ``amount`` of the channels along ``dim`` with the smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        dim = self.dim % t.dim()
        size = t.shape[dim]
        _validate_amount_against(self.amount, size)
        k = _n_to_prune(self.amount, size)
        others = [d for d in range(t.dim()) if d != dim]
        a = t.abs()
        if self.n == float("inf"):
            norms = a.amax(others) if others else a
        elif self.n == "fro" or self.n == 2:
            norms = (a * a).sum(others).sqrt() if others else a
        else:
            norms = (a ** self.n).sum(others) ** (1.0 / self.n) if others else a
        keep = norms.topk(size - k).indices
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune with a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError("mask and default_mask must have the same shape")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Attach an all-ones mask to ``module.<name>`` (the pruning layout without removing anything)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Zero the ``amount`` entries of ``module.<name>`` with the smallest absolute value."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Zero the ``amount`` channels (along ``dim``) of ``module.<name>`` with the smallest L``n`` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the tensors ``(module, name)`` in ``parameters`` together: the method sees them as one vector."""
    from ...ops.joining import cat

    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores = cat([importance_scores.get((m, n), getattr(m, n)).reshape(-1) for m, n in parameters])
    default = cat([getattr(m, n + "_mask", creation.ones_like(getattr(m, n))).reshape(-1) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    with no_grad():
        final = container.compute_mask(scores, default)
    offset = 0
    for module, name in parameters:
        n = getattr(module, name).numel()
        custom_from_mask(module, name, final[offset:offset + n].reshape(getattr(module, name).shape))
        offset += n


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent and drop ``<name>_orig`` / ``<name>_mask``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether any submodule of ``module`` carries a pruning hook."""
    return any(isinstance(h, BasePruningMethod) for m in module.modules() for h in m._forward_pre_hooks.values())


