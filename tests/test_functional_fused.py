"""The fused ops as ``minigrad.functional`` exposes them: the mask kinds of
``scaled_dot_product_attention``, the tuple outputs of the recurrent ops, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from minigrad import nn
from minigrad.errors import ShapeError

RNG = np.random.default_rng(0)


def _t(*shape):
    return mg.tensor(RNG.standard_normal(shape), requires_grad=True)


def test_an_additive_float_mask_equals_the_bool_mask_it_encodes():
    q, k, v = _t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 2)
    keep = RNG.random((2, 3, 5)) > 0.3
    keep[:, :, 0] = True
    out_bool, w_bool = F.scaled_dot_product_attention(q, k, v, mask=keep)
    out_float, w_float = F.scaled_dot_product_attention(q, k, v, mask=np.where(keep, 0.0, -np.inf))
    np.testing.assert_allclose(out_float.data, out_bool.data, rtol=1e-12)
    np.testing.assert_allclose(w_float.data, w_bool.data, rtol=1e-12)


def test_a_float_mask_is_added_to_the_scores():
    q, k, v = _t(3, 2), _t(4, 2), _t(4, 3)
    bias = RNG.standard_normal((3, 4))
    out, weights = F.scaled_dot_product_attention(q, k, v, mask=bias)
    scores = q.data @ k.data.T / np.sqrt(2) + bias
    want = np.exp(scores - scores.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights.data, want, rtol=1e-12)
    np.testing.assert_allclose(out.data, want @ v.data, rtol=1e-12)
    assert out.requires_grad and not weights.requires_grad


def test_is_causal_lets_each_query_see_itself_and_the_past():
    x = _t(2, 4, 3)
    out, weights = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    ref, ref_weights = F.scaled_dot_product_attention(x, x, x, mask=np.tril(np.ones((4, 4), bool)))
    np.testing.assert_array_equal(weights.data, ref_weights.data)
    np.testing.assert_array_equal(out.data, ref.data)
    assert np.all(np.triu(weights.data[0], 1) == 0)


def test_attention_refuses_bad_masks_in_one_line():
    q = _t(2, 3, 4)
    with pytest.raises(ValueError, match="either mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(TypeError, match="mask must be bool .* or float"):
        F.scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3), int))
    with pytest.raises(ShapeError, match=r"mask \(2, 2\) does not broadcast to the scores \(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, mask=np.ones((2, 2), bool))


def test_packed_heads_equal_heads_split_by_hand():
    B, T, H, d = 2, 3, 2, 2
    q, k, v = _t(B, T, H * d), _t(B, T, H * d), _t(B, T, H * d)
    out, weights = F.scaled_dot_product_attention(q, k, v, is_causal=True, num_heads=H)

    def split(x):
        return x.reshape(B, T, H, d).transpose(0, 2, 1, 3)  # (B, H, T, d)

    ref, ref_weights = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True)
    np.testing.assert_allclose(out.data, ref.transpose(0, 2, 1, 3).reshape(B, T, H * d).data, rtol=1e-12)
    assert weights.shape == (B, H, T, T)
    np.testing.assert_allclose(weights.data, ref_weights.data, rtol=1e-12)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrence_returns_the_outputs_and_the_final_states_as_the_layer_does(cell):
    mg.manual_seed(0)
    layer = (nn.GRU if cell == "gru" else nn.LSTM)(3, 4, batch_first=True).double()
    x = RNG.standard_normal((2, 5, 3))
    lengths = np.array([5, 2])
    xp = F.linear(mg.tensor(x), layer.weight_ih_l0, layer.bias_ih_l0)  # (B, T, G*H)
    got = F.recurrence(xp, layer.weight_hh_l0, layer.bias_hh_l0, cell=cell, batch_first=True, lengths=lengths)
    out, finals = layer(x, lengths=lengths)
    finals = (finals,) if cell == "gru" else finals
    assert len(got) == 1 + len(finals)
    np.testing.assert_allclose(got[0].data, out.data, rtol=1e-12)
    for mine, theirs in zip(got[1:], finals):
        np.testing.assert_allclose(mine.data, theirs.data[0], rtol=1e-12)


def test_recurrent_ops_refuse_bad_arguments_in_one_line():
    with pytest.raises(ValueError, match="cell must be one of rnn_tanh, rnn_relu, gru, lstm, got 'rnn'"):
        F.recurrence(_t(2, 1, 3), _t(3, 1), cell="rnn")
    with pytest.raises(ShapeError, match=r"xp \(2, 1, 4\) and w_hh \(3, 1\) do not fit cell='gru'"):
        F.recurrence(_t(2, 1, 4), _t(3, 1))
    with pytest.raises(ValueError, match=r"lengths must be 1 integers in \[0, 2\], got \[3\]"):
        F.recurrence(_t(2, 1, 3), _t(3, 1), lengths=np.array([3]))
    with pytest.raises(ValueError, match="bahdanau_decoder: cell must be 'gru' or 'lstm'"):
        F.bahdanau_decoder(*[None] * 11, cell="rnn_tanh")
