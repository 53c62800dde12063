"""Every layer's outputs gradchecked in float64 w.r.t. its inputs AND its parameters.

Small sizes (B=2, T=3, H=3) keep the element-by-element central differences fast.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from testutils import gradcheck_module, randn

B, T, H, IN = 2, 3, 3, 2


@pytest.fixture
def rng():
    mg.manual_seed(0)
    return np.random.default_rng(0)


# ---------------------------------------------------------------- feed-forward layers


@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, bias):
    assert gradcheck_module(nn.Linear(3, 2, bias=bias), [randn(rng, B, T, 3)])


def test_embedding_weight_with_repeated_indices():
    idx = np.array([[1, 3, 1], [0, 1, 3]])  # 1 and 3 repeat: their gradients accumulate
    assert gradcheck_module(nn.Embedding(5, 3), [idx])


def test_embedding_padding_row_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=0).double()
    idx = np.array([[0, 2, 0], [4, 0, 2]])
    # The padding row is deliberately frozen, so central differences would disagree with it:
    # mask the padded positions out of the output, then every row must match (the padding row at 0).
    keep = (idx != 0)[..., None].astype(np.float64)
    assert gradcheck_module(emb, [idx], call=lambda m, i: m(i) * keep)

    emb.zero_grad()
    emb(idx).sum().backward()
    assert np.all(emb.weight.grad[0] == 0)
    assert np.allclose(emb.weight.grad[2], 2.0) and np.allclose(emb.weight.grad[4], 1.0)


@pytest.mark.parametrize("shape", [3, (2, 3)])
def test_layer_norm(rng, shape):
    ln = nn.LayerNorm(shape)
    ln.weight.data[...] = rng.uniform(0.5, 1.5, ln.weight.shape)  # not all ones, so d/dweight is tested
    ln.bias.data[...] = rng.uniform(-0.5, 0.5, ln.bias.shape)
    x = randn(rng, B, 2, 3)
    assert gradcheck_module(ln, [x])


def test_activation_modules(rng):
    x = mg.tensor(rng.uniform(0.2, 1.5, (B, 3)) * np.sign(rng.standard_normal((B, 3))), requires_grad=True)
    for module in (nn.ReLU(), nn.GELU(), nn.GELU("tanh"), nn.Tanh(), nn.Sigmoid(), nn.Softmax(), nn.LogSoftmax()):
        assert mg.gradcheck(module, [x])


# ---------------------------------------------------------------- cells


@pytest.mark.parametrize("make", [
    lambda: nn.RNNCell(IN, H),
    lambda: nn.RNNCell(IN, H, nonlinearity="relu"),
    lambda: nn.GRUCell(IN, H),
    lambda: nn.GRUCell(IN, H, bias=False),
], ids=["rnn_tanh", "rnn_relu", "gru", "gru_nobias"])
@pytest.mark.parametrize("with_state", [False, True])
def test_single_state_cells(rng, make, with_state):
    cell = make()
    inputs = [randn(rng, B, IN)] + ([randn(rng, B, H)] if with_state else [])
    assert gradcheck_module(cell, inputs)


@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_cell(rng, with_state):
    cell = nn.LSTMCell(IN, H)
    if with_state:
        inputs = [randn(rng, B, IN), randn(rng, B, H), randn(rng, B, H)]
        assert gradcheck_module(cell, inputs, call=lambda m, x, h, c: m(x, (h, c)))
    else:
        assert gradcheck_module(cell, [randn(rng, B, IN)])


def test_cell_used_for_several_steps(rng):
    cell = nn.GRUCell(IN, H)
    xs = randn(rng, T, B, IN)

    def unroll(m, x):
        h = None
        for t in range(T):
            h = m(x[t], h)
        return h

    assert gradcheck_module(cell, [xs], call=unroll)


# ---------------------------------------------------------------- sequences

SEQUENCE_CASES = [
    # (class, kwargs, with lengths, with initial state)
    (nn.RNN, dict(), False, False),
    (nn.RNN, dict(nonlinearity="relu", batch_first=False), True, True),
    (nn.GRU, dict(), False, True),
    (nn.GRU, dict(num_layers=2, bidirectional=True), True, True),
    (nn.GRU, dict(num_layers=2, batch_first=False, bias=False), True, False),
    (nn.LSTM, dict(), False, True),
    (nn.LSTM, dict(num_layers=2, bidirectional=True), True, True),
    (nn.LSTM, dict(bidirectional=True, batch_first=False), True, False),
]


@pytest.mark.parametrize("cls, kwargs, with_lengths, with_state", SEQUENCE_CASES,
                         ids=[f"{c.__name__}-{k}-len{l}-h0{s}" for c, k, l, s in SEQUENCE_CASES])
def test_sequence_layers(rng, cls, kwargs, with_lengths, with_state):
    layer = cls(IN, H, **kwargs)
    batch_first = kwargs.get("batch_first", True)
    x = randn(rng, B, T, IN) if batch_first else randn(rng, T, B, IN)
    lengths = np.array([T, 2]) if with_lengths else None
    n_states = layer.num_layers * layer.num_directions
    inputs = [x]
    if with_state:
        inputs += [randn(rng, n_states, B, H) for _ in range(2 if cls is nn.LSTM else 1)]

    def call(m, x, *state):
        if cls is nn.LSTM:
            return m(x, tuple(state) if state else None, lengths=lengths)
        return m(x, state[0] if state else None, lengths=lengths)

    assert gradcheck_module(layer, inputs, call=call)
