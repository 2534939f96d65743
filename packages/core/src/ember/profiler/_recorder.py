"""The one place ember's ops are timed: while a profiler records, ``Primitive.apply`` (every op's forward),
``Function.apply`` (fused and custom functions) and ``BackwardNode.apply`` (every backward) are wrapped
with a timer; otherwise they are untouched,
so profiling costs nothing when it is off."""

from __future__ import annotations

import threading
import time

from ..autograd import function as _function
from ..tensor import Tensor
from ._events import EventList, FunctionEvent

_lock = threading.Lock()
_active: list = []  # recorders currently collecting
_originals: dict = {}
_clock = time.perf_counter_ns


class Recorder:
    """Collects the events of one profiling session."""

    def __init__(self, record_shapes=False):
        self.record_shapes = record_shapes
        self.events = EventList()
        self._stack = threading.local()
        self._next = 0
        self.t0 = _clock()

    def begin(self, name, args=(), user=False):
        shapes = None
        if self.record_shapes:
            shapes = [list(a.shape) if isinstance(a, Tensor) else [] for a in args]
        self._next += 1
        ev = FunctionEvent(name, (_clock() - self.t0) / 1000.0, threading.get_ident(), shapes, user, self._next)
        stack = getattr(self._stack, "s", None)
        if stack is None:
            stack = self._stack.s = []
        stack.append(ev)
        return ev

    def end(self, ev):
        ev.end_us = (_clock() - self.t0) / 1000.0
        stack = self._stack.s
        if stack and stack[-1] is ev:
            stack.pop()
        if stack:
            stack[-1].children_us += ev.cpu_time_total
        self.events.append(ev)


def _timed_forward(original):
    def apply(cls, *args, **kwargs):
        recs = list(_active)
        evs = [r.begin(cls.__name__, args) for r in recs]
        try:
            return original.__func__(cls, *args, **kwargs)
        finally:
            for r, ev in zip(recs, evs):
                r.end(ev)

    return classmethod(apply)


def _timed_backward(original):
    def apply(self, grads, create_graph=False):
        recs = list(_active)
        evs = [r.begin(type(self).__name__, ()) for r in recs]
        try:
            return original(self, grads, create_graph)
        finally:
            for r, ev in zip(recs, evs):
                r.end(ev)

    return apply


def start(recorder):
    with _lock:
        if not _active:
            _originals["fwd"] = _function.Primitive.__dict__["apply"]
            _originals["fn"] = _function.Function.__dict__["apply"]
            _originals["bwd"] = _function.BackwardNode.__dict__["apply"]
            _function.Primitive.apply = _timed_forward(_originals["fwd"])
            _function.Function.apply = _timed_forward(_originals["fn"])
            _function.BackwardNode.apply = _timed_backward(_originals["bwd"])
        _active.append(recorder)


def stop(recorder):
    with _lock:
        if recorder in _active:
            _active.remove(recorder)
        if not _active and _originals:
            _function.Primitive.apply = _originals.pop("fwd")
            _function.Function.apply = _originals.pop("fn")
            _function.BackwardNode.apply = _originals.pop("bwd")


def active():
    return list(_active)
