"""Numba implementations behind ``minigrad.kernels.activations`` (imported on first use).

``softmax`` ... ``gelu_backward`` take the arguments of the public kernels, lay the data out
for the compiled loops and allocate the outputs. Row kernels (``*_rows``) take C-contiguous
2-D arrays (R, n) -- R independent rows of length n >= 1 -- and write into a preallocated
``out`` of the same shape and dtype (float32 or float64); elementwise kernels (``*_flat``)
take flat C-contiguous 1-D arrays.

Short rows (attention scores have n = 10..20) leave LLVM nothing to vectorize within a row,
so the softmax kernels run in passes: a per-row pass (max, shift), one flat pass over all
R * n elements for the exponentials (vectorized, see ``_nbmath.exp``), and a per-row
normalizing pass. Long rows (n >= ``LONG_ROW``) are finished one row at a time instead, each
pass vectorized along the row: the row stays in L1 between its passes, where the whole-array
passes would stream a large input through memory three to five times.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._nbmath import (EXP_FASTMATH, REDUCE_FASTMATH, exp, exp_nonpositive, row_dot, row_dots, row_max, row_maxes, row_sum,
                      row_sums, sigmoid)
from ._nbmath import erf as erf_scalar
from ._util import common_dtype, flat, from_rows, moved_shape, positive_axis, to_rows

_NEG_INF = -np.inf
LONG_ROW = 96  # from this row length on, one row at a time beats whole-array passes


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numba implementation of ``activations.softmax``."""
    return _along_rows(softmax_rows, x, axis)


def softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numba implementation of ``activations.softmax_backward``."""
    return _backward_along_rows(softmax_backward_rows, y, grad, axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numba implementation of ``activations.log_softmax``."""
    return _along_rows(log_softmax_rows, x, axis)


def log_softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numba implementation of ``activations.log_softmax_backward``."""
    return _backward_along_rows(log_softmax_backward_rows, y, grad, axis)


def _along_rows(rows_kernel, x: np.ndarray, axis: int) -> np.ndarray:
    """Run ``rows_kernel(rows, out)`` on the rows of ``x`` along ``axis``."""
    if x.size == 0:
        return np.empty(x.shape, x.dtype)
    if x.ndim and (axis == -1 or axis == x.ndim - 1) and x.flags.c_contiguous:  # the usual case: rows as they lie
        out = np.empty(x.shape, x.dtype)
        n = x.shape[-1]
        rows_kernel(x.reshape(-1, n), out.reshape(-1, n))
        return out
    ax = positive_axis(axis, x.ndim)
    rows = to_rows(x, ax, x.dtype)
    out = np.empty_like(rows)
    rows_kernel(rows, out)
    return from_rows(out, moved_shape(x.shape, ax), ax, x.ndim)


def _backward_along_rows(rows_kernel, y: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """The backward twin of ``_along_rows``: ``rows_kernel(y_rows, grad_rows, out)``."""
    dtype = common_dtype(y, grad)
    if y.size == 0:
        return np.empty(y.shape, dtype)
    if (y.ndim and (axis == -1 or axis == y.ndim - 1) and y.dtype == grad.dtype and y.shape == grad.shape
            and y.flags.c_contiguous and grad.flags.c_contiguous):  # the usual case: rows as they lie
        out = np.empty(y.shape, dtype)
        n = y.shape[-1]
        rows_kernel(y.reshape(-1, n), grad.reshape(-1, n), out.reshape(-1, n))
        return out
    ax = positive_axis(axis, y.ndim)
    y_rows = to_rows(y, ax, dtype)
    out = np.empty_like(y_rows)
    rows_kernel(y_rows, to_rows(grad, ax, dtype), out)
    return from_rows(out, moved_shape(y.shape, ax), ax, y.ndim)


def erf(x: np.ndarray) -> np.ndarray:
    """Numba implementation of ``activations.erf``."""
    x_flat = flat(x, x.dtype)
    out = np.empty_like(x_flat)
    erf_flat(x_flat, out)
    return out.reshape(x.shape)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Numba implementation of ``activations.gelu``."""
    x_flat = flat(x, x.dtype)
    out = np.empty_like(x_flat)
    gelu_flat(x_flat, out, approximate == "tanh")
    return out.reshape(x.shape)


