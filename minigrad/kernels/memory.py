"""Allocator tuning: keep freed array memory in the process instead of returning it to the OS.

A training step allocates and frees hundreds of short-lived arrays of 0.1-1 MB (activations,
gradients, temporaries). glibc's malloc serves blocks above its mmap threshold (128 KiB at
first, adjusted upwards as blocks are freed) with fresh ``mmap`` pages and gives the top of
the heap back to the OS beyond its trim threshold, so the same memory is unmapped and
faulted in again (zero-filled page by page) on every step. Raising both thresholds lets
freed blocks be reused directly (the gain per training step: benchmarks/RESULTS.md,
"Optimisation log"). Resident memory stays at the step's high-water mark instead of dipping
between steps.

``tune_malloc()`` is called once when ``minigrad`` is imported. It does nothing when
``MINIGRAD_MALLOC_TUNING=0``, when the user already tunes malloc (``GLIBC_TUNABLES``,
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``), or where glibc's ``mallopt`` is
absent (macOS, Windows, musl). Standard library only; NumPy is not touched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

ENV_VAR = "MINIGRAD_MALLOC_TUNING"
MMAP_THRESHOLD = 32 * 2**20  # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 256 * 2**20
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_applied: bool | None = None  # None: not attempted yet


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD,
                force: bool = False) -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if they were set.

    Runs once (later calls return the first result) unless ``force``. Skipped, returning
    False, under the conditions of the module docstring.
    """
    global _applied
    if _applied is not None and not force:
        return _applied
    _applied = False
    if not force and (os.environ.get(ENV_VAR, "1").strip() in ("0", "false", "no", "off")
                      or any(v in os.environ for v in _USER_SETTINGS)):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
    return _applied


def malloc_tuned() -> bool:
    """Whether ``tune_malloc`` changed the allocator's thresholds in this process."""
    return bool(_applied)
