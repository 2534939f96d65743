"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """True when operations record a graph for autograd."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return func(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_GradModeContext):
    """Context manager (and decorator) that disables gradient recording."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # used as @no_grad without parentheses

    def __init__(self, orig_func=None):
        self._prev = None

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class enable_grad(_GradModeContext):
    """Context manager (and decorator) that enables gradient recording inside a no_grad block."""

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = True

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; works as a function call, context manager or decorator."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class inference_mode(_GradModeContext):
    """Like no_grad; tensors made inside are marked as inference tensors."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        if self.mode:
            STATE.enabled, STATE.inference = False, True

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False
