"""Products, running reductions (scans) and sorting along an axis.

- ``prod`` is a Function over one axis at a time; its gradient is the product of the other
  elements (those before times those after: exact with zeros, no division).
- ``cumsum`` is a Function (backward: the reversed cumulative sum).
- ``cumprod`` is a Function, O(n) along the axis: its gradient and jvp are linear recurrences
  over the axis (``LinearRecurrence``, whose own derivatives are recurrences), without division,
  so exact with zeros at every order.
- ``logcumsumexp`` is a Function, O(n) along the axis. Its jvp is the running softmax-weighted
  sum ``sum over i <= k of t_i exp(x_i - y_k)`` and its vjp the transpose ``sum over k >= i of
  dy_k exp(x_i - y_k)``; both are Functions too (each one's derivatives are written with the two),
  computed in log space with the positive and negative parts apart, so no ``exp`` overflows.
- ``cummax``/``cummin``, ``sort``, ``topk`` gather the input with indices computed from its
  values (``take_along_axis``): the values are differentiable, the indices are int64 tensors
  without a gradient; on ties the gradient goes to the element the index names.

``axis=None`` flattens first, as NumPy (``cumsum``, ``cumprod``, ``sort``, ``argsort``).
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ._util import Tensor, apply_or_forward, data_of, float_array, normalize_axes, normalize_axis
from .shape import reshape, take_along_axis


def _flat_or_axis(a, axis, name: str):
    """(tensor, axis): flattened with axis 0 when ``axis`` is None, as NumPy's scans."""
    a = float_array(a)
    if axis is None:
        return reshape(a, (-1,)), 0
    if a.ndim == 0:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for a 0-d tensor (use axis=None)")
    return a, normalize_axis(axis, a.ndim, name)


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


def _linear_recurrence(a: np.ndarray, b: np.ndarray, axis: int, reverse: bool = False) -> np.ndarray:
    """h along ``axis`` with h_k = a_k * h_(k-1) + b_k and h_(-1) = 0 (``reverse``: from the end,
    h_k = a_k * h_(k+1) + b_k). One pass, O(n) memory, no division."""
    a, b = np.broadcast_arrays(a, b)
    h = np.moveaxis(np.array(b, dtype=np.result_type(a, b)), axis, 0)  # h_k starts as b_k
    a = np.moveaxis(a, axis, 0)
    steps = range(len(h) - 2, -1, -1) if reverse else range(1, len(h))
    for k in steps:
        previous = k + 1 if reverse else k - 1
        h[k] += a[k] * h[previous]
    return np.moveaxis(h, 0, axis)


def _shifted(x, axis: int, fill: float, step: int):
    """``x`` moved one position along ``axis`` (``step`` +1: towards the end, -1: towards the
    start), ``fill`` in the vacated place; ndarrays or Tensors."""
    last = np.swapaxes(x, axis, -1)
    pad = np.full_like(last[..., :1], fill)
    moved = np.concatenate([pad, last[..., :-1]] if step > 0 else [last[..., 1:], pad], axis=-1)
    return np.swapaxes(moved, axis, -1)


def _recurrence(a, b, axis: int, reverse: bool = False):
    """``LinearRecurrence`` inside a rule: on ndarrays, or recorded on Tensors (higher derivatives)."""
    return apply_or_forward(LinearRecurrence, a, b, axis=axis, reverse=reverse)


