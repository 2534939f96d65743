"""The order in which PyTorch's CPU ``sort(stable=False)`` leaves tied elements.

PyTorch sorts with the C++ standard library's introsort (median-of-three quicksort down to runs of 16,
then one insertion sort), which is not stable once a row holds more than 16 elements: which of several
equal values ends where depends on the partitioning steps. The values are the same either way, but a
gradient that flows through the sorted values (quantile, nanquantile) reaches a different element. This
module replays that algorithm on one row's keys to get the same permutation. It is a Python loop, so it is
used only where it can matter: rows longer than 16 that hold ties, on inputs that need a gradient, and
small enough (``MAX_ELEMENTS``) to stay cheap; elsewhere a stable sort gives the same values.
"""

from __future__ import annotations

import math

import numpy

THRESHOLD = 16
MAX_ELEMENTS = 1 << 16


def _less(a, b):
    """PyTorch's ascending comparator: nan is greater than every number."""
    return (a < b) or (a == a and b != b)


def _introsort_order(keys):
    """Indices of ``keys`` (a list of floats) in the order libstdc++'s ``std::sort`` leaves them."""
    n = len(keys)
    v = list(keys)
    ix = list(range(n))

    def swap(i, j):
        v[i], v[j] = v[j], v[i]
        ix[i], ix[j] = ix[j], ix[i]

    def median_to_first(result, a, b, c):
        if _less(v[a], v[b]):
            if _less(v[b], v[c]):
                swap(result, b)
            elif _less(v[a], v[c]):
                swap(result, c)
            else:
                swap(result, a)
        elif _less(v[a], v[c]):
            swap(result, a)
        elif _less(v[b], v[c]):
            swap(result, c)
        else:
            swap(result, b)

    def partition(first, last, pivot):
        while True:
            while _less(v[first], v[pivot]):
                first += 1
            last -= 1
            while _less(v[pivot], v[last]):
                last -= 1
            if not first < last:
                return first
            swap(first, last)
            first += 1

    def sift_down(first, hole, length, val, vi):
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if _less(v[first + child], v[first + child - 1]):
                child -= 1
            v[first + hole], ix[first + hole] = v[first + child], ix[first + child]
            hole = child
        if (length & 1) == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            v[first + hole], ix[first + hole] = v[first + child - 1], ix[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and _less(v[first + parent], val):
            v[first + hole], ix[first + hole] = v[first + parent], ix[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        v[first + hole], ix[first + hole] = val, vi

    def heapsort(first, last):
        length = last - first
        if length >= 2:  # make_heap
            parent = (length - 2) // 2
            while True:
                sift_down(first, parent, length, v[first + parent], ix[first + parent])
                if parent == 0:
                    break
                parent -= 1
        while last - first > 1:  # sort_heap: pop_heap repeatedly
            last -= 1
            val, vi = v[last], ix[last]
            v[last], ix[last] = v[first], ix[first]
            sift_down(first, 0, last - first, val, vi)

    def introsort(first, last, depth):
        while last - first > THRESHOLD:
            if depth == 0:
                heapsort(first, last)
                return
            depth -= 1
            mid = first + (last - first) // 2
            median_to_first(first, first + 1, mid, last - 1)
            cut = partition(first + 1, last, first)
            introsort(cut, last, depth)
            last = cut

    def insertion(first, last, guarded):
        for i in range(first + 1, last):
            val, vi = v[i], ix[i]
            if guarded and _less(val, v[first]):
                v[first + 1:i + 1], ix[first + 1:i + 1] = v[first:i], ix[first:i]
                v[first], ix[first] = val, vi
                continue
            j = i
            while _less(val, v[j - 1]):
                v[j], ix[j] = v[j - 1], ix[j - 1]
                j -= 1
            v[j], ix[j] = val, vi

    if n < 2:
        return ix
    introsort(0, n, 2 * int(math.floor(math.log2(n))))
    if n > THRESHOLD:
        insertion(0, THRESHOLD, True)
        for i in range(THRESHOLD, n):  # unguarded: everything before is no greater than the minimum here
            val, vi = v[i], ix[i]
            j = i
            while _less(val, v[j - 1]):
                v[j], ix[j] = v[j - 1], ix[j - 1]
                j -= 1
            v[j], ix[j] = val, vi
    else:
        insertion(0, n, True)
    return ix


def torch_sort_indices(arr):
    """Ascending sort indices along the last axis of a NumPy float array, in PyTorch's CPU tie order
    where that differs from a stable sort (rows over 16 long with ties), for inputs up to ``MAX_ELEMENTS``."""
    idx = numpy.argsort(arr, axis=-1, kind="stable")
    n = arr.shape[-1] if arr.ndim else 0
    if n <= THRESHOLD or arr.size > MAX_ELEMENTS:
        return idx
    rows = arr.reshape(-1, n)
    srt = numpy.take_along_axis(rows, idx.reshape(-1, n), -1)
    same = (srt[:, 1:] == srt[:, :-1]) | (numpy.isnan(srt[:, 1:]) & numpy.isnan(srt[:, :-1]))
    flat = idx.reshape(-1, n).copy()
    for r in numpy.nonzero(same.any(-1))[0]:
        flat[r] = _introsort_order(rows[r].tolist())
    return flat.reshape(idx.shape)
