"""Shared helpers for the kernel tests (tests/kernels)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minigrad.kernels import use_backend

DTYPES = (np.float32, np.float64)

# Agreement between the Numba kernels and the NumPy references. float32 differs by
# summation order, float64 accumulators inside the kernels and the vectorized exp/tanh/erf:
# a few ulps of the largest magnitude involved. float64 must agree to ~1e-12 relative.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}

dtypes = st.sampled_from(DTYPES)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def both_backends(fn, *args, **kwargs):
    """Return (numba result, numpy result) of the public kernel ``fn``."""
    with use_backend("numba"):
        fast = fn(*args, **kwargs)
    with use_backend("numpy"):
        slow = fn(*args, **kwargs)
    return fast, slow


def random_array(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


def non_contiguous(x: np.ndarray) -> np.ndarray:
    """A non-contiguous array equal to ``x`` (every other element of a larger buffer)."""
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype) if x.ndim else None
    if big is None:
        return x.copy()
    big[..., ::2] = x
    out = big[..., ::2]
    assert not out.flags.c_contiguous or x.shape[-1] <= 1
    return out


def assert_close(actual, expected, dtype, scale: float = 1.0, rtol: float | None = None) -> None:
    """Assert same shape, exact dtype, and values equal within the dtype's tolerance.

    ``scale`` multiplies the absolute tolerance (for quantities of magnitude ``scale``).
    """
    dtype = np.dtype(dtype)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype, (actual.dtype, dtype)
    assert actual.shape == np.shape(expected), (actual.shape, np.shape(expected))
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(
        actual, expected, rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] * scale
    )
