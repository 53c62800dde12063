"""Embedding kernel: the backward of a row lookup, a scatter-add of gradient rows.

``weight[idx]`` (a gather) needs no kernel; its gradient adds every row of ``grad`` into the
row of the table it came from. ``np.add.at`` (the reference) does that one element at a time
through a generic ufunc loop; the Numba implementation (``_embedding_nb``) adds whole rows
in index order.
"""

from __future__ import annotations

import numpy as np

from .dispatch import register


def embedding_backward_ref(idx: np.ndarray, grad: np.ndarray, num_embeddings: int,
                           padding_idx: int | None = None) -> np.ndarray:
    """NumPy reference of ``embedding_backward``."""
    D = grad.shape[-1]
    out = np.zeros((num_embeddings, D), dtype=grad.dtype)
    np.add.at(out, idx.reshape(-1), grad.reshape(idx.size, D))  # repeated tokens accumulate
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


_embedding_backward = register("embedding_backward", embedding_backward_ref,
                               numba="_embedding_nb.embedding_backward")


def embedding_backward(idx: np.ndarray, grad: np.ndarray, num_embeddings: int,
                       padding_idx: int | None = None) -> np.ndarray:
    """Gradient of the table of ``weight[idx]``.

    idx: integer indices (...), each in [0, num_embeddings); grad: (..., D), the gradient of
    the lookup's output. Returns (num_embeddings, D) of grad's dtype: row k is the sum of
    grad over the positions where idx == k; the ``padding_idx`` row (if given) is zero.
    """
    return _embedding_backward.impl(idx, grad, num_embeddings, padding_idx)