class LinearRecurrence(Function):
    """h = L^-1 b for the recurrence h_k = a_k h_(k-1) + b_k (``reverse``: h_k = a_k h_(k+1) + b_k).
    Its vjp is the recurrence the other way: db = L^-T dh (lambda_k = dh_k + a_(k+1) lambda_(k+1)),
    da_k = db_k h_(k-1); its jvp is the same recurrence on tb + ta * h_(k-1). So its derivatives
    at every order are recurrences too: one pass each, no division."""

    @staticmethod
    def forward(ctx, a, b, axis, reverse):
        h = _linear_recurrence(a, b, axis, reverse)
        ctx.save_for_backward(a, h)
        ctx.meta = (axis, reverse)
        return h

    @staticmethod
    def backward(ctx, grad):
        a, h = ctx.saved
        axis, reverse = ctx.meta
        step = 1 if reverse else -1  # the transpose takes a_(k+1) (reverse: a_(k-1)) at place k
        grad_b = _recurrence(_shifted(a, axis, 0.0, step), grad, axis, not reverse)
        return grad_b * _shifted(h, axis, 0.0, -step), grad_b

    @staticmethod
    def jvp(ctx, ta, tb):
        a, h = ctx.saved
        axis, reverse = ctx.meta
        return _recurrence(a, tb + ta * _shifted(h, axis, 0.0, -1 if reverse else 1), axis, reverse)


