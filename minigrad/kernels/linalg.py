"""Linear algebra kernels: batched matrix multiply with a measured BLAS/Numba dispatch.

Dispatch rule (``_use_blas``). Measured with ``python benchmarks/kernels.py --crossover``
on this project's machine (AMD EPYC Zen 5, AVX-512, NumPy 2.4 with OpenBLAS 0.3.31, one
thread): the public Numba path (``_matmul_numba``, wrapper included) against
``np.matmul`` on the same inputs, over batch in {1, 16, 256} x n, k, m in {2, 4, 8, 16, 32},
float32 and float64 (750 cases), then batch 32/64/128 for the candidate class:

- One matrix: ``np.matmul`` costs ~1.4 us even for 2x2 @ 2x2 and the Numba path ~3.4 us
  (argument unboxing, allocation): BLAS wins every single-matrix case, 512x512 included.
- Batch 16: Numba is never more than 10% faster; BLAS is up to 2x faster.
- Batch 256: Numba wins where the inner dimension k <= 4 and the per-matrix work
  n*k*m <= 256 (float32 256 x (2x2 @ 2x2): 11.2 us vs 27.1 us; 256 x (4x4 @ 4x4):
  1.9x), because OpenBLAS pays ~0.1 us per matrix; with k >= 8 BLAS's kernels win, e.g.
  at attention sizes 256 x (10x16 @ 16x10) Numba takes 66-84 us, BLAS 34-52 us.
- Batch 32-128 (k <= 4, n*k*m <= 256): median BLAS/Numba ratio 0.8 (32), 0.95 (64),
  1.1 (128): the crossover is around 128-256 matrices.

Rule: Numba iff batch >= 256, k <= 4 and n*k*m <= 256; BLAS (``np.matmul``) otherwise.
Over the 750-case grid this rule is within 10% of the faster path in 714 cases, worst 1.7x
(timing noise near the boundary); always-BLAS would be within 10% in 685, worst 2.5x.
No attention, RNN or Transformer product at minigrad's default sizes falls in the Numba
class; integer inputs always go to ``np.matmul``.

Folding: for a batched C-contiguous ``a`` (..., n, k) times a 2-D ``b`` (k, m), NumPy
calls one GEMM per batch entry; ``matmul`` instead multiplies ``a`` viewed as
(batch * n, k) in a single GEMM when the total work batch*n*k*m >= 4096 (measured:
(64,10,128) @ (128,384) 1283 -> 585 us, PyTorch 745 us; (16,4,8) @ (8,8) 2.0 -> 1.7 us;
below that the reshape costs more than it saves: (8,4,8) @ (8,8) 1.51 -> 1.59 us).
"""

from __future__ import annotations

import math

import numpy as np

from . import _backend

_nb = None

# Measured crossover constants (see the module docstring).
NUMBA_MIN_BATCH = 256  # matrices in the (broadcast) batch
NUMBA_MAX_INNER = 4  # k
NUMBA_MAX_WORK = 256  # n * k * m per matrix
FOLD_MIN_WORK = 4096  # batch * n * k * m for folding a batched a @ 2-D b into one GEMM


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_linalg_nb")
    return _nb


def matmul_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NumPy reference of ``matmul``: ``np.matmul``."""
    return np.matmul(a, b)


def _check_shapes(a: np.ndarray, b: np.ndarray) -> tuple:
    """Validate operands; return the broadcast batch shape (cheap for the common cases)."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        bad = ("a", a) if not isinstance(a, np.ndarray) else ("b", b)
        raise TypeError(f"matmul: {bad[0]} must be a numpy.ndarray, got {type(bad[1]).__name__}")
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"matmul: both operands must have at least 2 dimensions, got shapes {a.shape} and {b.shape}"
        )
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
    if b.ndim == 2:
        return a.shape[:-2]
    if a.ndim == 2:
        return b.shape[:-2]
    if a.shape[:-2] == b.shape[:-2]:
        return a.shape[:-2]
    try:
        return np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {a.shape} and {b.shape} do not broadcast"
        ) from None


def _use_blas(a_shape: tuple, b_shape: tuple, batch: tuple | None = None) -> bool:
    """True when ``matmul`` of float operands of these shapes goes to ``np.matmul`` (BLAS).

    ``batch`` is the broadcast batch shape when the caller already has it. The rule and
    the measurements behind it are in the module docstring.
    """
    n, k = a_shape[-2:]
    m = b_shape[-1]
    if k > NUMBA_MAX_INNER or n * k * m > NUMBA_MAX_WORK:
        return True
    if batch is None:
        batch = np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))
    return math.prod(batch) < NUMBA_MIN_BATCH


def _matmul_numba(a: np.ndarray, b: np.ndarray, batch: tuple | None = None) -> np.ndarray:
    """The Numba path of ``matmul`` for float operands, whatever ``_use_blas`` says."""
    if batch is None:
        batch = _check_shapes(a, b)
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
            (_nb or _numba()).batched_matmul(a3, b3, out)
    return out.reshape(batch + (n, m))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product with NumPy's batch broadcasting.

    a (..., n, k), b (..., k, m), both with ndim >= 2; the batch dimensions broadcast as in
    ``np.matmul``. Returns out (broadcast batch..., n, m) of ``np.result_type(a, b)``
    (float32 @ float32 stays float32). Tiny batched products run in Numba, the rest in
    BLAS via ``np.matmul``; ``_use_blas`` is the rule (see the module docstring).
    """
    # This wrapper sits in front of every product (BLAS path included), so the common
    # case is kept to a few tuple operations (~0.3 us); full validation only when needed.
    try:
        ash = a.shape
        bsh = b.shape
    except AttributeError:
        ash = bsh = ()
    if (
        len(ash) < 2
        or len(bsh) < 2
        or ash[-1] != bsh[-2]
        or type(a) is not np.ndarray
        or type(b) is not np.ndarray
    ):
        batch = _check_shapes(a, b)  # raises for anything np.matmul should not see
    elif len(ash) > 2 and len(bsh) > 2 and ash[:-2] != bsh[:-2]:
        batch = _check_shapes(a, b)  # differing batch dims: check they broadcast
    else:
        batch = ash[:-2] if len(ash) >= len(bsh) else bsh[:-2]
    if _backend._BACKEND == "numpy":
        return np.matmul(a, b)
    k = ash[-1]
    if (
        k > NUMBA_MAX_INNER
        or ash[-2] * k * bsh[-1] > NUMBA_MAX_WORK
        or not batch
        or a.dtype.char not in "fd"
        or b.dtype.char not in "fd"
        or _use_blas(ash, bsh, batch)
    ):
        if len(bsh) == 2 and len(ash) > 2 and a.size * bsh[-1] >= FOLD_MIN_WORK and a.flags.c_contiguous:
            return np.matmul(a.reshape(-1, k), b).reshape(ash[:-1] + (bsh[-1],))
        return np.matmul(a, b)
    return _matmul_numba(a, b, batch)
