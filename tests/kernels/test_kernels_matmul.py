"""matmul: the BLAS/Numba dispatch rule, the Numba loop at any shape, dtypes and backends.
(Numba implementation == np.matmul at the dispatched shapes: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testutils import assert_close, dtypes, random_array, seeds
from minigrad import kernels as K
from minigrad.kernels import _linalg_nb, linalg, use_backend


@st.composite
def operand_shapes(draw):
    """Mutually broadcastable (a_shape, b_shape) with ndim >= 2, small enough for any path."""
    n, k, m = (draw(st.integers(1, 9)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    a_batch = [d if draw(st.booleans()) else 1 for d in batch]
    b_batch = [d if draw(st.booleans()) else 1 for d in batch]
    a_batch = a_batch[draw(st.integers(0, len(a_batch))):]  # drop leading dims sometimes
    b_batch = b_batch[draw(st.integers(0, len(b_batch))):]
    return tuple(a_batch) + (n, k), tuple(b_batch) + (k, m)


@settings(max_examples=80, deadline=None)
@given(shapes=operand_shapes(), dtype=dtypes, seed=seeds, transpose_b=st.booleans())
def test_numba_loop_equals_numpy_at_any_shape(shapes, dtype, seed, transpose_b):
    """The loop is only dispatched for many tiny matrices; it must be right for every shape."""
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    a = random_array(rng, sa, dtype)
    b = random_array(rng, sb, dtype)
    if transpose_b:  # a non-contiguous operand, as q @ k.swapaxes(-1, -2) makes
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2)).swapaxes(-1, -2)
    assert_close(_linalg_nb.numba_matmul(a, b), np.matmul(a, b), dtype, scale=sa[-1])


@pytest.mark.parametrize("a_shape, b_shape, numba", [
    ((300, 4, 3), (300, 3, 4), True),
    ((16, 16, 2, 2), (2, 2), True),
    ((256, 10, 16), (256, 16, 10), False),
    ((4, 4), (4, 4), False),
])
def test_the_numba_loop_runs_where_the_rule_says(monkeypatch, a_shape, b_shape, numba):
    calls = []
    loop = _linalg_nb.numba_matmul
    monkeypatch.setattr(_linalg_nb, "numba_matmul", lambda a, b: calls.append(1) or loop(a, b))
    a, b = np.ones(a_shape, np.float32), np.ones(b_shape, np.float32)
    with use_backend("numba"):
        out = K.matmul(a, b)
    assert bool(calls) == numba == (not linalg.use_blas(a_shape, b_shape))
    np.testing.assert_array_equal(out, np.matmul(a, b))


def test_dispatch_rule():
    use_blas = linalg.use_blas
    # attention / RNN / Transformer shapes at default sizes: BLAS
    assert use_blas((256, 10, 16), (256, 16, 10))
    assert use_blas((256, 10, 10), (256, 10, 16))
    assert use_blas((64, 10, 128), (128, 384))
    assert use_blas((512, 512), (512, 512))
    # single tiny matrices: BLAS (np.matmul's call is cheaper than the Numba path)
    assert use_blas((4, 4), (4, 4))
    # many tiny matrices with a short inner dimension: Numba
    assert not use_blas((256, 4, 4), (256, 4, 4))
    assert not use_blas((16, 16, 2, 2), (2, 2))  # broadcast batch of 256
    assert use_blas((128, 4, 4), (128, 4, 4))  # batch below the crossover
    assert use_blas((256, 4, 8), (256, 8, 4))  # inner dimension above 4
    assert use_blas((256, 16, 4), (256, 4, 16))  # work n*k*m above 256


def test_dtypes_and_backend():
    a32 = np.ones((300, 2, 2), np.float32)
    assert K.matmul(a32, a32).dtype == np.float32
    assert K.matmul(a32, a32.astype(np.float64)).dtype == np.float64
    ints = np.arange(12).reshape(300 // 100, 2, 2)
    np.testing.assert_array_equal(K.matmul(ints, ints), np.matmul(ints, ints))
    with use_backend("numpy"):
        np.testing.assert_array_equal(K.matmul(a32, a32), np.matmul(a32, a32))
