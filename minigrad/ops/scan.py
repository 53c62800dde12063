"""Products, running reductions (scans) and sorting along an axis.

- ``prod`` is a Function over one axis at a time; its gradient is the product of the other
  elements (those before times those after: exact with zeros, no division).
- ``cumsum`` is a Function (backward: the reversed cumulative sum).
- ``cumprod`` and ``logcumsumexp`` are compositions: the k-th output reduces the masked row
  ``a[j] for j <= k`` with ``prod`` / ``logsumexp``, so they take O(n^2) memory along the axis and
  inherit those ops' gradients at every order (zeros in cumprod included).
- ``cummax``/``cummin``, ``sort``, ``topk`` gather the input with indices computed from its
  values (``take_along_axis``): the values are differentiable, the indices are int64 tensors
  without a gradient; on ties the gradient goes to the element the index names.

``axis=None`` flattens first, as NumPy (``cumsum``, ``cumprod``, ``sort``, ``argsort``).
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ._util import Tensor, float_array, normalize_axes, normalize_axis
from .reduce import logsumexp
from .shape import reshape, swapaxes, take_along_axis
from .elementwise import where


def _data(a) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _flat_or_axis(a, axis, name: str):
    """(tensor, axis): flattened with axis 0 when ``axis`` is None, as NumPy's scans."""
    a = float_array(a)
    if axis is None:
        return reshape(a, (-1,)), 0
    if a.ndim == 0:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for a 0-d tensor (use axis=None)")
    return a, normalize_axis(axis, a.ndim, name)


def _to_last(a, axis: int):
    """``a`` with ``axis`` swapped to the end (and the same call swaps it back)."""
    return a if axis == a.ndim - 1 else swapaxes(a, axis, -1)


# ---------------------------------------------------------------- prod


def _exclusive_cumprod(last):
    """Along the last axis: 1, a0, a0 a1, ... (the product of the elements before each)."""
    return np.concatenate([np.ones_like(last[..., :1]), np.cumprod(last, axis=-1)[..., :-1]], axis=-1)


def _product_of_others(a, axis: int):
    """For each element, the product of the others along ``axis``: the product of those before
    it times that of those after it (exact with zeros, no division)."""
    last = np.swapaxes(a, axis, -1)
    after = np.flip(_exclusive_cumprod(np.flip(last, -1)), -1)
    return np.swapaxes(_exclusive_cumprod(last) * after, axis, -1)


class Prod(Function):
    """The product over one axis, keeping it (length 1)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.save_for_backward(a)
        ctx.axis = axis
        return np.prod(a, axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * _product_of_others(a, ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved
        return np.sum(t * _product_of_others(a, ctx.axis), axis=ctx.axis, keepdims=True)


@numpy_spelling
def prod(a, axis=None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` (int, tuple or None for all), NumPy's ``prod``; 1 over no elements."""
    a = float_array(a)
    axes = normalize_axes(axis, a.ndim, "prod")
    axes = tuple(range(a.ndim)) if axes is None else axes
    out = a
    for ax in axes:
        out = Prod.apply(out, axis=ax)
    if keepdims:
        return out
    return reshape(out, tuple(s for i, s in enumerate(a.shape) if i not in axes))


# ---------------------------------------------------------------- scans


class Cumsum(Function):
    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # d out_k / d a_i = 1 for k >= i: the cumulative sum from the end
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        return np.cumsum(t, axis=ctx.axis)


@numpy_spelling
def cumsum(a, axis=None) -> Tensor:
    """Running sum along ``axis``; ``axis=None`` flattens first (NumPy)."""
    a, axis = _flat_or_axis(a, axis, "cumsum")
    return Cumsum.apply(a, axis=axis)


def _prefix_rows(a, axis: int, fill: float):
    """(..., n, n) from ``a`` with ``axis`` last: row k holds a[0..k] and ``fill`` after."""
    last = _to_last(a, axis)
    n = last.shape[-1]
    return where(np.tril(np.ones((n, n), dtype=bool)), last[..., None, :], fill)


@numpy_spelling
def cumprod(a, axis=None) -> Tensor:
    """Running product along ``axis``; ``axis=None`` flattens first (NumPy). Exact gradients with zeros."""
    a, axis = _flat_or_axis(a, axis, "cumprod")
    return _to_last(prod(_prefix_rows(a, axis, 1.0), axis=-1), axis)


@numpy_spelling
def logcumsumexp(a, axis: int) -> Tensor:
    """``log(cumsum(exp(a)))`` along ``axis`` without overflow (PyTorch's; ``axis`` is required)."""
    a, axis = _flat_or_axis(a, axis, "logcumsumexp")
    return _to_last(logsumexp(_prefix_rows(a, axis, -np.inf), axis=-1), axis)


def _running_index(values: np.ndarray, axis: int, accumulate) -> np.ndarray:
    """For each position, the index of the latest element equal to the running extreme."""
    running = accumulate(values, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = values.shape[axis]
    positions = np.arange(values.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(values == running, positions, 0), axis=axis)


def _cumulative_extreme(a, axis, accumulate, name: str):
    a, axis = _flat_or_axis(a, axis, name)
    indices = _running_index(_data(a), axis, accumulate)
    return take_along_axis(a, indices, axis), Tensor._make(indices.astype(np.int64), False, None)


@numpy_spelling
def cummax(a, axis: int):
    """(values, indices): the running maximum along ``axis`` and where it is (PyTorch's cummax;
    on ties the latest index). The values carry the gradient to those elements."""
    return _cumulative_extreme(a, axis, np.maximum.accumulate, "cummax")


@numpy_spelling
def cummin(a, axis: int):
    """(values, indices): the running minimum along ``axis``, as ``cummax``."""
    return _cumulative_extreme(a, axis, np.minimum.accumulate, "cummin")


# ---------------------------------------------------------------- sorting


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort (equal elements keep their order, ascending or descending)."""
    return np.argsort(-data if descending else data, axis=axis, kind="stable")


@numpy_spelling
def argsort(a, axis=-1, descending: bool = False) -> Tensor:
    """Indices that sort ``a`` along ``axis`` (int64, no gradient; stable); ``axis=None`` flattens."""
    a, axis = _flat_or_axis(a, axis, "argsort")
    return Tensor._make(_order(_data(a), axis, descending).astype(np.int64), False, None)


@numpy_spelling
def sort(a, axis=-1, descending: bool = False) -> Tensor:
    """The sorted values along ``axis`` (NumPy's ``sort``; ``descending`` as PyTorch), stable;
    ``axis=None`` flattens. For the indices too use ``argsort`` or ``topk``."""
    a, axis = _flat_or_axis(a, axis, "sort")
    return take_along_axis(a, _order(_data(a), axis, descending), axis)


@numpy_spelling
def topk(a, k: int, axis: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002 (torch's name)
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) along ``axis``, in
    sorted order (PyTorch's topk; ``sorted=False`` gives the same order)."""
    a, axis = _flat_or_axis(a, axis, "topk")
    n = a.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of axis {axis}), got {k!r}")
    order = np.take(_order(_data(a), axis, largest), np.arange(k), axis=axis)
    return take_along_axis(a, order, axis), Tensor._make(order.astype(np.int64), False, None)


__all__ = ["prod", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "argsort", "sort", "topk"]