class Cumprod(Function):
    """The running product y. With E_i = prod(x_j, j < i) = y_(i-1):
    backward dx_i = E_i R_i, R_i = sum over k >= i of dy_k prod(x_j, i < j <= k), the recurrence
    R_i = dy_i + x_(i+1) R_(i+1); jvp J_k = x_k J_(k-1) + t_k E_k. No division, so exact with
    zeros; written with y and ``LinearRecurrence``, so higher derivatives are exact and O(n) too."""

    @staticmethod
    def forward(ctx, a, axis):
        out = np.cumprod(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        after = _recurrence(_shifted(a, ctx.axis, 0.0, -1), grad, ctx.axis, reverse=True)
        return _shifted(out, ctx.axis, 1.0, 1) * after

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved
        return _recurrence(a, t * _shifted(out, ctx.axis, 1.0, 1), ctx.axis)


@numpy_spelling
def cumprod(a, axis=None) -> Tensor:
    """Running product along ``axis``; ``axis=None`` flattens first (NumPy). Exact gradients with zeros."""
    a, axis = _flat_or_axis(a, axis, "cumprod")
    return Cumprod.apply(a, axis=axis)


# logcumsumexp: y_k = log(sum over i <= k of exp(x_i)). Its jvp and vjp are the two maps
#   P(t)_k = sum over i <= k of t_i exp(x_i - y_k)     (a running softmax-weighted sum)
#   S(d)_i = sum over k >= i of d_k exp(x_i - y_k)     (its transpose)
# Every weight exp(x_i - y_k) with i <= k is at most 1. Each map is computed in log space on the
# positive and the negative part of t (or d) apart, so no exp overflows or underflows to a wrong 0.


def _signed_parts(t):
    """(part, sign) pairs with t = sum of sign * part, each part >= 0, and its log (-inf at 0)."""
    with np.errstate(divide="ignore"):
        return [(np.log(np.maximum(t, 0)), 1.0), (np.log(np.maximum(-t, 0)), -1.0)]


def _prefix_softmax_sum_ref(t: np.ndarray, x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """P(t) on ndarrays of one shape: sum over i <= k of t_i exp(x_i - y_k); 0 where y_k = -inf."""
    out = np.zeros(np.broadcast_shapes(np.shape(t), x.shape), dtype=x.dtype)
    gone = np.isneginf(y)
    for log_part, sign in _signed_parts(t):
        with np.errstate(invalid="ignore"):
            shifted = np.logaddexp.accumulate(log_part + x, axis=axis) - np.where(gone, 0, y)
        out += sign * np.exp(np.where(gone, -np.inf, shifted))
    return out


def _suffix_softmax_sum_ref(d: np.ndarray, x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """S(d) on ndarrays of one shape: sum over k >= i of d_k exp(x_i - y_k); terms with y_k = -inf are 0."""
    out = np.zeros(np.broadcast_shapes(np.shape(d), x.shape), dtype=x.dtype)
    gone = np.isneginf(y)
    for log_part, sign in _signed_parts(d):
        log_terms = np.where(gone, -np.inf, log_part - np.where(gone, 0, y))
        suffix = np.flip(np.logaddexp.accumulate(np.flip(log_terms, axis), axis=axis), axis)
        with np.errstate(invalid="ignore"):
            out += sign * np.exp(np.where(np.isneginf(x), -np.inf, x + suffix))
    return out


class PrefixSoftmaxSum(Function):
    """P(t, x, y)_k = sum over i <= k of t_i exp(x_i - y_k), x and y taken as independent inputs."""

    @staticmethod
    def forward(ctx, t, x, y, axis):
        out = _prefix_softmax_sum_ref(t, x, y, axis)
        ctx.save_for_backward(t, x, y, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        t, x, y, out = ctx.saved
        back = apply_or_forward(SuffixSoftmaxSum, grad, x, y, axis=ctx.axis)  # the transpose: d/dt
        return back, t * back, -grad * out

    @staticmethod
    def jvp(ctx, tt, tx, ty):
        t, x, y, out = ctx.saved
        return apply_or_forward(PrefixSoftmaxSum, tt + t * tx, x, y, axis=ctx.axis) - ty * out


class SuffixSoftmaxSum(Function):
    """S(d, x, y)_i = sum over k >= i of d_k exp(x_i - y_k), the transpose of ``PrefixSoftmaxSum``."""

    @staticmethod
    def forward(ctx, d, x, y, axis):
        out = _suffix_softmax_sum_ref(d, x, y, axis)
        ctx.save_for_backward(d, x, y, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        d, x, y, out = ctx.saved
        forward = apply_or_forward(PrefixSoftmaxSum, grad, x, y, axis=ctx.axis)  # the transpose: d/dd
        return forward, grad * out, -d * forward

    @staticmethod
    def jvp(ctx, td, tx, ty):
        d, x, y, out = ctx.saved
        return apply_or_forward(SuffixSoftmaxSum, td - d * ty, x, y, axis=ctx.axis) + tx * out


class Logcumsumexp(Function):
    @staticmethod
    def forward(ctx, a, axis):
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        return apply_or_forward(SuffixSoftmaxSum, grad, a, out, axis=ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved
        return apply_or_forward(PrefixSoftmaxSum, t, a, out, axis=ctx.axis)


@numpy_spelling
def logcumsumexp(a, axis: int) -> Tensor:
    """``log(cumsum(exp(a)))`` along ``axis`` without overflow (PyTorch's; ``axis`` is required)."""
    a, axis = _flat_or_axis(a, axis, "logcumsumexp")
    return Logcumsumexp.apply(a, axis=axis)


def _running_index(values: np.ndarray, axis: int, accumulate) -> np.ndarray:
    """For each position, the index of the latest element equal to the running extreme."""
    running = accumulate(values, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = values.shape[axis]
    positions = np.arange(values.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(values == running, positions, 0), axis=axis)


def _cumulative_extreme(a, axis, accumulate, name: str):
    a, axis = _flat_or_axis(a, axis, name)
    indices = _running_index(data_of(a), axis, accumulate)
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
    return Tensor._make(_order(data_of(a), axis, descending).astype(np.int64), False, None)


@numpy_spelling
def sort(a, axis=-1, descending: bool = False) -> Tensor:
    """The sorted values along ``axis`` (NumPy's ``sort``; ``descending`` as PyTorch), stable;
    ``axis=None`` flattens. For the indices too use ``argsort`` or ``topk``."""
    a, axis = _flat_or_axis(a, axis, "sort")
    return take_along_axis(a, _order(data_of(a), axis, descending), axis)


@numpy_spelling
def topk(a, k: int, axis: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002 (torch's name)
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) along ``axis``, in
    sorted order (PyTorch's topk; ``sorted=False`` gives the same order)."""
    a, axis = _flat_or_axis(a, axis, "topk")
    n = a.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of axis {axis}), got {k!r}")
    order = np.take(_order(data_of(a), axis, largest), np.arange(k), axis=axis)
    return take_along_axis(a, order, axis), Tensor._make(order.astype(np.int64), False, None)


__all__ = ["prod", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "argsort", "sort", "topk"]
