"""Attention: the fused ops equal their primitive-op compositions (values and gradients),
gradchecks in float64, masks, and the properties attention must have."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import ShapeError
from minigrad.models.attention import (
    BahdanauAttention, KVCache, LuongAttention, MultiHeadAttention, causal_mask, padding_mask,
    scaled_dot_product_attention,
)
from minigrad.models.transformer import EncoderLayer
from testutils import gradcheck_params, randn


@pytest.fixture
def rng():
    mg.manual_seed(0)
    return np.random.default_rng(0)


# =============================================================================== references


def sdpa_composite(q, k, v, mask=None, scale=None):
    """The same attention from primitive ops: matmul, masked_fill, softmax, matmul."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.swapaxes(-1, -2)) * scale
    if mask is not None:
        scores = scores.masked_fill(~np.asarray(mask), -np.inf)
    weights = scores.softmax(-1)
    return weights @ v, weights


def additive_composite(att, query, keys, mask=None):
    """Bahdanau (or Luong concat) attention from primitive ops."""
    hidden = mg.tanh(att.query_proj(query)[:, None, :] + att.key_proj(keys))  # (B, T, A)
    scores = att.v(hidden)[..., 0]  # (B, T)
    if mask is not None:
        scores = scores.masked_fill(~mask, -np.inf)
    weights = scores.softmax(-1)
    return (weights[:, :, None] * keys).sum(axis=1), weights


def luong_composite(att, query, keys, mask=None):
    if att.score == "concat":
        return additive_composite(att, query, keys, mask)
    scored = keys if att.score == "dot" else att.proj(keys)  # (B, T, Dq)
    scores = (scored @ query[:, :, None])[..., 0]  # (B, T)
    if mask is not None:
        scores = scores.masked_fill(~mask, -np.inf)
    weights = scores.softmax(-1)
    return (weights[:, :, None] * keys).sum(axis=1), weights


def _grads(out, proj, *tensors):
    for t in tensors:
        t.grad = None
    (out * proj).sum().backward()
    return [np.zeros(t.shape) if t.grad is None else t.grad.copy() for t in tensors]


def _masks(rng, B, H, Tq, Tk):
    padding = padding_mask(np.array([Tk, 2]), T=Tk)  # (B, 1, 1, Tk)
    full_row = np.ones((B, H, Tq, Tk), dtype=bool)
    full_row[0, 1, 2] = False  # one query row with nothing to attend to
    return {
        "none": None,
        "padding": padding,
        "causal": causal_mask(Tq) if Tq == Tk else padding,
        "fully_masked_row": full_row,
        "random": rng.random((B, 1, Tq, Tk)) < 0.7,
    }


# =============================================================================== scaled dot-product


@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal", "fully_masked_row", "random"])
@pytest.mark.parametrize("shared_kv", [False, True])
def test_sdpa_fused_equals_composite(rng, mask_kind, shared_kv):
    B, H, T, d = 2, 3, 4, 5
    q = randn(rng, B, H, T, d)
    k = randn(rng, B, 1 if shared_kv else H, T, d)  # shared keys/values broadcast over heads
    v = randn(rng, B, 1 if shared_kv else H, T, 6)
    mask = _masks(rng, B, H, T, T)[mask_kind]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    ref_out, ref_weights = sdpa_composite(q, k, v, mask)
    np.testing.assert_allclose(out.data, ref_out.data, atol=1e-12)
    np.testing.assert_allclose(weights.data, ref_weights.data, atol=1e-12)
    proj = rng.standard_normal(out.shape)
    fused = _grads(out, proj, q, k, v)
    ref = _grads(ref_out, proj, q, k, v)
    for got, want in zip(fused, ref):
        np.testing.assert_allclose(got, want, atol=1e-11)


def test_sdpa_float32(rng):
    q, k, v = (randn(rng, 2, 3, 4, dtype=np.float32) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(3))
    ref_out, _ = sdpa_composite(q, k, v, causal_mask(3))
    assert out.dtype == np.float32 and weights.dtype == np.float32
    np.testing.assert_allclose(out.data, ref_out.data, atol=1e-5)


@pytest.mark.parametrize("mask_kind", ["none", "fully_masked_row", "random"])
def test_sdpa_gradcheck(rng, mask_kind):
    B, H, T, d = 2, 3, 4, 3
    q, k, v = randn(rng, B, H, T, d), randn(rng, B, H, T, d), randn(rng, B, H, T, 2)
    mask = _masks(rng, B, H, T, T)[mask_kind]
    assert mg.gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask)[0], [q, k, v])


def test_sdpa_cross_attention_gradcheck(rng):
    q, k, v = randn(rng, 2, 3, 4), randn(rng, 2, 5, 4), randn(rng, 2, 5, 3)
    mask = padding_mask(np.array([5, 3]))[:, 0]  # (B, 1, 5): broadcasts over the 3 queries
    assert mg.gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask)[0], [q, k, v])


def test_weights_sum_to_one_and_are_exactly_zero_where_masked(rng):
    B, H, T = 2, 3, 5
    q, k, v = randn(rng, B, H, T, 4), randn(rng, B, H, T, 4), randn(rng, B, H, T, 4)
    mask = (rng.random((B, H, T, T)) < 0.6) | np.eye(T, dtype=bool)  # every row keeps one key
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, atol=1e-12)
    assert np.all(weights.data[~mask] == 0.0)
    assert not weights.requires_grad


def test_fully_masked_query_gives_zero_weights_output_and_gradient(rng):
    q, k, v = randn(rng, 1, 3, 4), randn(rng, 1, 3, 4), randn(rng, 1, 3, 2)
    mask = np.ones((1, 3, 3), dtype=bool)
    mask[0, 1] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert np.all(np.isfinite(out.data))
    assert np.all(weights.data[0, 1] == 0) and np.all(out.data[0, 1] == 0)
    out.sum().backward()
    assert np.all(q.grad[0, 1] == 0) and np.all(np.isfinite(k.grad)) and np.all(np.isfinite(v.grad))


def test_sdpa_scale_argument(rng):
    q, k, v = randn(rng, 2, 3, 4), randn(rng, 2, 3, 4), randn(rng, 2, 3, 4)
    out, _ = scaled_dot_product_attention(q, k, v, scale=1.0)
    ref, _ = sdpa_composite(q, k, v, scale=1.0)
    np.testing.assert_allclose(out.data, ref.data, atol=1e-12)


def test_sdpa_dropout(rng):
    q, k, v = randn(rng, 2, 4, 3), randn(rng, 2, 4, 3), randn(rng, 2, 4, 3)
    clean, clean_w = scaled_dot_product_attention(q, k, v)
    mg.manual_seed(1)
    dropped, weights = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_allclose(weights.data, clean_w.data)  # returned weights are pre-dropout
    assert not np.allclose(dropped.data, clean.data)
    zero, _ = scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert np.all(zero.data == 0)

    def seeded(q, k, v):  # the same dropout mask on every call, so central differences apply
        mg.manual_seed(3)
        return scaled_dot_product_attention(q, k, v, dropout_p=0.3)[0]

    assert mg.gradcheck(seeded, [q, k, v])


def test_sdpa_errors(rng):
    q, k, v = randn(rng, 2, 3, 4), randn(rng, 2, 5, 4), randn(rng, 2, 5, 3)
    with pytest.raises(TypeError, match="bool"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((3, 5), dtype=np.int64))
    with pytest.raises(ShapeError, match=r"mask \(4, 5\)"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((4, 5), dtype=bool))
    with pytest.raises(ShapeError, match="do not fit"):
        scaled_dot_product_attention(q, randn(rng, 2, 5, 3), v)
    with pytest.raises(ValueError, match="dropout_p"):
        scaled_dot_product_attention(q, k, v, dropout_p=1.5)


# =============================================================================== masks


def test_causal_mask():
    m = causal_mask(4)
    assert m.shape == (4, 4) and m.dtype == np.bool_
    assert np.array_equal(m, np.tril(np.ones((4, 4), dtype=bool)))


def test_padding_mask_from_lengths_and_tokens():
    by_lengths = padding_mask(np.array([3, 1]))
    assert by_lengths.shape == (2, 1, 1, 3)
    assert by_lengths[:, 0, 0].tolist() == [[True, True, True], [True, False, False]]
    tokens = mg.tensor(np.array([[5, 4, 0, 0], [7, 0, 0, 0]]))
    by_tokens = padding_mask(tokens)
    assert by_tokens.shape == (2, 1, 1, 4)
    assert by_tokens[:, 0, 0].tolist() == [[True, True, False, False], [True, False, False, False]]
    assert padding_mask(np.array([2, 1]), T=4).shape == (2, 1, 1, 4)
    assert np.broadcast_shapes(by_tokens.shape, (2, 3, 5, 4)) == (2, 3, 5, 4)
    with pytest.raises(TypeError):
        padding_mask(np.array([1.5, 2.0]))


# =============================================================================== multi-head


def test_mha_shapes_and_head_slices(rng):
    mha = MultiHeadAttention(8, 2)
    x = mg.tensor(rng.standard_normal((3, 5, 8)).astype(np.float32))
    out, weights = mha(x, x, x)
    assert out.shape == (3, 5, 8) and weights.shape == (3, 2, 5, 5)
    # head 1 uses rows 4:8 of each projection
    q = mha.q_proj(x).data[..., 4:8]
    k = mha.k_proj(x).data[..., 4:8]
    scores = q @ k.swapaxes(-1, -2) / 2.0
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights.data[:, 1], expected, atol=1e-5)


def test_mha_rejects_heads_not_dividing_embed_dim():
    with pytest.raises(ValueError, match=r"embed_dim \(10\).*num_heads \(4\)"):
        MultiHeadAttention(10, 4)


@pytest.mark.parametrize("kind", ["self", "causal", "cross"])
def test_mha_gradcheck(rng, kind):
    E, H = 4, 2
    if kind == "cross":
        mha = MultiHeadAttention(E, H, kdim=3, vdim=2)
        query, key, value = randn(rng, 2, 3, E), randn(rng, 2, 4, 3), randn(rng, 2, 4, 2)
        mask = padding_mask(np.array([4, 2]))
    else:
        mha = MultiHeadAttention(E, H)
        query = randn(rng, 2, 3, E)
        key = value = query
        mask = causal_mask(3) if kind == "causal" else None
    names = [name for name, _ in mha.named_parameters()]
    if kind == "cross":
        fn = lambda q, k, v: mha(q, k, v, mask)[0]  # noqa: E731
        inputs = [query, key, value]
    else:
        fn = lambda x: mha(x, x, x, mask)[0]  # noqa: E731
        inputs = [query]
    assert gradcheck_params(mha, fn, names, inputs)


def test_mha_causal_output_ignores_the_future(rng):
    mha = MultiHeadAttention(8, 2).double()
    x = rng.standard_normal((2, 6, 8))
    y = x.copy()
    y[:, 4:] = rng.standard_normal((2, 2, 8))  # change positions 4 and 5 only
    out_x, _ = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x), causal_mask(6))
    out_y, _ = mha(mg.tensor(y), mg.tensor(y), mg.tensor(y), causal_mask(6))
    np.testing.assert_allclose(out_x.data[:, :4], out_y.data[:, :4], atol=1e-12)
    assert not np.allclose(out_x.data[:, 4:], out_y.data[:, 4:])


def test_mha_self_attention_is_permutation_equivariant(rng):
    mha = MultiHeadAttention(8, 4).double()
    x = rng.standard_normal((2, 5, 8))
    perm = rng.permutation(5)
    out, weights = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x))
    out_p, weights_p = mha(mg.tensor(x[:, perm]), mg.tensor(x[:, perm]), mg.tensor(x[:, perm]))
    np.testing.assert_allclose(out_p.data, out.data[:, perm], atol=1e-12)
    np.testing.assert_allclose(weights_p.data, weights.data[:, :, perm][:, :, :, perm], atol=1e-12)


def test_mha_padding_mask_hides_padded_keys(rng):
    mha = MultiHeadAttention(8, 2).double()
    x = rng.standard_normal((1, 3, 8))
    padded = np.concatenate([x, rng.standard_normal((1, 2, 8))], axis=1)
    out, _ = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x))
    out_p, weights = mha(mg.tensor(padded), mg.tensor(padded), mg.tensor(padded), padding_mask(np.array([3]), T=5))
    np.testing.assert_allclose(out_p.data[:, :3], out.data, atol=1e-12)
    assert np.all(weights.data[..., 3:] == 0)


def test_mha_kv_cache_matches_full_causal_attention(rng):
    mha = MultiHeadAttention(8, 2).double()
    x = rng.standard_normal((2, 5, 8))
    full, _ = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x), causal_mask(5))
    cache = KVCache()
    steps = []
    for t in range(5):
        xt = mg.tensor(x[:, t:t + 1])
        steps.append(mha(xt, xt, xt, cache=cache)[0].data)
    assert len(cache) == 5
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full.data, atol=1e-12)


def test_static_kv_cache_projects_memory_once(rng):
    mha = MultiHeadAttention(8, 2, kdim=3, vdim=3).double()
    memory = mg.tensor(rng.standard_normal((2, 4, 3)))
    q = mg.tensor(rng.standard_normal((2, 1, 8)))
    cache = KVCache(static=True)
    first, _ = mha(q, memory, memory, cache=cache)
    again, _ = mha(q, None, None, cache=cache)  # key/value ignored once cached
    np.testing.assert_allclose(first.data, again.data)
    selected = cache.select(np.array([1, 1, 0]))
    assert selected.k.shape == (3, 2, 4, 4)


def test_encoder_layer_with_kv_cache_is_a_gpt_block(rng):
    for norm_first in (True, False):
        layer = EncoderLayer(8, 2, 16, norm_first=norm_first).double()
        x = rng.standard_normal((2, 4, 8))
        full = layer(mg.tensor(x), causal_mask(4)).data
        cache = KVCache()
        steps = [layer(mg.tensor(x[:, t:t + 1]), None, cache).data for t in range(4)]
        np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-12)


# =============================================================================== Bahdanau and Luong


def _step_inputs(rng, B=2, T=4, Dq=3, Dk=5):
    query, keys = randn(rng, B, Dq), randn(rng, B, T, Dk)
    mask = np.ones((B, T), dtype=bool)
    mask[1, 2:] = False
    return query, keys, mask


def _compare(module, composite, rng, Dq, Dk):
    module.double()
    query, keys, mask = _step_inputs(rng, Dq=Dq, Dk=Dk)
    for m in (None, mask):
        context, weights = module(query, keys, m)
        ref_context, ref_weights = composite(module, query, keys, m)
        np.testing.assert_allclose(context.data, ref_context.data, atol=1e-12)
        np.testing.assert_allclose(weights.data, ref_weights.data, atol=1e-12)
        proj = rng.standard_normal(context.shape)
        params = list(module.parameters())
        got = _grads(context, proj, query, keys, *params)
        want = _grads(ref_context, proj, query, keys, *params)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=1e-11)


def test_bahdanau_fused_equals_composite(rng):
    _compare(BahdanauAttention(3, 5, 6), additive_composite, rng, 3, 5)


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_luong_fused_equals_composite(rng, score):
    Dq = 5 if score == "dot" else 3
    _compare(LuongAttention(Dq, 5, score), luong_composite, rng, Dq, 5)


def test_bahdanau_gradcheck(rng):
    att = BahdanauAttention(3, 4, 5)
    query, keys, mask = _step_inputs(rng, Dq=3, Dk=4)
    names = ["query_proj.weight", "key_proj.weight", "key_proj.bias", "v.weight"]
    assert gradcheck_params(att, lambda q, k: att(q, k, mask)[0], names, [query, keys])


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_luong_gradcheck(rng, score):
    Dq = 4 if score == "dot" else 3
    att = LuongAttention(Dq, 4, score)
    query, keys, mask = _step_inputs(rng, Dq=Dq, Dk=4)
    names = [name for name, _ in att.named_parameters()]
    assert gradcheck_params(att, lambda q, k: att(q, k, mask)[0], names, [query, keys])


@pytest.mark.parametrize("make", [lambda: BahdanauAttention(3, 4, 5), lambda: LuongAttention(3, 4, "general"),
                                  lambda: LuongAttention(3, 4, "concat")])
def test_step_attention_properties(rng, make):
    att = make().double()
    query, keys, mask = _step_inputs(rng, Dq=3, Dk=4)
    context, weights = att(query, keys, padding_mask(np.array([4, 2])))  # (B, 1, 1, T) accepted too
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, atol=1e-12)
    assert np.all(weights.data[~mask] == 0)
    np.testing.assert_allclose(context.data, np.einsum("bt,btd->bd", weights.data, keys.data), atol=1e-12)
    pre = att.precompute(keys)
    again, _ = att(query, keys, mask, precomputed=pre)
    np.testing.assert_allclose(again.data, context.data, atol=1e-12)


@pytest.mark.parametrize("make", [lambda: BahdanauAttention(3, 4, 5), lambda: LuongAttention(3, 4, "concat")])
def test_additive_attention_refuses_inputs_its_kernels_cannot_take(rng, make):
    att = make()
    query, keys = randn(rng, 2, 3), randn(rng, 2, 6, 4)
    with pytest.raises(ShapeError, match=r"^AdditiveAttention: precomputed keys \(2, 6, 7\) do not fit keys \(2, 6, 4\)"):
        att(query, keys, precomputed=randn(rng, 2, 6, 7))
    att.to(np.float16)
    half = [mg.tensor(t.data.astype(np.float16)) for t in (query, keys)]
    with pytest.raises(TypeError, match="^AdditiveAttention: query, keys and weights must be float32 or float64"):
        att(*half)


def test_step_attention_errors(rng):
    with pytest.raises(ValueError, match="query_dim == key_dim"):
        LuongAttention(3, 4, "dot")
    with pytest.raises(ValueError, match="score must be one of"):
        LuongAttention(3, 4, "bilinear")
    att = BahdanauAttention(3, 4, 5)
    with pytest.raises(ShapeError, match="query_dim=3"):
        att(randn(rng, 2, 4), randn(rng, 2, 3, 4))
    with pytest.raises(ShapeError, match="mask"):
        att(randn(rng, 2, 3), randn(rng, 2, 3, 4), np.ones((2, 5), dtype=bool))
