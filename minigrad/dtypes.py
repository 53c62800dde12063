"""dtype aliases and the rules that turn user input into a NumPy dtype.

minigrad's dtypes are NumPy's: ``minigrad.float32 is numpy.float32``.
Python floats and lists of floats become float32 (the library default), lists of
integers become int64, bools become bool; an ndarray keeps its dtype.
"""

from __future__ import annotations

import numpy as np

float32 = np.float32
float64 = np.float64
float16 = np.float16
int32 = np.int32
int64 = np.int64
bool_ = np.bool_

DEFAULT_FLOAT = np.dtype(np.float32)
KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))  # what minigrad.kernels compute in


def is_floating(dtype: np.dtype) -> bool:
    """True for float dtypes, the only ones that can require grad."""
    return np.issubdtype(dtype, np.floating)


def check_kernel_float(op: str, what: str, dtype: np.dtype) -> None:
    """TypeError unless ``dtype`` is float32 or float64, the dtypes the kernels behind ``op``
    run in (``what`` names the argument, e.g. ``"x"``)."""
    if dtype not in KERNEL_FLOATS:
        raise TypeError(f"{op}: {what} must be float32 or float64, got {np.dtype(dtype)}")


def as_array(data, dtype=None) -> np.ndarray:
    """Convert user data to an ndarray following the rules in the module docstring."""
    if dtype is not None:
        dtype = np.dtype(dtype)
    if isinstance(data, np.ndarray):
        return data.astype(dtype, copy=False) if dtype is not None else data
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    try:
        arr = np.asarray(data)
    except ValueError as err:  # a ragged nested list
        raise ValueError(f"tensor: cannot make a tensor of {type(data).__name__} data: {err}") from None
    if arr.dtype.kind in "USV":
        raise TypeError(f"tensor: cannot make a tensor of {type(data).__name__} data (dtype {arr.dtype}); "
                        "tensors hold numbers and booleans")
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype == np.float64:
        return arr.astype(DEFAULT_FLOAT)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    if arr.dtype == object:
        raise TypeError(f"tensor: cannot convert {type(data).__name__} to a tensor (ragged or non-numeric data)")
    return arr
