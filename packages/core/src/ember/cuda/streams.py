"""CUDA streams and events over CuPy's (``ember.cuda.Stream``, ``Event``, ``stream(...)``)."""

from __future__ import annotations

from . import _lazy

__all__ = ["Stream", "ExternalStream", "Event", "StreamContext", "stream", "current_stream", "default_stream",
           "set_stream"]


class Stream:
    """A queue of GPU work (a ``cupy.cuda.Stream``). Work queued on one stream runs in order; work on
    different streams may overlap. ``priority``: lower numbers run first (CUDA's convention)."""

    def __init__(self, device=None, priority=0, *, _cupy_stream=None, _device_index=None):
        if _cupy_stream is None and not _available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        cp = _lazy.cupy()
        if _cupy_stream is None:
            idx = _lazy.check_index(cp, _lazy.device_index(device))
            with cp.cuda.Device(idx):
                _cupy_stream = cp.cuda.Stream(non_blocking=False, priority=priority)
        elif _device_index is None:
            _device_index = cp.cuda.runtime.getDevice()
        self._cupy = _cupy_stream
        self._device_index = idx if _device_index is None else _device_index
        self.priority = priority

    @property
    def device(self):
        from .. import backend

        return backend.device("cuda", self._device_index)

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` (0 for the default stream)."""
        return int(self._cupy.ptr)

    def wait_event(self, event) -> None:
        """Make later work queued on this stream wait until ``event`` has completed."""
        self._cupy.wait_event(event._cupy)

    def wait_stream(self, stream) -> None:
        """Make later work queued on this stream wait for the work queued so far on ``stream``."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one when None) at this point of the stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def query(self) -> bool:
        """True when all work queued on the stream has completed."""
        return bool(self._cupy.done)

    def synchronize(self) -> None:
        """Wait until all work queued on the stream has completed."""
        self._cupy.synchronize()

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and \
            self._device_index == other._device_index

    def __hash__(self):
        return hash((self.cuda_stream, self._device_index))

    def __enter__(self):
        self._ctx = StreamContext(self)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class ExternalStream(Stream):
    """A stream created elsewhere (e.g. by another library), given by its ``cudaStream_t`` address."""

    def __init__(self, stream_ptr, device=None):
        cp = _lazy.cupy()
        idx = _lazy.check_index(cp, _lazy.device_index(device))
        super().__init__(_cupy_stream=cp.cuda.ExternalStream(int(stream_ptr), idx), _device_index=idx)


def _available() -> bool:
    from .. import backend

    return backend.cuda_available()


class Event:
    """A marker in a stream (a ``cupy.cuda.Event``): ``record`` it, then ``synchronize``/``query`` it, make
    another stream ``wait`` for it, or measure ``elapsed_time`` between two events created with
    ``enable_timing=True``."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, external=False):
        if not _available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        cp = _lazy.cupy()
        self._cupy = cp.cuda.Event(block=bool(blocking), disable_timing=not enable_timing,
                                   interprocess=bool(interprocess))
        self.enable_timing = bool(enable_timing)
        self._recorded = False

    def record(self, stream=None) -> None:
        """Record the event on ``stream`` (the current stream when None)."""
        stream = current_stream() if stream is None else stream
        self._cupy.record(stream._cupy)
        self._recorded = True

    def wait(self, stream=None) -> None:
        """Make later work queued on ``stream`` (the current stream when None) wait for this event."""
        stream = current_stream() if stream is None else stream
        stream.wait_event(self)

    def query(self) -> bool:
        """True when the work recorded before the event has completed (or it was never recorded)."""
        return bool(self._cupy.done)

    def synchronize(self) -> None:
        """Wait until the work recorded before the event has completed."""
        self._cupy.synchronize()

    def elapsed_time(self, end_event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded, both timing events)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return float(_lazy.cupy().cuda.get_elapsed_time(self._cupy, end_event._cupy))

    def __repr__(self):
        return f"<torch.cuda.Event enable_timing={self.enable_timing} recorded={self._recorded}>"


class StreamContext:
    """``with ember.cuda.stream(s):``: GPU work in the block is queued on ``s`` (whose device is made current
    for the block). ``None`` makes the block a no-op, on any machine."""

    def __init__(self, stream):
        self.stream = stream
        self._saved = []

    def __enter__(self):
        s = self.stream
        if s is None:
            return None
        cp = _lazy.cupy()
        prev_device = cp.cuda.runtime.getDevice()
        if s._device_index != prev_device:
            cp.cuda.runtime.setDevice(s._device_index)
        prev_stream = cp.cuda.get_current_stream()
        s._cupy.use()
        self._saved.append((prev_device, prev_stream))
        return s

    def __exit__(self, *exc):
        if self.stream is None:
            return False
        cp = _lazy.cupy()
        prev_device, prev_stream = self._saved.pop()
        prev_stream.use()
        if prev_device != cp.cuda.runtime.getDevice():
            cp.cuda.runtime.setDevice(prev_device)
        return False


def stream(stream) -> StreamContext:
    """A context that queues the GPU work of its block on ``stream`` (no-op when ``stream`` is None)."""
    return StreamContext(stream)


def set_stream(stream) -> None:
    """Make ``stream`` the current stream (of its device). Prefer the :func:`stream` context."""
    if stream is not None:
        stream._cupy.use()


def current_stream(device=None) -> Stream:
    """The stream GPU work on ``device`` (the current GPU when None) is queued on now."""
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    with cp.cuda.Device(idx):
        s = cp.cuda.get_current_stream()
    return Stream(_cupy_stream=s, _device_index=idx)


def default_stream(device=None) -> Stream:
    """The default (null) stream of ``device`` (the current GPU when None)."""
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    return Stream(_cupy_stream=cp.cuda.Stream.null, _device_index=idx)
