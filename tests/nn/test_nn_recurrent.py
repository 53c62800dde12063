"""Recurrent layers: the fused ops equal the same network built from primitive ops, padding
semantics with ``lengths``, shapes, errors, and the one-projection-per-layer structure."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import topological_order
from minigrad.ops.recurrent import Recurrence

# ---------------------------------------------------------------- a reference built from primitives


def reference_cell(kind: str, x, state, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's cell equations written with minigrad primitives (one graph node per op)."""
    h = state[0]
    H = h.shape[-1]
    gi = x @ w_ih.T + (b_ih if b_ih is not None else 0.0)
    gh = h @ w_hh.T + (b_hh if b_hh is not None else 0.0)
    if kind == "rnn_tanh":
        return (mg.tanh(gi + gh),)
    if kind == "rnn_relu":
        return (mg.relu(gi + gh),)
    if kind == "gru":
        r = mg.sigmoid(gi[:, :H] + gh[:, :H])
        z = mg.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = mg.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return ((1 - z) * n + z * h,)
    gates = gi + gh
    i, f = mg.sigmoid(gates[:, :H]), mg.sigmoid(gates[:, H:2 * H])
    g, o = mg.tanh(gates[:, 2 * H:3 * H]), mg.sigmoid(gates[:, 3 * H:])
    c = f * state[1] + i * g
    return (o * mg.tanh(c), c)


def reference_sequence(module, kind: str, x, states, lengths=None):
    """A stacked, optionally bidirectional recurrence with padding, step by step in primitives.
    x (B, T, in) batch-first; states: tuple of (L*D, B, H) Tensors. Returns (out, finals)."""
    B, T = x.shape[:2]
    D = module.num_directions
    valid = None if lengths is None else (np.arange(T)[None, :] < np.asarray(lengths)[:, None])  # (B, T)
    finals = [[] for _ in states]
    layer_input = x
    for layer in range(module.num_layers):
        outs = []
        for d in range(D):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w = [getattr(module, n + suffix) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            state = tuple(s[layer * D + d] for s in states)
            steps = [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                new = reference_cell(kind, layer_input[:, t], state, *w)
                if valid is not None:
                    m = mg.tensor(valid[:, t:t + 1])
                    new = tuple(mg.where(m, a, b) for a, b in zip(new, state))
                    steps[t] = mg.where(m, new[0], 0.0)
                else:
                    steps[t] = new[0]
                state = new
            outs.append(mg.stack(steps, axis=1))
            for j, s in enumerate(state):
                finals[j].append(s)
        layer_input = outs[0] if D == 1 else mg.concat(outs, axis=-1)
    return layer_input, [mg.stack(f, axis=0) for f in finals]


KINDS = {"rnn_tanh": (nn.RNN, {}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}), "gru": (nn.GRU, {}), "lstm": (nn.LSTM, {})}


def _grads(module, x, states):
    return [x.grad] + [s.grad for s in states] + [p.grad for p in module.parameters()]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("use_lengths", [False, True])
def test_fused_sequence_equals_the_primitive_composite(kind, bidirectional, use_lengths):
    cls, extra = KINDS[kind]
    mg.manual_seed(1)
    rng = np.random.default_rng(1)
    module = cls(3, 4, num_layers=2, bidirectional=bidirectional, **extra).double()
    B, T = 3, 5
    L = module.num_layers * module.num_directions
    lengths = np.array([5, 2, 4]) if use_lengths else None
    n_states = 2 if kind == "lstm" else 1
    x = mg.tensor(rng.standard_normal((B, T, 3)), requires_grad=True)
    states = [mg.tensor(rng.standard_normal((L, B, 4)), requires_grad=True) for _ in range(n_states)]
    proj = rng.standard_normal((B, T, 4 * module.num_directions))

    ref_out, ref_finals = reference_sequence(module, kind, x, states, lengths)
    (sum((f * (k + 1.5)).sum() for k, f in enumerate(ref_finals)) + (ref_out * proj).sum()).backward()
    expected = [g.copy() for g in _grads(module, x, states)]
    x.grad = None
    for s in states:
        s.grad = None
    module.zero_grad()

    if kind == "lstm":
        out, (h_n, c_n) = module(x, tuple(states), lengths=lengths)
        finals = [h_n, c_n]
    else:
        out, h_n = module(x, states[0], lengths=lengths)
        finals = [h_n]
    np.testing.assert_allclose(out.data, ref_out.data, rtol=1e-12, atol=1e-12)
    for f, r in zip(finals, ref_finals):
        np.testing.assert_allclose(f.data, r.data, rtol=1e-12, atol=1e-12)
    (sum((f * (k + 1.5)).sum() for k, f in enumerate(finals)) + (out * proj).sum()).backward()
    for got, want in zip(_grads(module, x, states), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", list(KINDS))
def test_fused_cell_equals_the_primitive_composite(kind):
    cell_cls = {"rnn_tanh": nn.RNNCell, "rnn_relu": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}[kind]
    mg.manual_seed(2)
    rng = np.random.default_rng(2)
    cell = cell_cls(3, 4, **({"nonlinearity": "relu"} if kind == "rnn_relu" else {})).double()
    x = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    state = [mg.tensor(rng.standard_normal((2, 4)), requires_grad=True) for _ in range(2 if kind == "lstm" else 1)]
    ref = reference_cell(kind, x, state, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    sum((r * (k + 1.5)).sum() for k, r in enumerate(ref)).backward()
    expected = [g.copy() for g in _grads(cell, x, state)]
    x.grad = None
    for s in state:
        s.grad = None
    cell.zero_grad()
    got = cell(x, tuple(state)) if kind == "lstm" else (cell(x, state[0]),)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g.data, r.data, rtol=1e-12, atol=1e-12)
    sum((r * (k + 1.5)).sum() for k, r in enumerate(got)).backward()
    for g, want in zip(_grads(cell, x, state), expected):
        np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- padding semantics


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM, nn.RNN])
@pytest.mark.parametrize("batch_first", [True, False])
def test_lengths_equal_running_each_sequence_alone(cls, batch_first):
    mg.manual_seed(3)
    rng = np.random.default_rng(3)
    module = cls(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    lengths = [4, 1, 3]
    B, T = 3, 4
    x_bf = rng.standard_normal((B, T, 3))
    x = mg.tensor(x_bf if batch_first else x_bf.swapaxes(0, 1).copy(), requires_grad=True)
    out, state = module(x, lengths=mg.tensor(lengths))
    h_n = state[0] if cls is nn.LSTM else state
    out_bf = out.data if batch_first else out.data.swapaxes(0, 1)
    for b, n in enumerate(lengths):
        alone = x_bf[b:b + 1, :n] if batch_first else x_bf[b:b + 1, :n].swapaxes(0, 1)
        out_b, state_b = module(mg.tensor(alone))
        h_b = state_b[0] if cls is nn.LSTM else state_b
        out_b = out_b.data if batch_first else out_b.data.swapaxes(0, 1)
        np.testing.assert_allclose(out_bf[b, :n], out_b[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h_n.data[:, b], h_b.data[:, 0], rtol=1e-12, atol=1e-12)
        assert np.all(out_bf[b, n:] == 0)  # padded outputs are zero
    (out.sum() + h_n.sum()).backward()
    grad_bf = x.grad if batch_first else x.grad.swapaxes(0, 1)
    for b, n in enumerate(lengths):
        assert np.all(grad_bf[b, n:] == 0)  # padded inputs get no gradient
        assert np.all(np.abs(grad_bf[b, :n]).sum(axis=-1) > 0)


def test_zero_length_keeps_the_initial_state():
    gru = nn.GRU(2, 3).double()
    h0 = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3)))
    out, h_n = gru(mg.randn(2, 4, 2, dtype=np.float64), h0, lengths=[0, 4])
    np.testing.assert_array_equal(h_n.data[0, 0], h0.data[0, 0])
    assert np.all(out.data[0] == 0)


