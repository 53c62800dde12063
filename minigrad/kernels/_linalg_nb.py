"""Numba implementation behind ``minigrad.kernels.linalg`` (imported on first use only).

``matmul`` applies the rule of ``linalg.use_blas``: BLAS through ``np.matmul`` (folded into
one GEMM where that pays), or ``numba_matmul``, the loop over tiny matrices.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .linalg import FOLD_MIN_WORK, NUMBA_MAX_INNER, NUMBA_MAX_WORK, batch_shape, use_blas


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Numba implementation of ``linalg.matmul``."""
    ash, bsh = a.shape, b.shape
    k = ash[-1]
    if (k > NUMBA_MAX_INNER or ash[-2] * k * bsh[-1] > NUMBA_MAX_WORK  # use_blas's first test, inlined
            or a.dtype.char not in "fd" or b.dtype.char not in "fd" or use_blas(ash, bsh)):
        if len(bsh) == 2 and len(ash) > 2 and a.size * bsh[-1] >= FOLD_MIN_WORK and a.flags.c_contiguous:
            return np.matmul(a.reshape(-1, k), b).reshape(ash[:-1] + (bsh[-1],))
        return np.matmul(a, b)
    return numba_matmul(a, b)


def numba_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of float operands through ``batched_matmul``, whatever ``use_blas`` says."""
    batch = batch_shape(a.shape, b.shape)
    dtype = a.dtype if a.dtype == b.dtype else np.result_type(a, b)
    n, k = a.shape[-2:]
    m = b.shape[-1]
    if a.shape[:-2] != batch:
        a = np.broadcast_to(a, batch + (n, k))
    if b.shape[:-2] != batch:
        b = np.broadcast_to(b, batch + (k, m))
    count = math.prod(batch)
    a3 = np.ascontiguousarray(a, dtype=dtype).reshape(count, n, k)
    b3 = np.ascontiguousarray(b, dtype=dtype).reshape(count, k, m)
    out = np.empty((count, n, m), dtype)
    if out.size:
        if k == 0:
            out.fill(0)
        else:
            batched_matmul(a3, b3, out)
    return out.reshape(batch + (n, m))


@numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
def batched_matmul(a, b, out):
    """out[i] = a[i] @ b[i] for a (B, n, k), b (B, k, m), out (B, n, m), C-contiguous, one dtype.

    Four rows of a are multiplied at once so each loaded row of b feeds four accumulating
    rows of out; the inner loop runs over the m columns (vectorized).
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
