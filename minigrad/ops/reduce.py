"""Reductions over axes (NumPy spelling: ``axis=``, ``keepdims=``) and their gradients.

Every backward first puts the reduced axes back (``_restore``) so the incoming
gradient broadcasts against the input.
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ._util import Tensor, float_array, normalize_axes


def _restore(grad: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes as length-1 axes so ``grad`` broadcasts to the input."""
    if keepdims or axes is None:  # with axes None the gradient is 0-d and broadcasts as is
        return grad
    return np.expand_dims(grad, axes)


def _count(shape: tuple, axes) -> int:
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axes]))


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdims=False):
        ctx.meta = (a.shape, axes, keepdims)
        return np.sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        return np.broadcast_to(_restore(grad, axes, keepdims), shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdims=False):
        ctx.meta = (a.shape, axes, keepdims)
        return np.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        return np.broadcast_to(_restore(grad, axes, keepdims) / _count(shape, axes), shape)


class _Extreme(Function):
    """max/min: the gradient goes to the extreme elements, split evenly between ties."""

    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, a, axes=None, keepdims=False):
        out = cls.reduce(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.meta = (axes, keepdims)
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        axes, keepdims = ctx.meta
        hit = a == out
        share = hit / np.sum(hit, axis=axes, keepdims=True)
        return _restore(grad, axes, keepdims) * share


class Max(_Extreme):
    reduce = staticmethod(np.max)


class Min(_Extreme):
    reduce = staticmethod(np.min)


class Var(Function):
    @staticmethod
    def forward(ctx, a, axes=None, ddof=0, keepdims=False):
        centered = a - np.mean(a, axis=axes, keepdims=True)
        divisor = _count(a.shape, axes) - ddof
        ctx.save_for_backward(centered)
        ctx.meta = (axes, keepdims, divisor)
        return np.sum(centered * centered, axis=axes, keepdims=keepdims) / divisor

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved
        axes, keepdims, divisor = ctx.meta
        return _restore(grad, axes, keepdims) * (2 / divisor) * centered


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdims=False):
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)  # rows of -inf stay -inf, not NaN
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.meta = (axes, keepdims)
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        axes, keepdims = ctx.meta
        with np.errstate(invalid="ignore"):
            weights = np.where(np.isneginf(out), 0, np.exp(a - out))
        return _restore(grad, axes, keepdims) * weights


def _reduce(op, a, axis, name, **kw) -> Tensor:
    a = float_array(a)
    axes = normalize_axes(axis, a.ndim, name)
    return op.apply(a, axes=axes, **kw)


@numpy_spelling
def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (int, tuple or None for all)."""
    return _reduce(Sum, a, axis, "sum", keepdims=keepdims)


@numpy_spelling
def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _reduce(Mean, a, axis, "mean", keepdims=keepdims)


def _check_nonempty(a, name):
    if a.size == 0:
        raise ValueError(f"{name}: zero-size tensor of shape {a.shape} has no {name}")


@numpy_spelling
def max(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value over ``axis`` (values only; see ``argmax`` for indices)."""
    a = float_array(a)
    _check_nonempty(a, "max")
    return _reduce(Max, a, axis, "max", keepdims=keepdims)


@numpy_spelling
def min(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest value over ``axis`` (values only; see ``argmin`` for indices)."""
    a = float_array(a)
    _check_nonempty(a, "min")
    return _reduce(Min, a, axis, "min", keepdims=keepdims)


@numpy_spelling
def var(a, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` with NumPy's default ``ddof=0`` (biased)."""
    return _reduce(Var, a, axis, "var", ddof=ddof, keepdims=keepdims)


@numpy_spelling
def std(a, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation: ``sqrt(var(...))``."""
    from .elementwise import sqrt

    return sqrt(_reduce(Var, a, axis, "std", ddof=ddof, keepdims=keepdims))


@numpy_spelling
def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axis``, computed without overflow."""
    return _reduce(LogSumExp, a, axis, "logsumexp", keepdims=keepdims)


def _arg(fn, a, axis, keepdims, name) -> Tensor:
    data = a.data if isinstance(a, Tensor) else np.asarray(a)
    if axis is not None:
        normalize_axes(axis, data.ndim, name)
    return Tensor._make(np.asarray(fn(data, axis=axis, keepdims=keepdims), dtype=np.int64), False, None)


@numpy_spelling
def argmax(a, axis=None, keepdims: bool = False) -> Tensor:
    """Indices of the maxima (int64, no gradient); flat index when ``axis`` is None."""
    return _arg(np.argmax, a, axis, keepdims, "argmax")


@numpy_spelling
def argmin(a, axis=None, keepdims: bool = False) -> Tensor:
    """Indices of the minima (int64, no gradient); flat index when ``axis`` is None."""
    return _arg(np.argmin, a, axis, keepdims, "argmin")
