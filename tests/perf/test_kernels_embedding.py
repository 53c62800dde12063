"""Embedding backward (minigrad.kernels.embedding): the Numba scatter-add equals np.add.at,
repeated indices accumulate, the padding row stays zero, bad indices raise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.kernels import embedding as K
from perf_testutils import assert_close, both_backends, dtypes, random_array, seeds


@settings(max_examples=50, deadline=None)
@given(lead=st.lists(st.integers(0, 7), min_size=0, max_size=3), num=st.integers(1, 12), D=st.integers(0, 9),
       dtype=dtypes, seed=seeds, padding=st.booleans(), strided=st.booleans())
def test_numba_matches_reference(lead, num, D, dtype, seed, padding, strided):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num, size=tuple(lead))
    grad = random_array(rng, tuple(lead) + (D,), dtype)
    if strided and grad.ndim >= 2:
        grad = np.swapaxes(np.ascontiguousarray(np.swapaxes(grad, 0, -1)), 0, -1)
    pad = int(rng.integers(0, num)) if padding else None
    fast, slow = both_backends(K.embedding_backward, idx, grad, num, pad)
    assert_close(fast, slow, dtype, scale=max(1, idx.size))
    if pad is not None:
        assert np.all(fast[pad] == 0)


def test_repeated_indices_accumulate():
    idx = np.array([[2, 2, 0], [2, 1, 0]])
    grad = np.ones((2, 3, 2), np.float32)
    out = K.embedding_backward(idx, grad, 4)
    np.testing.assert_array_equal(out, [[2, 2], [1, 1], [3, 3], [0, 0]])


def test_errors():
    with pytest.raises(ValueError, match="does not fit indices"):
        K.embedding_backward(np.zeros((2, 3), np.int64), np.zeros((2, 4, 5), np.float32), 3)
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        K.embedding_backward(np.array([0, 3]), np.zeros((2, 5), np.float32), 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        K.embedding_backward(np.array([0, 1]), np.zeros((2, 5), np.int64), 3)
