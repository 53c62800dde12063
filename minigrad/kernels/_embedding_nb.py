"""Numba implementation behind ``minigrad.kernels.embedding`` (imported on first use only)."""

from __future__ import annotations

import numba


@numba.njit(cache=True, error_model="numpy")
def embedding_backward(idx, grad, out):
    """out[idx[i]] += grad[i] for every i, in order (repeated indices accumulate).

    idx (N,) int64 with 0 <= idx < out.shape[0]; grad (N, D) and out (num, D) C-contiguous,
    one float dtype; out must start at zero.
    """
    N, D = grad.shape
    for i in range(N):
        row = idx[i]
        for d in range(D):
            out[row, d] += grad[i, d]
