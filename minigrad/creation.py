"""Functions that create tensors: ``tensor`` (copies), ``from_numpy`` (shares), ``zeros``,
``ones``, ``full``, ``arange``, ``randn``, ``rand`` and the ``*_like`` variants.

Shapes are given as a tuple or as varargs: ``zeros((2, 3))`` or ``zeros(2, 3)``.
Random tensors draw from the generator seeded by ``minigrad.manual_seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import DEFAULT_FLOAT, as_array
from .rng import default_generator
from .tensor import Tensor


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"shape must be ints or one tuple of ints, got {shape!r}")  # 2.5 is not a size
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _dtype(dtype: Any) -> np.dtype:
    return DEFAULT_FLOAT if dtype is None else np.dtype(dtype)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (list, scalar, ndarray or Tensor), as
    ``torch.tensor``: later changes to either side are not shared (``from_numpy`` shares).

    Python floats become float32, Python ints int64; an ndarray keeps its dtype unless
    ``dtype`` is given.
    """
    source = data.data if isinstance(data, Tensor) else data
    array = as_array(source, dtype)
    if not isinstance(source, (list, tuple, int, float, complex)) and np.may_share_memory(array, source):
        array = np.array(array, order="C")
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype (no copy), as ``torch.from_numpy``:
    changes through either side are seen by both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: arrays of dtype {array.dtype} are not supported (numeric or bool only)")
    return Tensor(array)


def zeros(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 by default)."""
    return Tensor(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 by default)."""
    return Tensor(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def empty(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (float32 by default)."""
    return Tensor(np.empty(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; without ``dtype`` the value decides
    (bool -> bool, int -> int64, float -> float32)."""
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = np.bool_
        elif isinstance(fill_value, (int, np.integer)):
            dtype = np.int64
        else:
            dtype = DEFAULT_FLOAT
    shape = _shape(shape if isinstance(shape, (tuple, list)) else (shape,))
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); int64 when all arguments are ints, else float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return Tensor(np.arange(start, stop, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start: float, stop: float, num: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive."""
    return Tensor(np.linspace(start, stop, num, dtype=_dtype(dtype)), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An identity matrix (n, m)."""
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the library generator."""
    data = default_generator().standard_normal(_shape(shape)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the library generator."""
    data = default_generator().random(_shape(shape)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, shape=(), dtype: Any = np.int64) -> Tensor:
    """Integers in [low, high) from the library generator."""
    if high is None:
        low, high = 0, low
    return Tensor(default_generator().integers(low, high, size=_shape(shape if isinstance(shape, (tuple, list)) else (shape,)), dtype=dtype))


def _like(t, dtype):
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return data.shape, (data.dtype if dtype is None else np.dtype(dtype))


def zeros_like(t, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and (unless given) dtype."""
    shape, dtype = _like(t, dtype)
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and (unless given) dtype."""
    shape, dtype = _like(t, dtype)
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def full_like(t, fill_value, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with ``t``'s shape and (unless given) dtype."""
    shape, dtype = _like(t, dtype)
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def randn_like(t, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``t``'s shape and (unless given) dtype."""
    shape, dtype = _like(t, dtype)
    return Tensor(default_generator().standard_normal(shape).astype(dtype), requires_grad=requires_grad)
