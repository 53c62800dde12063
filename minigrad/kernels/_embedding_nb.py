"""Numba implementation behind ``minigrad.kernels.embedding`` (imported on first use only)."""

from __future__ import annotations

import numba
import numpy as np


def embedding_backward(idx: np.ndarray, grad: np.ndarray, num_embeddings: int,
                       padding_idx: int | None = None) -> np.ndarray:
    """Numba implementation of ``embedding.embedding_backward``."""
    D = grad.shape[-1]
    out = np.zeros((num_embeddings, D), dtype=grad.dtype)
    if idx.size and D:
        rows = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
        scatter_add_rows(rows, np.ascontiguousarray(grad).reshape(-1, D), out)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


@numba.njit(cache=True, error_model="numpy")
def scatter_add_rows(idx, grad, out):
    """out[idx[i]] += grad[i] for every i, in order (repeated indices accumulate).

    idx (N,) int64 with 0 <= idx < out.shape[0]; grad (N, D) and out (num, D) C-contiguous,
    one float dtype; out must start at zero.
    """
    N, D = grad.shape
    for i in range(N):
        row = idx[i]
        for d in range(D):
            out[row, d] += grad[i, d]
