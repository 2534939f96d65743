"""``GradScaler``: dynamic loss scaling for float16 training, with PyTorch's scale-update rule.

On a GPU the scale, the growth tracker and the inf/NaN flags stay on the device, as in PyTorch: a step reads
one value back to the host (``step`` deciding whether to call the optimizer, per device holding gradients);
``unscale_`` and ``update`` read nothing.
"""

from __future__ import annotations

import warnings

from .. import backend
from ..tensor import Tensor

_READY, _UNSCALED, _STEPPED = 0, 1, 2


def _new_state():
    return {"stage": _READY, "found_inf_per_device": {}}


class GradScaler:
    """Scale a loss before ``backward`` so small float16 gradients don't flush to zero; ``step`` unscales
    the gradients and skips the optimizer step when any is inf/NaN; ``update`` shrinks the scale by
    ``backoff_factor`` after such a step and grows it by ``growth_factor`` after ``growth_interval``
    clean steps in a row."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._enabled and self._device.startswith("cuda") and not backend.cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = float(init_scale)
            self._scale = None  # a 0-dim float32 array on the device of the first scaled output
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = int(growth_interval)
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = {}

    # -- scaling ---------------------------------------------------------------------------------
    def _lazy_init(self, like):
        xp = backend.array_module(like)
        self._scale = xp.full((), self._init_scale, dtype="float32")
        self._growth_tracker = xp.full((), self._init_growth_tracker, dtype="int32")

    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of tensors) multiplied by the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs._data)
            return outputs * Tensor._make(backend.to_device(self._scale, outputs.device))
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _new_state())

    def _unscale_grads(self, optimizer, inv_scale):
        """Multiply the gradients by ``inv_scale`` (a 0-dim float32 array) in place; per device, a 0-dim float32
        array on that device: 1 if any gradient there is inf/NaN, else 0 (computed there, not read back)."""
        found = {}
        inv_on = {}
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse:
                    g = g.coalesce()
                arr = g._data
                xp = backend.array_module(arr)
                dev = str(g.device)
                if dev not in inv_on:
                    inv_on[dev] = backend.to_device(inv_scale, g.device)
                xp.multiply(arr, inv_on[dev], out=arr, casting="unsafe")
                bad = xp.asarray(~xp.isfinite(arr).all(), dtype="float32")
                if dev in found:
                    xp.maximum(found[dev], bad, out=found[dev])
                else:
                    found[dev] = bad
        return found

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place (e.g. before gradient clipping)."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        xp = backend.array_module(self._scale)
        # as PyTorch, on the scale's device: reciprocal in double, then float32
        inv_scale = xp.asarray(xp.reciprocal(self._scale.astype("float64")), dtype="float32")
        state["found_inf_per_device"] = self._unscale_grads(optimizer, inv_scale)
        state["stage"] = _UNSCALED

    def _found_inf_per_device(self, optimizer):
        return {d: float(v) for d, v in self._state(optimizer)["found_inf_per_device"].items()}

    def _combined_found_inf(self, found_arrays):
        """The sum of ``found_arrays`` (0-dim, on any devices) as one 0-dim array on the scale's device."""
        dev = backend.device_of(self._scale)
        total = None
        for v in found_arrays:
            v = backend.to_device(v, dev)
            total = v if total is None else backend.array_module(v).add(total, v)
        return total

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless ``unscale_`` ran) and call ``optimizer.step`` unless a gradient is inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"] and not any(
                p.grad is not None for g in optimizer.param_groups for p in g["params"]):
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        found = state["found_inf_per_device"]
        if not found or not float(self._combined_found_inf(found.values())):  # the step's one read-back
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Set the scale for the next iteration (by the growth/backoff rule, or to ``new_scale``)."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        xp = backend.array_module(self._scale)
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1:
                    raise AssertionError("new_scale should be a single element tensor")
                if new_scale.requires_grad:
                    raise AssertionError("new_scale should not require grad.")
                value = float(new_scale.item())
            else:
                value = float(new_scale)
            self._scale = xp.full((), value, dtype="float32")
        else:
            found = [v for s in self._per_optimizer_states.values() for v in s["found_inf_per_device"].values()]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_on_device(xp, self._combined_found_inf(found) > 0)
        self._per_optimizer_states = {}

    def _update_on_device(self, xp, bad):
        """PyTorch's ``_amp_update_scale_`` with array ops (no read-back): after an inf/NaN, scale *= backoff
        and the tracker restarts; else the tracker counts up and at ``growth_interval`` the scale grows by
        ``growth_factor`` (if the result is finite) and the tracker restarts."""
        scale, tracker = self._scale, self._growth_tracker
        counted = xp.where(bad, 0, tracker + 1).astype("int32")
        grow = counted == self._growth_interval
        grown = (scale * xp.float32(self._growth_factor)).astype("float32")
        kept = xp.where(grow & xp.isfinite(grown), grown, scale)
        self._scale = xp.where(bad, scale * xp.float32(self._backoff_factor), kept).astype("float32")
        self._growth_tracker = xp.where(grow, 0, counted).astype("int32")

    def _check_scale_growth_tracker(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)

    # -- accessors and checkpoints ---------------------------------------------------------------
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``, ``_growth_tracker`` (empty
        when disabled), as PyTorch."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = backend.array_module(self._scale).full((), self._init_scale, dtype="float32")
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = backend.array_module(self._scale).full((), self._init_growth_tracker, dtype="int32")
