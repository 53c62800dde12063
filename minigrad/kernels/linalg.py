"""Linear algebra kernels: matrix multiply with NumPy's batch broadcasting.

The reference is ``np.matmul``. The Numba implementation (``_linalg_nb.matmul``) also calls
``np.matmul`` (BLAS) for nearly every product and runs its own loop only where BLAS is slow:

- Rule (``use_blas``): the Numba loop iff the broadcast batch holds at least
  ``NUMBA_MIN_BATCH`` matrices, the inner dimension k <= ``NUMBA_MAX_INNER`` and the work per
  matrix n*k*m <= ``NUMBA_MAX_WORK``; BLAS otherwise, and always for integer operands.
  OpenBLAS pays a fixed cost per matrix, which dominates only for many tiny products; from
  k = 8 on, its kernels beat the loop. No product of minigrad's models at their default
  sizes falls in the Numba class.
- Folding: a batched C-contiguous ``a`` (..., n, k) times a 2-D ``b`` (k, m) is multiplied
  as ``a`` viewed as (batch * n, k) in one GEMM (NumPy calls one GEMM per batch entry) when
  the total work batch*n*k*m >= ``FOLD_MIN_WORK``; below that the reshape costs more than
  it saves.

The constants are measured crossovers: ``python benchmarks/kernels.py --crossover`` prints
the grid; the numbers are in benchmarks/RESULTS.md, "Kernel design".
"""

from __future__ import annotations

import math

import numpy as np

from .dispatch import register

NUMBA_MIN_BATCH = 256  # matrices in the (broadcast) batch
NUMBA_MAX_INNER = 4  # k
NUMBA_MAX_WORK = 256  # n * k * m per matrix
FOLD_MIN_WORK = 4096  # batch * n * k * m for folding a batched a @ 2-D b into one GEMM


def matmul_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NumPy reference of ``matmul``: ``np.matmul``."""
    return np.matmul(a, b)


def batch_shape(a_shape: tuple, b_shape: tuple) -> tuple:
    """The broadcast batch shape of a (..., n, k) @ (..., k, m) product."""
    if len(b_shape) == 2:
        return tuple(a_shape[:-2])
    if len(a_shape) == 2 or a_shape[:-2] == b_shape[:-2]:
        return tuple(b_shape[:-2])
    return np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))


def use_blas(a_shape: tuple, b_shape: tuple) -> bool:
    """True when the Numba implementation of ``matmul`` hands float operands of these
    shapes to ``np.matmul`` (BLAS); the rule is in the module docstring."""
    n, k = a_shape[-2:]
    m = b_shape[-1]
    if k > NUMBA_MAX_INNER or n * k * m > NUMBA_MAX_WORK:
        return True
    return math.prod(batch_shape(a_shape, b_shape)) < NUMBA_MIN_BATCH


_matmul = register("matmul", matmul_ref, numba="_linalg_nb.matmul")


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product with NumPy's batch broadcasting.

    a (..., n, k), b (..., k, m), both ndarrays with ndim >= 2 whose batch dimensions
    broadcast as in ``np.matmul``. Returns out (broadcast batch..., n, m) of
    ``np.result_type(a, b)`` (float32 @ float32 stays float32).
    """
    return _matmul.impl(a, b)
