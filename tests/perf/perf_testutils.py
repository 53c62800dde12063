"""Shared helpers for tests/perf: the fused ops and kernels added for speed, held equal to
the computation they replace (imported by the test modules beside it)."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import strategies as st

from minigrad import kernels

DTYPES = (np.float32, np.float64)

# Numba kernels against their NumPy references. float32: a few ulps of the largest
# magnitude involved (the Numba tanh is within 4.4 ulp, sums are reassociated); float64
# agrees to ~1e-12.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}

dtypes = st.sampled_from(DTYPES)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@contextlib.contextmanager
def use_backend(name: str):
    """Select a kernel backend for the body of a with-statement."""
    previous = kernels.set_backend(name)
    try:
        yield
    finally:
        kernels.set_backend(previous)


def both_backends(fn, *args, **kwargs):
    """(Numba result, NumPy-reference result) of the public kernel ``fn``."""
    with use_backend("numba"):
        fast = fn(*args, **kwargs)
    with use_backend("numpy"):
        slow = fn(*args, **kwargs)
    return fast, slow


def random_array(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


def non_contiguous(x: np.ndarray) -> np.ndarray:
    """An equal array that is not C-contiguous (every other element of a larger buffer)."""
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    big[..., ::2] = x
    return big[..., ::2]


def assert_close(actual, expected, dtype, scale: float = 1.0) -> None:
    """Same shape, exact dtype, values equal within the dtype's tolerance (atol times ``scale``)."""
    dtype = np.dtype(dtype)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype, (actual.dtype, dtype)
    assert actual.shape == np.shape(expected), (actual.shape, np.shape(expected))
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(actual, expected, rtol=tol["rtol"], atol=tol["atol"] * scale)
