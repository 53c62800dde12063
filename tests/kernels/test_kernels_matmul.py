"""matmul: both dispatch paths equal np.matmul; the dispatch rule; broadcasting; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_testutils import assert_close, dtypes, random_array, seeds, use_backend
from minigrad import kernels as K
from minigrad.kernels import linalg


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
def test_both_paths_equal_numpy(shapes, dtype, seed, transpose_b):
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    a = random_array(rng, sa, dtype)
    b = random_array(rng, sb, dtype)
    if transpose_b:  # a non-contiguous operand, as q @ k.swapaxes(-1, -2) makes
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2)).swapaxes(-1, -2)
    want = np.matmul(a, b)
    k = sa[-1]
    assert_close(linalg._matmul_numba(a, b), want, dtype, scale=k)
    assert_close(np.matmul(a, b), want, dtype)  # the BLAS path is np.matmul itself
    assert_close(K.matmul(a, b), want, dtype, scale=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_class_is_dispatched_and_correct(dtype):
    a = random_array(np.random.default_rng(0), (300, 4, 3), dtype)
    b = random_array(np.random.default_rng(1), (300, 3, 4), dtype)
    assert not linalg._use_blas(a.shape, b.shape)
    from minigrad.kernels import linalg as lin

    out = K.matmul(a, b)
    assert lin._nb is not None  # the Numba kernel ran
    assert_close(out, np.matmul(a, b), dtype, scale=3)


def test_dispatch_rule():
    use_blas = linalg._use_blas
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_times_2d_is_folded_into_one_gemm_correctly(dtype):
    rng = np.random.default_rng(4)
    a = random_array(rng, (6, 10, 32), dtype)
    b = random_array(rng, (32, 24), dtype)
    assert a.size * b.shape[1] >= linalg.FOLD_MIN_WORK
    assert_close(K.matmul(a, b), np.matmul(a, b), dtype, scale=32)
    strided = a[:, ::2]  # not C-contiguous: the plain np.matmul path
    assert_close(K.matmul(strided, b), np.matmul(strided, b), dtype, scale=32)
    assert K.matmul(a, b).shape == (6, 10, 24)


def test_dtypes_and_backend():
    a32 = np.ones((300, 2, 2), np.float32)
    assert K.matmul(a32, a32).dtype == np.float32
    assert K.matmul(a32, a32.astype(np.float64)).dtype == np.float64
    ints = np.arange(12).reshape(300 // 100, 2, 2)
    np.testing.assert_array_equal(K.matmul(ints, ints), np.matmul(ints, ints))
    with use_backend("numpy"):
        np.testing.assert_array_equal(K.matmul(a32, a32), np.matmul(a32, a32))


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(4, 3\) and \(4, 5\) are not aligned"):
        K.matmul(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        K.matmul(np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"batch dimensions .*\(2, 3, 4\) and \(3, 4, 5\)"):
        K.matmul(np.zeros((2, 3, 4)), np.zeros((3, 4, 5)))
    with pytest.raises(TypeError, match="ndarray"):
        K.matmul([[1.0]], np.zeros((1, 1)))


def test_empty_dimensions():
    for sa, sb in (((300, 0, 2), (300, 2, 3)), ((300, 2, 0), (300, 0, 3))):
        a, b = np.ones(sa, np.float32), np.ones(sb, np.float32)
        np.testing.assert_array_equal(linalg._matmul_numba(a, b), np.matmul(a, b))
