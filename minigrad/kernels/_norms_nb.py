"""Numba implementations behind ``minigrad.kernels.norms`` (imported on first use only).

``layer_norm_forward``/``_backward`` take the arguments of the public kernels; the compiled
row loops are ``layer_norm_forward_rows``/``layer_norm_backward_rows``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._nbmath import row_sums
from ._util import c_array

# Reassociation lets the row sums vectorize. No FMA contraction: g*w - mean(g*w) would become
# fma(g, w, -c), which is not 0 for D = 1, and rstd would multiply that rounding error.
_FASTMATH = {"reassoc", "nsz"}


def layer_norm_forward(x, weight, bias, eps):
    """Numba implementation of ``norms.layer_norm_forward``."""
    d = x.shape[-1]
    rows = np.ascontiguousarray(x).reshape(-1, d)
    n = rows.shape[0]
    y = np.empty_like(rows)
    mean = np.empty(n, x.dtype)
    rstd = np.empty(n, x.dtype)
    if n:
        empty = np.empty(0, x.dtype)
        w = empty if weight is None else c_array(weight, x.dtype)
        b = empty if bias is None else c_array(bias, x.dtype)
        layer_norm_forward_rows(rows, w, b, weight is not None, bias is not None, x.dtype.type(eps), y, mean, rstd)
    return y.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def layer_norm_backward(grad, x, weight, mean, rstd, *, has_bias=None):
    """Numba implementation of ``norms.layer_norm_backward``."""
    if has_bias is None:
        has_bias = weight is not None
    dtype = x.dtype
    d = x.shape[-1]
    xr = np.ascontiguousarray(x).reshape(-1, d)
    gr = np.ascontiguousarray(grad, dtype=dtype).reshape(-1, d)
    dx = np.empty_like(xr)
    dweight = np.zeros(d, dtype)
    dbias = np.zeros(d, dtype)
    if xr.shape[0]:
        layer_norm_backward_rows(
            gr, xr, np.empty(0, dtype) if weight is None else c_array(weight, dtype), weight is not None,
            np.ascontiguousarray(mean, dtype=dtype).reshape(-1),
            np.ascontiguousarray(rstd, dtype=dtype).reshape(-1), dx, dweight, dbias,
        )
    return dx.reshape(x.shape), (dweight if weight is not None else None), (dbias if has_bias else None)


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def layer_norm_forward_rows(x, weight, bias, has_weight, has_bias, eps, y, mean, rstd):
    """y = (x - mean) * rstd * weight + bias over each row of x.

    x, y (N, D) float32/float64 C-contiguous; weight, bias (D,) (ignored, may be empty,
    when has_weight / has_bias is False); eps a scalar of x's dtype. Writes mean (N,) and
    rstd (N,) = 1 / sqrt(biased variance + eps).
    """
    N, D = x.shape
    one = x.dtype.type(1)
    inv_d = one / x.dtype.type(D)
    row_sums(x, mean)
    for r in range(N):
        mu = mean[r] * inv_d
        acc = x.dtype.type(0)
        for j in range(D):
            d = x[r, j] - mu
            acc += d * d
        rs = one / math.sqrt(acc * inv_d + eps)
        mean[r] = mu
        rstd[r] = rs
        if has_weight and has_bias:
            for j in range(D):
                y[r, j] = (x[r, j] - mu) * rs * weight[j] + bias[j]
        elif has_weight:
            for j in range(D):
                y[r, j] = (x[r, j] - mu) * rs * weight[j]
        elif has_bias:
            for j in range(D):
                y[r, j] = (x[r, j] - mu) * rs + bias[j]
        else:
            for j in range(D):
                y[r, j] = (x[r, j] - mu) * rs


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def layer_norm_backward_rows(grad, x, weight, has_weight, mean, rstd, dx, dweight, dbias):
    """Backward of ``layer_norm_forward_rows`` in one pass over the rows.

    grad, x, dx (N, D); weight (D,) (ignored when has_weight is False); mean, rstd (N,).
    With xhat = (x - mean) * rstd and gw = grad * weight:
      dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))   (row means)
      dweight (D,) = sum_rows grad * xhat,  dbias (D,) = sum_rows grad   (both written).
    """
    N, D = x.shape
    zero = x.dtype.type(0)
    inv_d = x.dtype.type(1) / x.dtype.type(D)
    for j in range(D):
        dweight[j] = zero
        dbias[j] = zero
    for r in range(N):
        mu = mean[r]
        rs = rstd[r]
        s1 = zero
        s2 = zero
        if has_weight:
            for j in range(D):
                gw = grad[r, j] * weight[j]
                s1 += gw
                s2 += gw * (x[r, j] - mu)
        else:
            for j in range(D):
                gw = grad[r, j]
                s1 += gw
                s2 += gw * (x[r, j] - mu)
        c1 = s1 * inv_d
        c2 = s2 * rs * inv_d  # mean(gw * xhat)
        for j in range(D):
            g = grad[r, j]
            xhat = (x[r, j] - mu) * rs
            gw = g * weight[j] if has_weight else g
            dx[r, j] = rs * (gw - c1 - xhat * c2)
            dweight[j] += g * xhat
            dbias[j] += g
