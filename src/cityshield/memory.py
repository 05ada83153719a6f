"""Giving the heap back to the operating system after a large request.

Ingesting an envelope turns each MB posted into several MB of short-lived Python objects,
allocated in the worker thread's malloc arena. They are freed when the request ends, but
glibc keeps freed memory in its arenas, so without a trim a hub that once took a large
envelope stays that large (measured by ``bench.memory``: "kept per MB").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

TRIM_AFTER_BYTES = 1024 * 1024
"""Bodies at least this large are followed by a trim; smaller ones leave too little to
matter for the ~1 ms a trim costs."""


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (musl, macOS): then trimming is a no-op."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Callable[[int], int] = function
    return trim


def trim_heap() -> None:
    """Return free heap memory in every malloc arena to the OS (after the response)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
