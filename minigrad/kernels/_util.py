"""Array-preparing helpers shared by the Numba implementations (NumPy only).

The Numba kernels take C-contiguous arrays of one float dtype and write into preallocated
outputs; these helpers make such arrays without copying when the input already is one.
"""

from __future__ import annotations

import numpy as np


def common_dtype(*arrays: np.ndarray) -> np.dtype:
    """NumPy's result dtype of the arrays (float32 with float64 gives float64)."""
    dtype = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dtype:
            dtype = np.result_type(dtype, a.dtype)
    return dtype


def c_array(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype``: ``a`` itself when it already is one."""
    return a if a.flags.c_contiguous and a.dtype == dtype else np.ascontiguousarray(a, dtype=dtype)


def flat(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` as a C-contiguous 1-D array of ``dtype`` (a view when no copy is needed)."""
    return c_array(a, dtype).reshape(-1)


def positive_axis(axis: int, ndim: int) -> int:
    """``axis`` (already checked to be in [-ndim, ndim)) as an index in [0, ndim)."""
    return axis + ndim if axis < 0 else axis


def to_rows(x: np.ndarray, axis: int, dtype: np.dtype) -> np.ndarray:
    """View or copy ``x`` as a C-contiguous (R, n) array of ``dtype`` with ``axis`` last.

    ``axis`` must be non-negative. No copy is made when ``x`` is C-contiguous, of ``dtype``,
    and ``axis`` is its last axis.
    """
    if axis != x.ndim - 1:
        x = np.moveaxis(x, axis, -1)
    x = np.ascontiguousarray(x, dtype=dtype)
    return x.reshape(-1, x.shape[-1])


def from_rows(y: np.ndarray, moved_shape: tuple, axis: int, ndim: int) -> np.ndarray:
    """Inverse of ``to_rows``: reshape (R, n) back and move the last axis to ``axis``."""
    y = y.reshape(moved_shape)
    if axis != ndim - 1:
        y = np.moveaxis(y, -1, axis)
    return y


def moved_shape(shape: tuple, axis: int) -> tuple:
    """The shape of an array of ``shape`` after moving ``axis`` to the end."""
    return shape[:axis] + shape[axis + 1:] + (shape[axis],)
