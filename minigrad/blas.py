"""How many threads NumPy's BLAS runs matrix products on, read and set while the process runs.

    >>> import minigrad as mg
    >>> previous = mg.blas.get_num_threads()
    >>> mg.blas.set_num_threads(1)
    True
    >>> mg.blas.get_num_threads()
    1
    >>> mg.blas.set_num_threads(previous)
    True

OpenBLAS, which NumPy's wheels bundle, reads ``OPENBLAS_NUM_THREADS`` once, when it is loaded
(when NumPy is first imported); after that only its own ``openblas_set_num_threads`` changes the
count, and that is what ``set_num_threads`` calls, through ctypes, on the copy of OpenBLAS that
NumPy loaded. With another BLAS (MKL, Accelerate) both functions report that they cannot
(``None`` and ``False``): set the library's environment variable before importing NumPy instead.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import lru_cache

import numpy as np

# OpenBLAS's symbol names: NumPy's wheels use scipy-openblas (64-bit integers, prefixed and
# suffixed); a NumPy built against a system OpenBLAS exports the plain names.
_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _loaded_library_paths() -> list[str]:
    """Paths of the shared libraries this process has loaded whose name says OpenBLAS (Linux),
    else the OpenBLAS files shipped beside NumPy (wheels on other systems)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        if paths:
            return sorted(paths)
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(np.__file__))
    return sorted(glob.glob(os.path.join(root, "numpy*libs", "*openblas*")))


@lru_cache(maxsize=1)
def _openblas() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:
    """(set, get) functions of the OpenBLAS NumPy uses, or None when it uses another BLAS."""
    for path in _loaded_library_paths():
        try:
            lib = ctypes.CDLL(path)  # the already loaded copy: dlopen of a loaded path reuses it
        except OSError:
            continue
        setter = next((getattr(lib, name) for name in _SETTERS if hasattr(lib, name)), None)
        getter = next((getattr(lib, name) for name in _GETTERS if hasattr(lib, name)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
            return setter, getter
    return None


def get_num_threads() -> int | None:
    """The number of threads NumPy's OpenBLAS uses now, or None when NumPy uses another BLAS."""
    functions = _openblas()
    return None if functions is None else int(functions[1]())


def set_num_threads(n: int) -> bool:
    """Run NumPy's BLAS on ``n`` threads from now on; False when NumPy's BLAS is not OpenBLAS."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the thread count must be a positive integer, got {n!r}")
    functions = _openblas()
    if functions is None:
        return False
    functions[0](n)
    return True
