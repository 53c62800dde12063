"""Numba implementations behind ``minigrad.kernels.losses`` (imported on first use only).

``cross_entropy_forward``/``_backward`` take the arguments of the public kernels; the
compiled row loops are ``cross_entropy_forward_rows``/``cross_entropy_backward_rows``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._activations_nb import LONG_ROW, exp_inplace, shift_rows, softmax_row
from ._nbmath import REDUCE_FASTMATH, row_sums


def cross_entropy_forward(logits, target, ignore_index=None, label_smoothing=0.0):
    """Numba implementation of ``losses.cross_entropy_forward``."""
    logits = np.ascontiguousarray(logits)
    target = np.ascontiguousarray(target, dtype=np.int64)
    n, c = logits.shape
    losses = np.empty(n, logits.dtype)
    probs = np.empty_like(logits)
    if n:
        scalar = logits.dtype.type
        cross_entropy_forward_rows(
            logits, target, -1 if ignore_index is None else ignore_index,
            scalar(1.0 - label_smoothing), scalar(label_smoothing / c), losses, probs,
        )
    return losses, (probs, target, ignore_index, label_smoothing)


def cross_entropy_backward(saved, grad_rows):
    """Numba implementation of ``losses.cross_entropy_backward``."""
    probs, target, ignore_index, label_smoothing = saved
    n, c = probs.shape
    out = np.empty((n, c), probs.dtype)
    if n:
        scalar = probs.dtype.type
        cross_entropy_backward_rows(
            np.ascontiguousarray(probs), target, -1 if ignore_index is None else ignore_index,
            scalar(1.0 - label_smoothing), scalar(label_smoothing / c),
            np.ascontiguousarray(grad_rows, dtype=probs.dtype), out,
        )
    return out


@numba.njit(cache=True, error_model="numpy")
def cross_entropy_forward_rows(logits, target, ignore, keep, smooth, losses, probs):
    """Per-row label-smoothed cross-entropy, keeping softmax for the backward.

    logits (N, C) float32/float64 C-contiguous; target (N,) int64 in [0, C) or == ignore;
    keep = 1 - label_smoothing and smooth = label_smoothing / C, scalars of logits' dtype.
    Writes losses (N,) = -keep * logp[r, t_r] - smooth * sum_c logp[r, c] (0 where
    t_r == ignore) and probs (N, C) = softmax(logits) (zeros for an all -inf row).
    Long rows are done one at a time, short rows in whole-array passes (see ``_activations_nb``).
    """
    N, C = logits.shape
    zero = logits.dtype.type(0)
    m = np.empty(N, logits.dtype)  # the shift of each row (its max)
    sums = np.empty(N, logits.dtype)  # sum_c exp(logits - m)
    shifted_sum = np.empty(N, logits.dtype)  # sum_c (logits - m), for label smoothing
    if C >= LONG_ROW:
        for r in range(N):
            m[r], sums[r] = softmax_row(logits, r, probs)
            if smooth != 0:
                shifted_sum[r] = shifted_row_sum(logits, r, m[r])
    else:
        shift_rows(logits, probs, m)  # probs holds logits - max for now
        if smooth != 0:
            row_sums(probs, shifted_sum)
        exp_inplace(probs.reshape(-1))
        row_sums(probs, sums)
        for r in range(N):
            s = sums[r]
            inv = logits.dtype.type(1) / s if s != 0 else zero
            for j in range(C):
                probs[r, j] = probs[r, j] * inv
    for r in range(N):
        t = target[r]
        if t == ignore:
            losses[r] = zero
            continue
        s = sums[r]
        log_s = math.log(s) if s != 0 else zero
        loss = -keep * ((logits[r, t] - m[r]) - log_s)  # logp_t = (x_t - max) - log(s)
        if smooth != 0:
            loss -= smooth * (shifted_sum[r] - C * log_s)  # sum_c logp_c
        losses[r] = loss


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def shifted_row_sum(a, r, m):
    """sum(a[r, :] - m)."""
    s = a[r, 0] - m
    for j in range(1, a.shape[1]):
        s += a[r, j] - m
    return s


@numba.njit(cache=True, error_model="numpy")
def cross_entropy_backward_rows(probs, target, ignore, keep, smooth, grad, out):
    """out (N, C) = (probs - keep * onehot(t) - smooth) * grad[:, None], zero rows where
    target == ignore. probs (N, C) from the forward, target (N,) int64, grad (N,) of
    probs' dtype."""
    N, C = probs.shape
    zero = probs.dtype.type(0)
    for r in range(N):
        t = target[r]
        if t == ignore:
            for j in range(C):
                out[r, j] = zero
            continue
        g = grad[r]
        for j in range(C):
            out[r, j] = (probs[r, j] - smooth) * g
        out[r, t] -= keep * g
