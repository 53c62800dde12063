"""Embedding backward (minigrad.kernels.embedding) on both backends: repeated indices
accumulate, the padding row stays zero. (Numba == NumPy reference:
tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.kernels import embedding as K
from minigrad.kernels import use_backend


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_repeated_indices_accumulate_and_the_padding_row_stays_zero(backend):
    idx = np.array([[2, 2, 0], [2, 1, 0]])
    grad = np.ones((2, 3, 2), np.float32)
    with use_backend(backend):
        out = K.embedding_backward(idx, grad, 4)
        padded = K.embedding_backward(idx, grad, 4, padding_idx=2)
    np.testing.assert_array_equal(out, [[2, 2], [1, 1], [3, 3], [0, 0]])
    np.testing.assert_array_equal(padded, [[2, 2], [1, 1], [0, 0], [0, 0]])
