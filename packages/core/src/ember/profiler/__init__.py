"""``ember.profiler``: where the time goes, op by op (PyTorch's ``torch.profiler``).

``with profile() as prof:`` records every ember op run inside (forward and backward, named after the
primitive: ``MatMul``, ``MatMulBackward0``, ...) and every :class:`record_function` range, with wall-clock
CPU times; ``prof.key_averages().table(sort_by="cpu_time_total")`` summarizes them and
``prof.export_chrome_trace(path)`` writes a trace for chrome://tracing or Perfetto. GPU (CuPy) work is
asynchronous: an op's CPU time is its launch time unless the code synchronizes.
"""

from __future__ import annotations

import enum
import functools
import os
import socket
import time

from . import _recorder
from ._events import EventList, FunctionEvent, FunctionEventAvg

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction", "ProfilerActivity", "profile",
           "record_function", "schedule", "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    PrivateUse1 = 4


def supported_activities():
    from .. import backend

    return {ProfilerActivity.CPU} | ({ProfilerActivity.CUDA} if backend.cuda_available() else set())


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A step -> :class:`ProfilerAction` function: skip ``skip_first`` steps, then cycles of ``wait`` idle,
    ``warmup`` and ``active`` recorded steps (``repeat`` cycles; 0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def schedule_fn(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        mod = step % cycle
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _default_schedule(_step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` handler writing each trace as ``<worker>.<time>.pt.trace.json`` in ``dir_name``."""

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil

            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)

    return handler


class profile:
    """Record ember's ops (and :class:`record_function` ranges) run inside the ``with`` block.

    Args:
        activities: :class:`ProfilerActivity` values (CPU times are recorded in every case).
        schedule: a step -> :class:`ProfilerAction` function (see :func:`schedule`); ``step()`` advances it.
        on_trace_ready: called with the profiler at the end of each recorded cycle.
        record_shapes (bool): keep the input shapes of each op (``key_averages(group_by_input_shape=True)``).
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule or _default_schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self._recorder = None
        self._last = EventList()
        self._action = ProfilerAction.NONE

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _begin(self):
        if self._recorder is None:
            self._recorder = _recorder.Recorder(self.record_shapes)
            _recorder.start(self._recorder)

    def _finish(self, save):
        if self._recorder is not None:
            _recorder.stop(self._recorder)
            self._last = self._recorder.events
            self._recorder = None
            if save and self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def _transition(self, action):
        recording = action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if recording:
            self._begin()
        self._action = action

    def start(self):
        self.step_num = 0
        self._transition(self.schedule(0))

    def stop(self):
        self._finish(save=self._recorder is not None)

    def step(self):
        """Mark the end of a training step (advances the schedule)."""
        if self._action == ProfilerAction.RECORD_AND_SAVE:
            self._finish(save=True)
        self.step_num += 1
        self._transition(self.schedule(self.step_num))

    def events(self):
        return self._recorder.events if self._recorder is not None else self._last

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events summed by name (and input shapes)."""
        return self.events().key_averages(group_by_input_shape)

    def export_chrome_trace(self, path):
        """Write the recorded events as a Chrome trace (JSON)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("ember's profiler does not record stacks")


class record_function:
    """Time the enclosed code as one range named ``name`` (a context manager or a decorator)."""

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._events = []

    def __enter__(self):
        self._events = [(r, r.begin(self.name, (), user=True)) for r in _recorder.active()]
        return self

    def __exit__(self, *exc):
        for r, ev in reversed(self._events):
            r.end(ev)
        self._events = []

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapper
