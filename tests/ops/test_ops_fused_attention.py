"""The fused attention paths equal the composites they replace, values and gradients:

- ``ScaledDotProductAttention`` with ``heads=H`` (heads side by side in the last axis, split
  and merged inside the node) == reshape/transpose -> SDPA per head -> transpose/reshape;
- ``MultiHeadAttention`` without a cache (the packed path) == with a fresh ``KVCache`` (the
  split-heads path), masks and dropout included;
- ``AdditiveAttention`` (one node per decoder step, Numba kernels) == the additive score
  written with primitive ops.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import use_backend
from minigrad.models.attention import KVCache, MultiHeadAttention, causal_mask, padding_mask
from minigrad.ops.attention import AdditiveAttention, ScaledDotProductAttention


def _t(rng, *shape):
    return mg.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=True)


def _split(x, H):
    B, T, F = x.shape
    return x.reshape(B, T, H, F // H).transpose(0, 2, 1, 3)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "both"])
@pytest.mark.parametrize("dropout", [False, True])
def test_packed_heads_equal_split_heads(mask_kind, dropout, backend):
    rng = np.random.default_rng(0)
    B, H, T, S, d, dv = 3, 2, 4, 5, 3, 2
    q, k, v = _t(rng, B, T, H * d), _t(rng, B, S, H * d), _t(rng, B, S, H * dv)
    mask = {"none": None, "causal": np.tril(np.ones((T, S), bool)), "padding": padding_mask(np.array([5, 2, 4]), S),
            "both": padding_mask(np.array([5, 1, 3]), S) & np.tril(np.ones((T, S), bool))}[mask_kind]
    keep = (rng.random((B, H, T, S)) > 0.3) / 0.7 if dropout else None
    proj = rng.standard_normal((B, T, H * dv))
    with use_backend(backend):
        packed, weights = ScaledDotProductAttention.apply(q, k, v, mask=mask, scale=0.7, keep=keep, heads=H)
        (packed * proj).sum().backward()
        grads = [x.grad.copy() for x in (q, k, v)]
        for x in (q, k, v):
            x.grad = None
        split, _ = ScaledDotProductAttention.apply(_split(q, H), _split(k, H), _split(v, H), mask=mask, scale=0.7,
                                                   keep=keep)
        merged = split.transpose(0, 2, 1, 3).reshape(B, T, H * dv)
        (merged * proj).sum().backward()
    np.testing.assert_allclose(packed.data, merged.data, rtol=1e-12, atol=1e-13)
    for got, x in zip(grads, (q, k, v)):
        np.testing.assert_allclose(got, x.grad, rtol=1e-12, atol=1e-13)
    assert weights.shape == (B, H, T, S) and not weights.requires_grad


def test_packed_heads_gradcheck():
    rng = np.random.default_rng(1)
    B, H, T, S, d = 2, 2, 3, 4, 2
    mask = padding_mask(np.array([4, 2]), S) & np.ones((T, S), bool)
    inputs = [_t(rng, B, T, H * d), _t(rng, B, S, H * d), _t(rng, B, S, H * d)]
    assert mg.gradcheck(lambda q, k, v: ScaledDotProductAttention.apply(q, k, v, mask=mask, scale=0.5, heads=H)[0],
                        inputs)


@pytest.mark.parametrize("cross", [False, True])
def test_multi_head_attention_packed_path_equals_cached_path(cross):
    rng = np.random.default_rng(2)
    mg.manual_seed(0)
    B, T, S, E, H = 2, 5, 4, 8, 2
    mha = MultiHeadAttention(E, H)
    for p in mha.parameters():
        p.data = p.data.astype(np.float64)
    x = _t(rng, B, T, E)
    memory = _t(rng, B, S, E) if cross else x
    mask = padding_mask(np.array([4, 3]), S) if cross else causal_mask(T)
    out, w = mha(x, memory, memory, mask)
    proj = rng.standard_normal(out.shape)
    (out * proj).sum().backward()
    grads = [p.grad.copy() for p in mha.parameters()] + [x.grad.copy()]
    mha.zero_grad()
    x.grad = None
    ref, w_ref = mha(x, memory, memory, mask, cache=KVCache(static=cross))
    (ref * proj).sum().backward()
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w.data, w_ref.data, rtol=1e-12, atol=1e-13)
    for got, want in zip(grads, [p.grad for p in mha.parameters()] + [x.grad]):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_multi_head_attention_shape_errors_name_the_shapes():
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="do not fit"):
        mha(mg.zeros(2, 3, 8), mg.zeros(2, 4, 8), mg.zeros(2, 5, 8))
    with pytest.raises(ValueError, match="mask"):
        mha(mg.zeros(2, 3, 8), mg.zeros(2, 4, 8), mg.zeros(2, 4, 8), np.ones((3, 3), bool))


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_additive_attention_equals_primitive_composite(backend):
    rng = np.random.default_rng(3)
    B, T, Dq, A, Dv = 3, 5, 4, 6, 3
    query, w_q, keys_proj = _t(rng, B, Dq), _t(rng, A, Dq), _t(rng, B, T, A)
    v, values = _t(rng, 1, A), _t(rng, B, T, Dv)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    proj = rng.standard_normal((B, Dv))
    inputs = (query, w_q, keys_proj, v, values)
    with use_backend(backend):
        fused, _ = AdditiveAttention.apply(*inputs, mask=mask)
        (fused * proj).sum().backward()
    grads = [x.grad.copy() for x in inputs]
    for x in inputs:
        x.grad = None
    hidden = mg.tanh(keys_proj + (query @ w_q.T).reshape(B, 1, A))  # (B, T, A)
    scores = (hidden * v.reshape(1, 1, A)).sum(axis=-1).masked_fill(mg.tensor(~mask), -np.inf)
    weights = mg.softmax(scores, axis=-1)
    composite = (weights.reshape(B, T, 1) * values).sum(axis=1)
    (composite * proj).sum().backward()
    np.testing.assert_allclose(fused.data, composite.data, rtol=1e-12, atol=1e-13)
    for got, x in zip(grads, inputs):
        np.testing.assert_allclose(got, x.grad, rtol=1e-11, atol=1e-12)
