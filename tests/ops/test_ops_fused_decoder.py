"""The fused teacher-forced Bahdanau decoder (``minigrad.ops.recurrent.BahdanauDecoder``) equals the
step-by-step decoder it replaces (``RNNSeq2Seq._step``, one graph node per op), values and
gradients, for GRU and LSTM cells, with and without padding; and passes gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import models
from minigrad.kernels import use_backend
from minigrad.ops._cell_math import CELLS
from minigrad.ops.recurrent import BahdanauDecoder

V = 9


def _batch(rng, B=3, S=5, T=4, ragged=True):
    lengths = np.array([S, 2, 4][:B]) if ragged else np.full(B, S)
    src = rng.integers(3, V, size=(B, S))
    for b, n in enumerate(lengths):
        src[b, n:] = 0
    tgt = rng.integers(3, V, size=(B, T))
    tgt[:, 0] = 1
    return src, tgt, lengths


def _model(cell: str, dtype=np.float64, **hyper):
    mg.manual_seed(0)
    model = models.build("rnn-attn", V, V, embed_dim=6, hidden_dim=7, cell=cell, **hyper)
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model


def _stepwise_logits(model, src, tgt, lengths):
    """The decoder as a loop over target positions, one ``_step`` each: the composition of
    primitive ops that the fused decoder must equal."""
    state = model.encode(src, lengths)
    emb = model.tgt_embed(tgt)
    steps = []
    for t in range(tgt.shape[1]):
        features, state, _ = model._step(emb[:, t], state)
        steps.append(features)
    columns = [mg.stack([f[i] for f in steps], axis=1) for i in range(len(steps[0]))]
    return model.out_proj(mg.concat(columns, axis=-1))


def _grads(model, logits, proj):
    model.zero_grad()
    (logits * proj).sum().backward()
    return {n: p.grad.copy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("ragged", [True, False])
def test_fused_decoder_equals_the_stepwise_decoder(cell, ragged, backend):
    rng = np.random.default_rng(0)
    src, tgt, lengths = _batch(rng, ragged=ragged)
    with use_backend(backend):
        model = _model(cell)
        fused = model(src, tgt, src_lengths=lengths)
        graph_nodes = _count_nodes(fused)
        proj = rng.standard_normal(fused.shape)
        g_fused = _grads(model, fused, proj)
        stepwise = _stepwise_logits(model, src, tgt, lengths)
        g_step = _grads(model, stepwise, proj)
    np.testing.assert_allclose(fused.data, stepwise.data, rtol=1e-12, atol=1e-12)
    for name in g_step:
        np.testing.assert_allclose(g_fused[name], g_step[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert graph_nodes < 20 + tgt.shape[1]  # not ~6 nodes per step


def _count_nodes(t):
    from minigrad.autograd import topological_order

    return len(topological_order(t.grad_fn))


def test_fused_decoder_float32_matches_float64():
    rng = np.random.default_rng(1)
    src, tgt, lengths = _batch(rng)
    m32, m64 = _model("gru", np.float32), _model("gru", np.float64)
    np.testing.assert_allclose(m32(src, tgt, src_lengths=lengths).data, m64(src, tgt, src_lengths=lengths).data,
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("biases", [True, False])
def test_fused_decoder_gradcheck(cell, biases):
    rng = np.random.default_rng(2)
    B, T, E, H, S, A, Dk = 2, 3, 2, 3, 4, 3, 3
    G = 3 if cell == "gru" else 4
    mask = np.array([[True, True, True, False], [True, True, True, True]])

    def t(*shape, scale=0.5):
        return mg.tensor(rng.standard_normal(shape) * scale, dtype=np.float64, requires_grad=True)

    inputs = [t(B, T, E), t(B, H), t(B, H) if cell == "lstm" else None, t(G * H, E + Dk), t(G * H, H),
              t(G * H) if biases else None, t(G * H) if biases else None, t(A, H), t(B, S, A), t(1, A), t(B, S, Dk)]

    def fn(*xs):
        return BahdanauDecoder.apply(*xs, mask=mask, cell=CELLS[cell])[0]

    assert mg.gradcheck(fn, inputs)


def test_fused_decoder_in_eval_mode_with_dropout_configured():
    rng = np.random.default_rng(3)
    src, tgt, lengths = _batch(rng)
    model = _model("gru", dropout=0.3)
    model.eval()
    fused = model(src, tgt, src_lengths=lengths)
    np.testing.assert_allclose(fused.data, _stepwise_logits(model, src, tgt, lengths).data, rtol=1e-12, atol=1e-12)
