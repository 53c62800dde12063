"""Small helpers shared by the op families: input conversion and shape checks."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dtypes import as_array
from ..errors import ShapeError
from ..tensor import Tensor


def shape_of(x) -> tuple:
    """Shape of a Tensor, ndarray or Python scalar."""
    if isinstance(x, (Tensor, np.ndarray)):
        return x.shape
    return np.shape(x)


def data_of(x) -> np.ndarray:
    """The ndarray behind ``x``: a Tensor's ``.data``, anything else through ``np.asarray``."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def check_broadcast(op: str, *operands) -> tuple:
    """The broadcast shape of the operands, or ShapeError naming the op and shapes."""
    shapes = [shape_of(x) for x in operands]
    first = shapes[0]
    if all(s == first for s in shapes):
        return first
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together") from None


def apply_or_forward(op: type[Function], *inputs, **params):
    """``op`` as a gradient rule calls it: recorded (``op.apply``) when an input is a Tensor, as when
    the rule runs on Tensors for a higher derivative; otherwise ``op.forward`` on the ndarrays,
    with no graph node."""
    if any(isinstance(x, Tensor) for x in inputs):
        return op.apply(*inputs, **params)
    return op.forward(op(), *inputs, **params)


def float_array(x):
    """Tensors pass through; anything else becomes an array (floats as float32)."""
    return x if isinstance(x, Tensor) else as_array(x)


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    """A non-negative axis index, or NumPy's ``AxisError`` (a ValueError and an IndexError)
    naming the op, the axis and ndim."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim, op)
    return axis % ndim


def normalize_axes(axis, ndim: int, op: str):
    """None, or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axes = tuple(sorted(normalize_axis(a, ndim, op) for a in axis))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return axes
