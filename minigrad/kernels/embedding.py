"""Embedding kernel: the backward of a row lookup, a scatter-add of gradient rows.

``weight[idx]`` (a gather) needs no kernel; its gradient adds every row of ``grad`` into the
row of the table it came from. ``np.add.at`` does that one element at a time through a
generic ufunc loop (1.3 ms for 704 x 64 float32 rows at minigrad's default sizes); the
Numba loop adds whole rows in index order (~20 us).
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._util import check_float

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_embedding_nb")
    return _nb


def embedding_backward_ref(idx: np.ndarray, grad: np.ndarray, num_embeddings: int,
                           padding_idx: int | None = None) -> np.ndarray:
    """NumPy reference of ``embedding_backward``."""
    D = grad.shape[-1]
    out = np.zeros((num_embeddings, D), dtype=grad.dtype)
    np.add.at(out, idx.reshape(-1), grad.reshape(idx.size, D))  # repeated tokens accumulate
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


def embedding_backward(idx: np.ndarray, grad: np.ndarray, num_embeddings: int,
                       padding_idx: int | None = None) -> np.ndarray:
    """Gradient of the table of ``weight[idx]``.

    idx: integer indices (...), each in [0, num_embeddings); grad: (..., D) float32/float64,
    the gradient of the lookup's output. Returns (num_embeddings, D) of grad's dtype:
    row k is the sum of grad over the positions where idx == k; the ``padding_idx`` row
    (if given) is zero.
    """
    check_float("embedding_backward", "grad", grad)
    if grad.shape[:-1] != idx.shape:
        raise ValueError(f"embedding_backward: grad {grad.shape} does not fit indices {idx.shape} (expected "
                         f"{idx.shape + grad.shape[-1:]})")
    if idx.size and (idx.min() < 0 or idx.max() >= num_embeddings):
        raise IndexError(f"embedding_backward: indices must be in [0, {num_embeddings}), got {idx.min()}..{idx.max()}")
    if _backend._BACKEND == "numpy":
        return embedding_backward_ref(idx, grad, num_embeddings, padding_idx)
    D = grad.shape[-1]
    out = np.zeros((num_embeddings, D), dtype=grad.dtype)
    if idx.size and D:
        flat = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
        (_nb or _numba()).embedding_backward(flat, np.ascontiguousarray(grad).reshape(-1, D), out)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out