def gelu_backward(x: np.ndarray, grad: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Numba implementation of ``activations.gelu_backward``."""
    dtype = common_dtype(x, grad)
    x_flat = flat(x, dtype)
    out = np.empty_like(x_flat)
    gelu_backward_flat(x_flat, flat(grad, dtype), out, approximate == "tanh", dtype == np.float64)
    return out.reshape(x.shape)


@numba.njit(cache=True, error_model="numpy")
def shift_rows(x, out, m):
    """out[r] = x[r] - m[r] with m[r] = max(x[r]), or 0 for an all -inf row (whose out
    stays -inf). x, out (R, n); m (R,) is written."""
    R, n = x.shape
    zero = x.dtype.type(0)
    row_maxes(x, m)
    for r in range(R):
        mr = m[r]
        if mr == _NEG_INF:
            mr = zero
            m[r] = zero
        for j in range(n):
            out[r, j] = x[r, j] - mr


@numba.njit(cache=True, error_model="numpy", fastmath=EXP_FASTMATH)
def _exp_flat(a, out):
    """out = exp(a) elementwise, a and out distinct flat (P,) arrays."""
    for i in range(a.shape[0]):
        out[i] = exp(a[i])


@numba.njit(cache=True, error_model="numpy", fastmath=EXP_FASTMATH)
def exp_inplace(a):
    """a = exp(a) elementwise, a flat (P,). (Passing one array twice to ``_exp_flat`` makes
    LLVM's runtime alias check fail, and it runs the scalar loop.)"""
    for i in range(a.shape[0]):
        a[i] = exp(a[i])


@numba.njit(cache=True, error_model="numpy", fastmath=EXP_FASTMATH)
def exp_shifted_row(x, r, m, out, ro):
    """out[ro, :] = exp(x[r, :] - m) for m = the row max: one row, vectorized along it (values
    below the smallest normal float are 0, a difference of at most 1.2e-38 from exp)."""
    for j in range(x.shape[1]):
        out[ro, j] = exp_nonpositive(x[r, j] - m)


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def scale_row(a, r, s):
    """a[r, :] *= s."""
    for j in range(a.shape[1]):
        a[r, j] = a[r, j] * s


@numba.njit(cache=True, error_model="numpy")
def softmax_row(x, r, out):
    """out[r, :] = softmax(x[r, :]) for one long row (zeros if all -inf); returns the shift m
    (the row max, 0 for an all -inf row) and the sum s of exp(x[r, :] - m)."""
    zero = x.dtype.type(0)
    m = row_max(x, r)
    if m == _NEG_INF:
        m = zero
    exp_shifted_row(x, r, m, out, r)
    s = row_sum(out, r)
    scale_row(out, r, x.dtype.type(1) / s if s != 0 else zero)
    return m, s


@numba.njit(cache=True, error_model="numpy")
def softmax_rows(x, out):
    """out (R, n) = softmax of each row of x (R, n); an all -inf row gives zeros."""
    R, n = x.shape
    zero = x.dtype.type(0)
    one = x.dtype.type(1)
    if n >= LONG_ROW:
        for r in range(R):
            softmax_row(x, r, out)
        return
    shift_rows(x, out, np.empty(R, x.dtype))
    exp_inplace(out.reshape(-1))
    sums = np.empty(R, x.dtype)
    row_sums(out, sums)
    for r in range(R):
        s = sums[r]
        inv = one / s if s != 0 else zero  # s == 0 only for an all -inf row
        for j in range(n):
            out[r, j] = out[r, j] * inv


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def softmax_backward_rows(y, grad, out):
    """out (R, n) = y * (grad - sum(grad * y, row)) for softmax output y (R, n)."""
    R, n = y.shape
    if n >= LONG_ROW:
        for r in range(R):
            d = row_dot(y, grad, r)
            for j in range(n):
                out[r, j] = y[r, j] * (grad[r, j] - d)
        return
    dots = np.empty(R, y.dtype)
    row_dots(y, grad, dots)
    for r in range(R):
        d = dots[r]
        for j in range(n):
            out[r, j] = y[r, j] * (grad[r, j] - d)


@numba.njit(cache=True, error_model="numpy")
def log_softmax_rows(x, out):
    """out (R, n) = x - logsumexp(x, row); an all -inf row gives -inf everywhere."""
    R, n = x.shape
    zero = x.dtype.type(0)
    if n >= LONG_ROW:
        e = np.empty((1, n), x.dtype)  # one row of exponentials, reused
        for r in range(R):
            m = row_max(x, r)
            if m == _NEG_INF:
                m = zero
            exp_shifted_row(x, r, m, e, 0)
            s = row_sum(e, 0)
            log_s = math.log(s) if s != 0 else zero
            for j in range(n):
                out[r, j] = (x[r, j] - m) - log_s  # not x - (m + log_s): m + log_s rounds at m's scale
        return
    shift_rows(x, out, np.empty(R, x.dtype))
    e = np.empty_like(out)
    _exp_flat(out.reshape(-1), e.reshape(-1))
    sums = np.empty(R, x.dtype)
    row_sums(e, sums)
    for r in range(R):
        s = sums[r]
        lse = math.log(s) if s != 0 else zero
        for j in range(n):
            out[r, j] = out[r, j] - lse


@numba.njit(cache=True, error_model="numpy", fastmath=EXP_FASTMATH)
def _log_softmax_backward_row(y, grad, r, s, out):
    """out[r, :] = grad[r, :] - exp(y[r, :]) * s, y a log-softmax row (<= 0)."""
    for j in range(y.shape[1]):
        out[r, j] = grad[r, j] - exp_nonpositive(y[r, j]) * s


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def log_softmax_backward_rows(y, grad, out):
    """out (R, n) = grad - exp(y) * sum(grad, row) for log-softmax output y (R, n)."""
    R, n = y.shape
    if n >= LONG_ROW:
        for r in range(R):
            _log_softmax_backward_row(y, grad, r, row_sum(grad, r), out)
        return
    _exp_flat(y.reshape(-1), out.reshape(-1))
    sums = np.empty(R, y.dtype)
    row_sums(grad, sums)
    for r in range(R):
        s = sums[r]
        for j in range(n):
            out[r, j] = grad[r, j] - out[r, j] * s


@numba.njit(cache=True, error_model="numpy")
def erf_flat(x, out):
    """out (P,) = erf(x) elementwise; x, out flat (P,) float32/float64."""
    for i in range(x.shape[0]):
        out[i] = erf_scalar(x[i])


@numba.njit(cache=True, error_model="numpy")
def gelu_flat(x, out, approximate_tanh):
    """out (P,) = GELU(x): x * Phi(x) (exact, erf) or PyTorch's tanh approximation.

    The tanh form is evaluated as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3),
    which equals 0.5 x (1 + tanh(u)) without the cancellation of 1 + tanh(u) for x << 0.
    """
    half = x.dtype.type(0.5)
    one = x.dtype.type(1)
    rsqrt2 = x.dtype.type(0.7071067811865476)
    two_k = x.dtype.type(2 * 0.7978845608028654)  # 2 sqrt(2/pi)
    two_kc = x.dtype.type(2 * 0.7978845608028654 * 0.044715)
    if approximate_tanh:
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = v * sigmoid(two_k * v + two_kc * v * v * v)
    else:
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = half * v * (one + erf_scalar(v * rsqrt2))


@numba.njit(cache=True, error_model="numpy")
def gelu_backward_flat(x, grad, out, approximate_tanh, separate_erf_loop):
    """out (P,) = grad * dGELU/dx (x); x, grad, out flat (P,) of one dtype.

    ``separate_erf_loop``: compute erf in a loop of its own (for float64, whose erf is a
    libm call that would keep the rest of the loop from vectorizing); float32 erf is
    vectorizable, so one loop is faster there.
    """
    half = x.dtype.type(0.5)
    one = x.dtype.type(1)
    two = x.dtype.type(2)
    rsqrt2 = x.dtype.type(0.7071067811865476)
    inv_sqrt_2pi = x.dtype.type(0.3989422804014327)
    k = x.dtype.type(0.7978845608028654)  # sqrt(2/pi)
    kc3 = x.dtype.type(0.7978845608028654 * 3 * 0.044715)
    two_k = x.dtype.type(2 * 0.7978845608028654)
    two_kc = x.dtype.type(2 * 0.7978845608028654 * 0.044715)
    if approximate_tanh:
        # d/dx x s(2u) = s + 2 x s (1 - s) u',  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        for i in range(x.shape[0]):
            v = x[i]
            s = sigmoid(two_k * v + two_kc * v * v * v)
            du = k + kc3 * v * v
            out[i] = grad[i] * (s + two * v * s * (one - s) * du)
    elif separate_erf_loop:
        # d/dx x Phi(x) = Phi(x) + x phi(x)
        for i in range(x.shape[0]):
            out[i] = erf_scalar(x[i] * rsqrt2)
        for i in range(x.shape[0]):
            v = x[i]
            pdf = inv_sqrt_2pi * exp(-half * v * v)
            out[i] = grad[i] * (half * (one + out[i]) + v * pdf)
    else:
        for i in range(x.shape[0]):
            v = x[i]
            cdf = half * (one + erf_scalar(v * rsqrt2))
            pdf = inv_sqrt_2pi * exp(-half * v * v)
            out[i] = grad[i] * (cdf + v * pdf)
