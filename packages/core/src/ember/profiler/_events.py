"""Recorded events and their summaries (PyTorch's ``EventList`` / ``FunctionEventAvg``)."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict


class FunctionEvent:
    """One timed call: an op (a primitive's forward or backward) or a ``record_function`` range."""

    __slots__ = ("name", "start_us", "end_us", "thread", "input_shapes", "children_us", "is_user_annotation", "id")

    def __init__(self, name, start_us, thread, input_shapes, is_user_annotation, id):
        self.name, self.start_us, self.end_us, self.thread = name, start_us, start_us, thread
        self.input_shapes, self.children_us, self.is_user_annotation, self.id = input_shapes, 0.0, is_user_annotation, id

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    self_cpu_time_total = property(lambda self: self.cpu_time_total - self.children_us)
    count = 1

    def __repr__(self):
        return f"<FunctionEvent name={self.name} cpu_time_total={self.cpu_time_total:.3f}us>"


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped by them) added up."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0
        self.is_user_annotation = False
        self.device_time_total = self.self_device_time_total = 0.0

    def add(self, ev):
        self.count += 1
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.is_user_annotation = ev.is_user_annotation
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    cuda_time = device_time = property(lambda self: 0.0)

    def __repr__(self):
        return f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us " \
               f"cpu_time={self.cpu_time_total:.3f}us count={self.count}>"


def _fmt_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class EventList(list):
    """A list of events with PyTorch's summaries: :meth:`key_averages`, :meth:`table`, :meth:`export_chrome_trace`."""

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups: OrderedDict = OrderedDict()
        for ev in self:
            shapes = str(ev.input_shapes) if group_by_input_shape else None
            k = (ev.key, shapes)
            if k not in groups:
                groups[k] = FunctionEventAvg(ev.key, ev.input_shapes if group_by_input_shape else None)
            groups[k].add(ev)
        return EventList(groups.values())

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None, top_level_events_only=False,
              **kwargs):
        """A text table of the events (name, self and total CPU time, average, number of calls)."""
        rows = list(self)
        if sort_by is not None and sort_by not in ("cpu_time_total", "self_cpu_time_total", "cpu_time", "count",
                                                  "cuda_time_total", "self_cuda_time_total", "device_time_total",
                                                  "self_device_time_total", "cpu_memory_usage",
                                                  "self_cpu_memory_usage"):
            raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
        if sort_by is not None:
            rows.sort(key=lambda e: getattr(e, sort_by, 0.0), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        show_shapes = any(getattr(e, "input_shapes", None) for e in rows) and any(
            isinstance(e, FunctionEventAvg) and e.input_shapes is not None for e in rows)
        names = [e.key if len(e.key) <= max_name_column_width else e.key[: max_name_column_width - 3] + "..."
                 for e in rows]
        width = max([len("Name")] + [len(n) for n in names]) + 2
        heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        if show_shapes:
            heads.append("Input Shapes")
        widths = [width] + [14] * 6 + ([40] if show_shapes else [])
        line = "  ".join("-" * w for w in widths)

        def fmt(cells):
            return "  ".join(str(c).rjust(w) for c, w in zip(cells, widths))

        out = [line, fmt(heads), line]
        for n, e in zip(names, rows):
            cells = [n, f"{100 * e.self_cpu_time_total / total:.2f}%", _fmt_time(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / total:.2f}%", _fmt_time(e.cpu_time_total),
                     _fmt_time(e.cpu_time_total / max(e.count, 1)), e.count]
            if show_shapes:
                cells.append(str(e.input_shapes or [])[:40])
            out.append(fmt(cells))
        out.append(line)
        out.append(f"Self CPU time total: {_fmt_time(self.self_cpu_time_total)}")
        return "\n".join(out) + "\n"

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """Write the events in the Chrome trace format (chrome://tracing, Perfetto)."""
        pid = os.getpid()
        events = []
        for ev in self:
            if not isinstance(ev, FunctionEvent):
                raise ValueError("export_chrome_trace needs the raw events, not key averages")
            events.append({
                "ph": "X", "cat": "user_annotation" if ev.is_user_annotation else "cpu_op", "name": ev.name,
                "pid": pid, "tid": ev.thread, "ts": ev.start_us, "dur": ev.cpu_time_total,
                "args": {"Input Dims": ev.input_shapes or [], "External id": ev.id},
            })
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)


_tls = threading.local()