def test_full_lengths_equal_no_lengths():
    lstm = nn.LSTM(2, 3, bidirectional=True)
    x = mg.randn(2, 4, 2)
    a, (ha, ca) = lstm(x)
    b, (hb, cb) = lstm(x, lengths=np.array([4, 4]))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(ca.data, cb.data)


# ---------------------------------------------------------------- shapes, dtypes and errors


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_output_shapes(cls, batch_first, layers, bidirectional):
    module = cls(3, 5, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    D = 2 if bidirectional else 1
    x = mg.randn(2, 4, 3) if batch_first else mg.randn(4, 2, 3)
    out, state = module(x)
    assert out.shape == ((2, 4, D * 5) if batch_first else (4, 2, D * 5))
    assert out.dtype == np.float32
    for s in (state if cls is nn.LSTM else (state,)):
        assert s.shape == (layers * D, 2, 5)
    # unbatched input (T, in) gives (T, D*H) and states (L*D, H)
    out1, state1 = module(mg.randn(4, 3))
    assert out1.shape == (4, D * 5)
    for s in (state1 if cls is nn.LSTM else (state1,)):
        assert s.shape == (layers * D, 5)


def test_cells_shapes_and_default_state():
    mg.manual_seed(0)
    x = mg.randn(2, 3)
    gru = nn.GRUCell(3, 4)
    h = gru(x)
    assert h.shape == (2, 4)
    np.testing.assert_array_equal(h.data, gru(x, mg.zeros(2, 4)).data)
    lstm = nn.LSTMCell(3, 4)
    h, c = lstm(x)
    assert h.shape == c.shape == (2, 4)
    h2, c2 = lstm(x, (mg.zeros(2, 4), mg.zeros(2, 4)))
    np.testing.assert_array_equal(h.data, h2.data)
    assert nn.RNNCell(3, 4)(mg.randn(3)).shape == (4,)  # unbatched
    assert nn.LSTMCell(3, 4)(mg.randn(3))[1].shape == (4,)


def test_shape_errors_name_the_layer_and_shapes():
    with pytest.raises(mg.ShapeError, match=r"GRU: expected input of shape \(B, T, 3\).*got \(2, 4, 5\)"):
        nn.GRU(3, 4)(mg.randn(2, 4, 5))
    with pytest.raises(mg.ShapeError, match=r"LSTM: expected h0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        nn.LSTM(3, 4, bidirectional=True)(mg.randn(2, 5, 3), (mg.zeros(1, 2, 4), mg.zeros(2, 2, 4)))
    with pytest.raises(mg.ShapeError, match=r"GRUCell: expected input of shape \(B, 3\).*got \(2, 2\)"):
        nn.GRUCell(3, 4)(mg.randn(2, 2))
    with pytest.raises(mg.ShapeError, match=r"GRUCell: expected h of shape \(2, 4\), got \(2, 5\)"):
        nn.GRUCell(3, 4)(mg.randn(2, 3), mg.randn(2, 5))
    with pytest.raises(mg.ShapeError, match=r"RNN: lengths must have shape \(2,\)"):
        nn.RNN(3, 4)(mg.randn(2, 5, 3), lengths=[5, 5, 5])
    with pytest.raises(ValueError, match=r"lengths must be in \[0, 5\]"):
        nn.RNN(3, 4)(mg.randn(2, 5, 3), lengths=[6, 5])
    with pytest.raises(TypeError, match="tuple"):
        nn.LSTM(3, 4)(mg.randn(2, 5, 3), mg.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(3, 0)


# ---------------------------------------------------------------- dropout between layers


def test_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    gru = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = mg.randn(2, 5, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.data, b.data)
    gru.train()
    c, _ = gru(x)
    assert not np.allclose(a.data, c.data)

    single = nn.GRU(3, 8, num_layers=1, dropout=0.5)  # no dropout after the last layer
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


# ---------------------------------------------------------------- structure of the graph


@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_one_input_projection_and_one_recurrence_per_layer_and_direction(layers, bidirectional):
    lstm = nn.LSTM(3, 4, num_layers=layers, bidirectional=bidirectional)

    def graph_ops(steps: int) -> list[str]:
        out, (h_n, c_n) = lstm(mg.randn(2, steps, 3))
        return [node.name for node in topological_order((out.sum() + h_n.sum() + c_n.sum()).grad_fn)]

    names = graph_ops(7)
    n = layers * (2 if bidirectional else 1)
    assert names.count("Recurrence") == n
    assert names.count("Linear") == n  # one (B*T, in) @ W_ih^T per layer and direction, not one per step
    assert len(names) == len(graph_ops(2))  # the graph does not grow with T


def test_no_grad_forward_records_nothing():
    gru = nn.GRU(3, 4)
    with mg.no_grad():
        out, h = gru(mg.randn(2, 3, 3))
    assert not out.requires_grad and out.grad_fn is None


def test_recurrence_node_is_exported_for_kernels():
    assert Recurrence.__name__ == "Recurrence"


def test_initial_state_by_keyword_under_torch_and_design_names():
    mg.manual_seed(0)
    x = mg.randn(2, 3, 4)
    gru, lstm = nn.GRU(4, 5), nn.LSTM(4, 5)
    h0, c0 = mg.randn(1, 2, 5), mg.randn(1, 2, 5)
    np.testing.assert_array_equal(gru(x, hx=h0)[1].data, gru(x, h0)[1].data)
    expected = lstm(x, (h0, c0))[1][1].data
    for kwargs in ({"hc": (h0, c0)}, {"h0": (h0, c0)}, {"hx": (h0, c0)}):
        np.testing.assert_array_equal(lstm(x, **kwargs)[1][1].data, expected)
    with pytest.raises(TypeError, match="given twice"):
        lstm(x, (h0, c0), hx=(h0, c0))
    cell, lcell = nn.GRUCell(4, 5), nn.LSTMCell(4, 5)
    h = mg.randn(2, 5)
    np.testing.assert_array_equal(cell(x[:, 0], hx=h).data, cell(x[:, 0], h).data)
    np.testing.assert_array_equal(lcell(x[:, 0], hx=(h, h))[0].data, lcell(x[:, 0], (h, h))[0].data)


@pytest.mark.parametrize("make, x_shape, name", [(lambda: nn.GRU(3, 4), (2, 5, 3), "GRU"),
                                                 (lambda: nn.LSTMCell(3, 4), (2, 3), "LSTM")])
def test_gru_and_lstm_refuse_a_dtype_their_kernels_cannot_take(make, x_shape, name):
    layer = make().to(np.float16)
    x = mg.tensor(np.ones(x_shape, np.float16))
    with pytest.raises(TypeError, match=rf"^{name}: the input, state and weights must be float32 or float64, got float16$"):
        layer(x)
    assert nn.RNN(3, 4).to(np.float16)(mg.tensor(np.ones((2, 5, 3), np.float16)))[0].dtype == np.float16  # NumPy cells
