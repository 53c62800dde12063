"""Numba implementations behind ``minigrad.kernels.linalg`` (imported on first use only)."""

from __future__ import annotations

import numba


@numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
def batched_matmul(a, b, out):
    """out[i] = a[i] @ b[i] for a (B, n, k), b (B, k, m), out (B, n, m), C-contiguous, one dtype.

    Four rows of a are multiplied at once so each loaded row of b feeds four accumulating
    rows of out; the inner loop runs over the m columns (vectorized). Only the "tiny
    matrix" shape class is dispatched here (see ``linalg._use_blas``).
    """
    B, n, k = a.shape
    m = b.shape[2]
    zero = a.dtype.type(0)
    for bi in range(B):
        i = 0
        while i + 4 <= n:
            for j in range(m):
                out[bi, i, j] = zero
                out[bi, i + 1, j] = zero
                out[bi, i + 2, j] = zero
                out[bi, i + 3, j] = zero
            for p in range(k):
                a0 = a[bi, i, p]
                a1 = a[bi, i + 1, p]
                a2 = a[bi, i + 2, p]
                a3 = a[bi, i + 3, p]
                for j in range(m):
                    bv = b[bi, p, j]
                    out[bi, i, j] += a0 * bv
                    out[bi, i + 1, j] += a1 * bv
                    out[bi, i + 2, j] += a2 * bv
                    out[bi, i + 3, j] += a3 * bv
            i += 4
        while i < n:
            for j in range(m):
                out[bi, i, j] = zero
            for p in range(k):
                av = a[bi, i, p]
                for j in range(m):
                    out[bi, i, j] += av * b[bi, p, j]
            i += 1
