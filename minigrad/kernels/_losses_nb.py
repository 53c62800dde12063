"""Numba implementations behind ``minigrad.kernels.losses`` (imported on first use only)."""

from __future__ import annotations

import math

import numba
import numpy as np

from ._activations_nb import exp_inplace, shift_rows
from ._nbmath import row_sums


@numba.njit(cache=True, error_model="numpy")
def cross_entropy_forward(logits, target, ignore, keep, smooth, losses, probs):
    """Per-row label-smoothed cross-entropy, keeping softmax for the backward.

    logits (N, C) float32/float64 C-contiguous; target (N,) int64 in [0, C) or == ignore;
    keep = 1 - label_smoothing and smooth = label_smoothing / C, scalars of logits' dtype.
    Writes losses (N,) = -keep * logp[r, t_r] - smooth * sum_c logp[r, c] (0 where
    t_r == ignore) and probs (N, C) = softmax(logits) (zeros for an all -inf row).
    """
    N, C = logits.shape
    zero = logits.dtype.type(0)
    one = logits.dtype.type(1)
    m = np.empty(N, logits.dtype)
    shift_rows(logits, probs, m)  # probs holds logits - max for now
    shifted_sum = np.empty(N, logits.dtype)
    if smooth != 0:
        row_sums(probs, shifted_sum)
    exp_inplace(probs.reshape(-1))
    sums = np.empty(N, logits.dtype)
    row_sums(probs, sums)
    for r in range(N):
        s = sums[r]
        log_s = math.log(s) if s != 0 else zero
        inv = one / s if s != 0 else zero
        for j in range(C):
            probs[r, j] = probs[r, j] * inv
        t = target[r]
        if t == ignore:
            losses[r] = zero
            continue
        loss = -keep * ((logits[r, t] - m[r]) - log_s)  # logp_t = (x_t - max) - log(s)
        if smooth != 0:
            loss -= smooth * (shifted_sum[r] - C * log_s)  # sum_c logp_c
        losses[r] = loss


@numba.njit(cache=True, error_model="numpy")
def cross_entropy_backward(probs, target, ignore, keep, smooth, grad, out):
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
