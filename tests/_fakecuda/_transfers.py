"""Counts of host<->device copies made through the fake CUDA module, with where each came from."""

from __future__ import annotations

import contextlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


class TransferLog:
    """``h2d`` / ``d2h``: copies so far; ``events``: ``(kind, nbytes, "file:line")`` of the latest ones."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.h2d = 0
        self.d2h = 0
        self.events: list = []

    def record(self, kind: str, nbytes: int):
        if kind == "h2d":
            self.h2d += 1
        else:
            self.d2h += 1
        if len(self.events) < 1000:
            self.events.append((kind, int(nbytes), _caller()))

    @contextlib.contextmanager
    def counting(self):
        """``with transfers.counting() as log:`` resets the counts and yields this log."""
        self.reset()
        yield self

    def __repr__(self):
        return f"TransferLog(h2d={self.h2d}, d2h={self.d2h}, events={self.events[:20]!r})"


def _caller() -> str:
    """The first frame outside this package: the line of Ember (or a test) that made the copy."""
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _HERE:
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


transfers = TransferLog()
