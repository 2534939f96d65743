"""One process-wide thread pool for splitting large NumPy work across cores (ufuncs release the GIL).

Used by the optimizers' blocked updates and the fused cross-entropy's row-parallel softmax. The pool is
created on first use, grows when more threads are asked for, and is forgotten in forked children (their
copy of it has no threads).
"""

from __future__ import annotations

import os
import threading

_pool = None
_pool_lock = threading.Lock()


def _forget_pool():
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _get_pool(n):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="ember-worker")
        return _pool


def run_spans(fn, spans):
    """``fn(*span)`` for every span: the first on the calling thread, the others on the pool; returns
    when all are done (re-raising the first error)."""
    if len(spans) <= 1:
        for span in spans:
            fn(*span)
        return
    pool = _get_pool(len(spans) - 1)
    futures = [pool.submit(fn, *span) for span in spans[1:]]
    fn(*spans[0])
    for f in futures:
        f.result()
