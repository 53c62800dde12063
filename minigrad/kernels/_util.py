"""Small argument helpers shared by the kernel dispatch functions (NumPy only)."""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float(kernel: str, name: str, array: np.ndarray) -> None:
    """Raise TypeError unless ``array`` is a float32 or float64 ndarray."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{kernel}: {name} must be a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{kernel}: {name} must be float32 or float64, got {array.dtype}")


def common_float(kernel: str, **arrays: np.ndarray) -> np.dtype:
    """Check every array is float32/float64 and return their NumPy result dtype."""
    for name, array in arrays.items():
        check_float(kernel, name, array)
    return np.result_type(*arrays.values())


def normalize_axis(kernel: str, axis: int, ndim: int) -> int:
    """Return ``axis`` as a non-negative index into ``ndim`` axes or raise ValueError."""
    if ndim == 0:
        raise ValueError(f"{kernel}: expected an array with at least 1 dimension, got a 0-d array")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{kernel}: axis {axis} is out of bounds for an array of {ndim} dimensions")
    return axis + ndim if axis < 0 else axis


def to_rows(x: np.ndarray, axis: int, dtype: np.dtype) -> np.ndarray:
    """View or copy ``x`` as a C-contiguous (R, n) array of ``dtype`` with ``axis`` last.

    ``axis`` must already be normalized. No copy is made when ``x`` is C-contiguous, of
    ``dtype``, and ``axis`` is its last axis.
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
