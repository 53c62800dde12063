"""The attention page: every layer and head of a model's attention as a grid of small heatmaps,
and for the selected head lines from each query token to the key tokens, weighted by attention.

A module takes part by keeping its last weights as ``last_weights``, an ndarray (B, H, Tq, Tk):
``models.attention.MultiHeadAttention`` does, so every Transformer layer (encoder self-attention,
decoder causal self-attention and cross-attention) and the language model's blocks show up.
A recurrent decoder's alignment matrix (Tq, Tk) is shown with ``alignment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..autograd import no_grad
from ._data import number


@dataclass
class AttentionMap:
    """One attention layer: ``weights`` (H, Tq, Tk), row i being where query token i looked.

    ``kind`` is "self", "causal" (self-attention that never looks ahead), "cross" or "alignment".
    """

    name: str
    kind: str
    weights: np.ndarray
    queries: list[str]
    keys: list[str]

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "heads": int(self.weights.shape[0]),
                "queries": list(self.queries), "keys": list(self.keys),
                "weights": [[[number(v) for v in row] for row in head] for head in self.weights]}


def collect(model, calls: Sequence[tuple], batch_index: int = 0) -> list[tuple[str, np.ndarray]]:
    """Run ``model(*args)`` for each ``args`` in ``calls`` (no gradients, evaluation mode, the training
    flags put back) and return ``(module path, weights (H, Tq, Tk))`` for every module that kept
    ``last_weights`` in the last call, in module order."""
    modules = [(path, m) for path, m in model.named_modules() if hasattr(m, "last_weights")]
    flags = [(m, m.training) for m in model.modules()]
    for _, m in modules:
        m.last_weights = None  # nothing stale from an earlier call
    model.eval()
    try:
        with no_grad():
            for args in calls:
                model(*args)
    finally:
        for m, flag in flags:
            m.training = flag
    found = []
    for path, m in modules:
        w = getattr(m, "last_weights", None)
        if isinstance(w, np.ndarray) and w.ndim == 4:
            found.append((path, np.asarray(w[batch_index], dtype=np.float64)))
    return found


def _kind(path: str, weights: np.ndarray) -> str:
    if "cross" in path:
        return "cross"
    H, Tq, Tk = weights.shape
    ahead = np.triu(np.ones((Tq, Tk), dtype=bool), k=1 + Tk - Tq)  # keys after each query's own position
    return "causal" if Tq > 1 and not np.any(weights[:, ahead] > 0) else "self"


def model_maps(model, src: Any, tgt: Any = None, src_tokens: Sequence[str] | None = None,
               tgt_tokens: Sequence[str] | None = None) -> list[AttentionMap]:
    """The attention maps of ``model(src)`` (an encoder or a language model) or ``model(src, tgt)``
    (an encoder-decoder), token ids as (T,) or (1, T). Cross-attention has target queries and source
    keys, a decoder's self-attention target tokens on both sides, everything else source tokens."""
    src = np.atleast_2d(np.asarray(src, dtype=np.int64))
    tgt = None if tgt is None else np.atleast_2d(np.asarray(tgt, dtype=np.int64))
    src_labels = list(src_tokens) if src_tokens is not None else [str(t) for t in src[0]]
    tgt_labels = (list(tgt_tokens) if tgt_tokens is not None else [str(t) for t in tgt[0]]) if tgt is not None else []
    found = collect(model, [(src,) if tgt is None else (src, tgt)])
    if not found:
        raise ValueError(f"{type(model).__name__} kept no attention weights: no submodule has last_weights "
                         "(an ndarray (B, H, Tq, Tk)) after its forward")
    maps = []
    for path, w in found:
        kind = _kind(path, w)
        on_target = tgt is not None and (kind == "cross" or path.startswith("decoder"))
        queries = tgt_labels if on_target else src_labels
        keys = src_labels if kind == "cross" or not on_target else tgt_labels
        maps.append(AttentionMap(path, kind, w, _fit(queries, w.shape[1]), _fit(keys, w.shape[2])))
    return maps


def _fit(labels: list[str], n: int) -> list[str]:
    """``labels`` cut or extended (with positions) to ``n`` entries."""
    return list(labels[:n]) + [str(i) for i in range(len(labels), n)]


def alignment_map(matrix: np.ndarray, queries: Sequence[str], keys: Sequence[str],
                  name: str = "decoder alignment") -> AttentionMap:
    """A recurrent decoder's alignment (Tq, Tk) as a one-head map."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"an alignment matrix is (output tokens, source tokens), got shape {matrix.shape}")
    return AttentionMap(name, "alignment", matrix[None], _fit(list(queries), matrix.shape[0]),
                        _fit(list(keys), matrix.shape[1]))
