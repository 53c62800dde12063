"""Parity with PyTorch: same state_dict names and shapes, weights copied by name in both
directions, then outputs and ALL gradients (inputs, initial states, parameters) compared.

Sequences with ``lengths`` are compared against pack_padded_sequence(enforce_sorted=False)
+ pad_packed_sequence on the torch side.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")

pytestmark = pytest.mark.torch

TOL64 = dict(rtol=1e-9, atol=1e-11)


def copy_weights(src, dst, direction: str) -> None:
    """Copy by state_dict name: minigrad -> torch ("mg2t") or torch -> minigrad ("t2mg")."""
    if direction == "mg2t":
        dst.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in src.state_dict().items()})
    else:
        dst.load_state_dict({k: v.detach().numpy() for k, v in src.state_dict().items()})


def paired(make_mg, make_torch, direction: str):
    """A float64 minigrad module and its torch twin holding the same weights."""
    m, t = make_mg().double(), make_torch().double()
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    if direction == "mg2t":
        copy_weights(m, t, direction)
    else:
        copy_weights(t, m, direction)
    return m, t


def pair_input(array: np.ndarray, requires_grad: bool = True):
    return mg.tensor(array.copy(), requires_grad=requires_grad), torch.tensor(array.copy(), requires_grad=requires_grad)


def assert_grads_match(m, t, pairs=(), tol=TOL64):
    for a, b in pairs:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol)
    torch_params = dict(t.named_parameters())
    for name, p in m.named_parameters():
        expected = torch_params[name].grad
        got = np.zeros_like(p.data) if p.grad is None else p.grad
        np.testing.assert_allclose(got, np.zeros_like(got) if expected is None else expected.numpy(), err_msg=name, **tol)


def backprop_both(m_outs, t_outs, rng):
    """Project every output on the same random weights and backpropagate both sides."""
    loss_m, loss_t = 0.0, 0.0
    for a, b in zip(m_outs, t_outs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL64)
        proj = rng.standard_normal(a.shape)
        loss_m = loss_m + (a * proj).sum()
        loss_t = loss_t + (b * torch.from_numpy(proj)).sum()
    loss_m.backward()
    loss_t.backward()


DIRECTIONS = ["mg2t", "t2mg"]


# ---------------------------------------------------------------- feed-forward layers


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_linear(direction):
    rng = np.random.default_rng(0)
    m, t = paired(lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3), direction)
    xm, xt = pair_input(rng.standard_normal((2, 5, 4)))
    backprop_both([m(xm)], [t(xt)], rng)
    assert_grads_match(m, t, [(xm, xt)])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_embedding_with_padding_idx(direction):
    rng = np.random.default_rng(1)
    m, t = paired(lambda: nn.Embedding(7, 3, padding_idx=2), lambda: torch.nn.Embedding(7, 3, padding_idx=2), direction)
    idx = np.array([[2, 1, 1, 6], [0, 2, 6, 6]])
    backprop_both([m(idx)], [t(torch.from_numpy(idx))], rng)
    assert_grads_match(m, t)
    assert np.all(m.weight.grad[2] == 0)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_layer_norm(direction):
    rng = np.random.default_rng(2)
    m, t = paired(lambda: nn.LayerNorm((2, 4)), lambda: torch.nn.LayerNorm((2, 4)), direction)
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-0.5, 0.5)
    copy_weights(t, m, "t2mg")
    xm, xt = pair_input(rng.standard_normal((3, 2, 4)) * 3 + 1)
    backprop_both([m(xm)], [t(xt)], rng)
    assert_grads_match(m, t, [(xm, xt)])


# ---------------------------------------------------------------- cells


CELLS = [
    ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("GRUCell", {}), ("LSTMCell", {}), ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("name, kwargs", CELLS, ids=[f"{n}-{k}" for n, k in CELLS])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("with_state", [False, True])
def test_cells(name, kwargs, direction, with_state):
    rng = np.random.default_rng(3)
    m, t = paired(lambda: getattr(nn, name)(3, 4, **kwargs), lambda: getattr(torch.nn, name)(3, 4, **kwargs), direction)
    xm, xt = pair_input(rng.standard_normal((2, 3)))
    pairs = [(xm, xt)]
    if name == "LSTMCell":
        if with_state:
            hm, ht = pair_input(rng.standard_normal((2, 4)))
            cm, ct = pair_input(rng.standard_normal((2, 4)))
            pairs += [(hm, ht), (cm, ct)]
            outs_m, outs_t = m(xm, (hm, cm)), t(xt, (ht, ct))
        else:
            outs_m, outs_t = m(xm), t(xt)
    else:
        if with_state:
            hm, ht = pair_input(rng.standard_normal((2, 4)))
            pairs.append((hm, ht))
            outs_m, outs_t = [m(xm, hm)], [t(xt, ht)]
        else:
            outs_m, outs_t = [m(xm)], [t(xt)]
    backprop_both(list(outs_m), list(outs_t), rng)
    assert_grads_match(m, t, pairs)


# ---------------------------------------------------------------- sequences


def run_torch(t, x, state, lengths, batch_first):
    if lengths is None:
        return t(x, state)
    steps = x.shape[1] if batch_first else x.shape[0]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    out, final = t(packed, state)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=steps)
    return out, final


SEQUENCES = [
    (kind, bf, bidir, lengths, layers)
    for kind in ("GRU", "LSTM", "RNN")
    for bf in (True, False)
    for bidir, lengths, layers in ((False, False, 1), (True, True, 2), (True, False, 2))
]


@pytest.mark.parametrize("kind, batch_first, bidirectional, use_lengths, layers", SEQUENCES,
                         ids=[f"{k}-bf{b}-bi{d}-len{l}-L{n}" for k, b, d, l, n in SEQUENCES])
@pytest.mark.parametrize("with_state", [False, True])
def test_sequences(kind, batch_first, bidirectional, use_lengths, layers, with_state):
    rng = np.random.default_rng(4)
    direction = DIRECTIONS[(len(kind) + layers + int(batch_first)) % 2]  # both directions across the table
    kwargs = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    m, t = paired(lambda: getattr(nn, kind)(3, 4, **kwargs), lambda: getattr(torch.nn, kind)(3, 4, **kwargs), direction)
    B, T = 3, 5
    lengths = [5, 2, 4] if use_lengths else None
    xm, xt = pair_input(rng.standard_normal((B, T, 3) if batch_first else (T, B, 3)))
    pairs = [(xm, xt)]
    state_m = state_t = None
    if with_state:
        shape = (layers * (2 if bidirectional else 1), B, 4)
        states = [pair_input(rng.standard_normal(shape)) for _ in range(2 if kind == "LSTM" else 1)]
        pairs += states
        state_m = tuple(s[0] for s in states) if kind == "LSTM" else states[0][0]
        state_t = tuple(s[1] for s in states) if kind == "LSTM" else states[0][1]
    out_m, final_m = m(xm, state_m, lengths=lengths)
    out_t, final_t = run_torch(t, xt, state_t, lengths, batch_first)
    finals_m = list(final_m) if kind == "LSTM" else [final_m]
    finals_t = list(final_t) if kind == "LSTM" else [final_t]
    backprop_both([out_m] + finals_m, [out_t] + finals_t, rng)
    assert_grads_match(m, t, pairs)


def test_float32_gru_is_close_to_torch():
    rng = np.random.default_rng(5)
    m = nn.GRU(8, 16, num_layers=2, bidirectional=True)
    t = torch.nn.GRU(8, 16, num_layers=2, bidirectional=True, batch_first=True)
    copy_weights(m, t, "mg2t")
    x = rng.standard_normal((4, 10, 8)).astype(np.float32)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_m, h_m = m(xm, lengths=[10, 3, 7, 1])
    out_t, h_t = run_torch(t, xt, None, [10, 3, 7, 1], True)
    assert out_m.dtype == np.float32
    np.testing.assert_allclose(out_m.data, out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_m.data, h_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    (out_m.sum() + h_m.sum()).backward()
    (out_t.sum() + h_t.sum()).backward()
    np.testing.assert_allclose(xm.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, tp[name].grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)


# ---------------------------------------------------------------- names, order and initialisation


def test_parameter_order_matches_torch_for_nested_modules():
    class MgNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 3)
            self.rnn = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
            self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.LayerNorm(8)) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.GRUCell(8, 3)})

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(5, 3)
            self.rnn = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
            self.blocks = torch.nn.ModuleList(
                [torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.LayerNorm(8)) for _ in range(2)])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(8, 2), "b": torch.nn.GRUCell(8, 3)})

    m, t = MgNet(), TorchNet()
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    copy_weights(t, m, "t2mg")


@pytest.mark.parametrize("make_mg, make_torch", [
    (lambda: nn.Linear(300, 200), lambda: torch.nn.Linear(300, 200)),
    (lambda: nn.Embedding(300, 100), lambda: torch.nn.Embedding(300, 100)),
    (lambda: nn.GRU(50, 64, num_layers=2, bidirectional=True), lambda: torch.nn.GRU(50, 64, num_layers=2, bidirectional=True)),
    (lambda: nn.LSTMCell(30, 80), lambda: torch.nn.LSTMCell(30, 80)),
    (lambda: nn.RNN(30, 80), lambda: torch.nn.RNN(30, 80)),
], ids=["Linear", "Embedding", "GRU", "LSTMCell", "RNN"])
def test_initialisation_statistics_match_torch(make_mg, make_torch):
    mg.manual_seed(0)
    torch.manual_seed(0)
    m, t = make_mg(), make_torch()
    tp = dict(t.named_parameters())
    normal = isinstance(m, nn.Embedding)  # N(0, 1); everything else is U(-b, b)
    for name, p in m.named_parameters():
        assert p.dtype == np.float32
        ours, theirs = p.data.astype(np.float64), tp[name].detach().numpy().astype(np.float64)
        spread = theirs.std()
        assert abs(ours.mean()) < 5 * spread / math.sqrt(ours.size), name  # centred, within 5 standard errors
        assert abs(ours.std() / spread - 1) < 0.15, name
        if not normal:  # same support: the largest draws approach the same bound
            assert 0.8 * np.abs(theirs).max() < np.abs(ours).max() < 1.05 * np.abs(theirs).max(), name
