"""Shared helpers for tests/perf: the fused ops and kernels added for speed, held equal to
the computation they replace. The array helpers are tests/kernel_testutils.py's; only the
tolerances differ."""

from __future__ import annotations

import numpy as np

import kernel_testutils
from kernel_testutils import DTYPES, both_backends, dtypes, non_contiguous, random_array, seeds, use_backend

__all__ = ["DTYPES", "TOLERANCE", "assert_close", "both_backends", "dtypes", "non_contiguous", "random_array",
           "seeds", "use_backend"]

# Numba kernels against their NumPy references. float32: a few ulps of the largest
# magnitude involved (the Numba tanh is within 4.4 ulp, sums are reassociated); float64
# agrees to ~1e-12.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}


def assert_close(actual, expected, dtype, scale: float = 1.0) -> None:
    """Same shape, exact dtype, values equal within this folder's tolerance (atol times ``scale``)."""
    kernel_testutils.assert_close(actual, expected, dtype, scale=scale, tolerance=TOLERANCE)
