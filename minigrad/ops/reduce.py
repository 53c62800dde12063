"""Reductions over axes (NumPy spelling: ``axis=``, ``keepdims=``) and their gradients.

Every backward first puts the reduced axes back (``_restore``) so the incoming
gradient broadcasts against the input.
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ._util import Tensor, data_of, float_array, normalize_axes
from .elementwise import astype


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

    @staticmethod
    def jvp(ctx, t):
        shape, axes, keepdims = ctx.meta
        return np.sum(t, axis=axes, keepdims=keepdims)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdims=False):
        ctx.meta = (a.shape, axes, keepdims)
        return np.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        return np.broadcast_to(_restore(grad, axes, keepdims) / _count(shape, axes), shape)

    @staticmethod
    def jvp(ctx, t):
        shape, axes, keepdims = ctx.meta
        return np.mean(t, axis=axes, keepdims=keepdims)


def _tie_share(a: np.ndarray, out: np.ndarray, axes) -> np.ndarray:
    """1/k at each of the k elements equal to the extreme ``out`` (kept axes), 0 elsewhere."""
    hit = a == out
    return hit / np.sum(hit, axis=axes, keepdims=True)


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
        return _restore(grad, axes, keepdims) * _tie_share(a, out, axes)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved
        axes, keepdims = ctx.meta
        return np.sum(t * _tie_share(a, out, axes), axis=axes, keepdims=keepdims)


class Max(_Extreme):
    reduce = staticmethod(np.max)


class Min(_Extreme):
    reduce = staticmethod(np.min)


def _divisor(shape: tuple, axes, ddof) -> float:
    """N - ddof, clamped at 0 as NumPy and PyTorch do (0 makes the variance inf, or NaN when empty)."""
    n = _count(shape, axes) - ddof
    return float(n) if n > 0 else 0.0


def _over(x: float, divisor: float) -> float:
    """x / divisor as a Python float (weakly typed, so float32 stays float32), inf for 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(x) / divisor)


def _centered(a: np.ndarray, axes) -> np.ndarray:
    """``a`` minus its mean over ``axes``; an empty ``a`` as it is (its mean would warn)."""
    return a - np.mean(a, axis=axes, keepdims=True) if a.size else a


class Var(Function):
    @staticmethod
    def forward(ctx, a, axes=None, ddof=0, keepdims=False):
        centered = _centered(a, axes)
        divisor = _divisor(a.shape, axes, ddof)
        ctx.save_for_backward(a)
        ctx.meta = (axes, keepdims, divisor)
        with np.errstate(invalid="ignore"):  # 0 * inf: an empty axis has a NaN variance, as in NumPy
            return np.sum(centered * centered, axis=axes, keepdims=keepdims) * _over(1, divisor)

    @staticmethod
    def backward(ctx, grad):
        # d var / d a = 2 (a - mean) / (N - ddof); centred again here, from the saved input
        (a,) = ctx.saved
        axes, keepdims, divisor = ctx.meta
        if a.size == 0:  # an empty gradient of the input's shape, as PyTorch
            return np.zeros_like(a)
        centered = _centered(a, axes)
        with np.errstate(invalid="ignore"):
            return _restore(grad, axes, keepdims) * _over(2, divisor) * centered

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved
        axes, keepdims, divisor = ctx.meta
        centered = _centered(a, axes)
        with np.errstate(invalid="ignore"):
            return np.sum(centered * t, axis=axes, keepdims=keepdims) * _over(2, divisor)


class Std(Function):
    @staticmethod
    def forward(ctx, a, axes=None, ddof=0, keepdims=False):
        out = np.sqrt(Var.forward(ctx, a, axes=axes, ddof=ddof, keepdims=keepdims))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d std / d a = (a - mean) / ((N - ddof) std); 0 where std is 0 (all values equal: a - mean
        # is 0 there too, so a denominator of 1 gives it), as PyTorch and HIPS autograd
        a, out = ctx.saved
        axes, keepdims, divisor = ctx.meta
        if a.size == 0:  # an empty gradient of the input's shape, as PyTorch
            return np.zeros_like(a)
        centered, std = _centered(a, axes), _restore(out, axes, keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _restore(grad, axes, keepdims) * _over(1, divisor) * centered / np.where(std == 0, 1, std)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved
        axes, keepdims, divisor = ctx.meta
        centered = _centered(a, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(centered * t, axis=axes, keepdims=keepdims) * _over(1, divisor) / np.where(out == 0, 1, out)


def _softmax_weights(a: np.ndarray, out: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    """exp(a - logsumexp(a)): the softmax of ``a`` over ``axes``, 0 on rows that are all -inf."""
    out = _restore(out, axes, keepdims)
    gone = np.isneginf(out)
    with np.errstate(invalid="ignore"):
        return np.where(gone, 0, np.exp(a - np.where(gone, 0, out)))


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdims=False):
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)  # rows of -inf stay -inf, not NaN
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        out = out if keepdims else np.squeeze(out, axis=axes)
        ctx.save_for_backward(a, out)
        ctx.meta = (axes, keepdims)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d/da log sum exp(a) = exp(a - out): the softmax of a along the axes
        a, out = ctx.saved
        axes, keepdims = ctx.meta
        return _restore(grad, axes, keepdims) * _softmax_weights(a, out, axes, keepdims)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved
        axes, keepdims = ctx.meta
        return np.sum(_softmax_weights(a, out, axes, keepdims) * t, axis=axes, keepdims=keepdims)


def _reduce(op, a, axis, name, **kw) -> Tensor:
    a = float_array(a)
    axes = normalize_axes(axis, a.ndim, name)
    return op.apply(a, axes=axes, **kw)


@numpy_spelling
def sum(a, axis=None, keepdims: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (int, tuple or None for all); ``dtype`` casts first (a differentiable
    cast between float dtypes), so the sum accumulates in it, as NumPy."""
    if dtype is not None:
        a = astype(float_array(a), dtype)
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
    """Variance over ``axis`` with NumPy's default ``ddof=0`` (biased); ``N - ddof`` is clamped at 0,
    so ``ddof >= N`` gives inf (NaN over an empty axis), as NumPy and PyTorch."""
    return _reduce(Var, a, axis, "var", ddof=ddof, keepdims=keepdims)


@numpy_spelling
def std(a, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation ``sqrt(var(...))``; its gradient is 0 where it is 0 (all values equal)."""
    return _reduce(Std, a, axis, "std", ddof=ddof, keepdims=keepdims)


@numpy_spelling
def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axis``, computed without overflow."""
    a = float_array(a)
    if a.ndim == 0 and axis in (0, -1):  # as softmax: the one axis of a scalar is itself
        axis = None
    return _reduce(LogSumExp, a, axis, "logsumexp", keepdims=keepdims)


def _arg(fn, a, axis, keepdims, name) -> Tensor:
    data = data_of(a)
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
