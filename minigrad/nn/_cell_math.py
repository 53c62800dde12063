"""The maths of one recurrent step, on ndarrays: one forward and one backward per cell type.

This is the only place the RNN/GRU/LSTM equations are written. ``Recurrence`` (a whole
sequence) and ``CellStep`` (one step, used by ``GRUCell`` and friends) both call the
functions of the ``CELLS`` table, so fused kernels can replace them in one place.

Notation (PyTorch's): x (B, in), h and c (B, H); ``gi`` = x W_ih^T + b_ih (B, G*H) is
computed by the caller (for a whole sequence with one matmul); the step computes
``gh`` = h W_hh^T + b_hh (B, G*H) itself. G is the number of gates: 1 (RNN), 3 (GRU: r, z, n),
4 (LSTM: i, f, g, o), stacked in that order along the last axis.

Each ``*_forward(gi, state, w_hh, b_hh)`` returns ``(new_state, cache)``; state is a tuple
``(h,)`` or ``(h, c)``. Each ``*_backward(cache, dstate, w_hh)`` takes the gradient of the
new state and returns ``(dgi, dgh, dstate_prev)``: the gradients of gi and gh (B, G*H)
(the same array when gi and gh enter the cell only through their sum) and of the
previous state, including its path through W_hh. The caller turns dgi/dgh into the
weight gradients: dW_hh = dgh^T h, db_hh = sum(dgh).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np


Array = np.ndarray
State = Tuple[np.ndarray, ...]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-a)) written through tanh: exact, and never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _hidden(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    gh = h @ w_hh.T  # (B, G*H)
    if b_hh is not None:
        gh += b_hh
    return gh


# ---------------------------------------------------------------- Elman RNN: h' = act(gi + gh)


def rnn_tanh_forward(gi: Array, state: State, w_hh: Array, b_hh: Optional[Array]) -> tuple[State, tuple]:
    """h' = tanh(gi + h W_hh^T + b_hh); cache (h',)."""
    (h,) = state
    h_new = np.tanh(gi + _hidden(h, w_hh, b_hh))
    return (h_new,), (h_new,)


def rnn_tanh_backward(cache: tuple, dstate: State, w_hh: Array) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dpre, dpre, (dh,)): gi and gh share the pre-activation gradient."""
    (h_new,) = cache
    dpre = dstate[0] * (1.0 - h_new * h_new)  # (B, H)
    return dpre, dpre, (dpre @ w_hh,)


def rnn_relu_forward(gi: Array, state: State, w_hh: Array, b_hh: Optional[Array]) -> tuple[State, tuple]:
    """h' = relu(gi + h W_hh^T + b_hh); cache (h',)."""
    (h,) = state
    h_new = np.maximum(gi + _hidden(h, w_hh, b_hh), 0.0)
    return (h_new,), (h_new,)


def rnn_relu_backward(cache: tuple, dstate: State, w_hh: Array) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dpre, dpre, (dh,))."""
    (h_new,) = cache
    dpre = dstate[0] * (h_new > 0)  # derivative at 0 taken as 0, as PyTorch
    return dpre, dpre, (dpre @ w_hh,)


# ---------------------------------------------------------------- GRU


def gru_forward(gi: Array, state: State, w_hh: Array, b_hh: Optional[Array]) -> tuple[State, tuple]:
    """r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r * gh_n), h' = (1 - z) n + z h.

    cache: (h, r, z, n, gh_n), each (B, H).
    """
    (h,) = state
    H = h.shape[1]
    gh = _hidden(h, w_hh, b_hh)  # (B, 3H)
    rz = _sigmoid(gi[:, : 2 * H] + gh[:, : 2 * H])
    r, z = rz[:, :H], rz[:, H:]
    gh_n = gh[:, 2 * H:]
    n = np.tanh(gi[:, 2 * H:] + r * gh_n)
    h_new = n + z * (h - n)
    return (h_new,), (h, r, z, n, gh_n)


def gru_backward(cache: tuple, dstate: State, w_hh: Array) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dgi (B, 3H), dgh (B, 3H), (dh (B, H),)); dgi and dgh differ in the n block
    (gh_n is scaled by r)."""
    h, r, z, n, gh_n = cache
    (dh,) = dstate
    H = h.shape[1]
    dn_pre = dh * (1.0 - z) * (1.0 - n * n)  # through n = tanh(gi_n + r * gh_n)
    dgi = np.empty((h.shape[0], 3 * H), dtype=dn_pre.dtype)
    dgi[:, :H] = dn_pre * gh_n * r * (1.0 - r)
    dgi[:, H: 2 * H] = dh * (h - n) * z * (1.0 - z)
    dgi[:, 2 * H:] = dn_pre
    dgh = dgi.copy()
    dgh[:, 2 * H:] = dn_pre * r
    return dgi, dgh, (dh * z + dgh @ w_hh,)


# ---------------------------------------------------------------- LSTM


def lstm_forward(gi: Array, state: State, w_hh: Array, b_hh: Optional[Array]) -> tuple[State, tuple]:
    """[i, f, g, o] = [s, s, tanh, s](gi + gh); c' = f c + i g; h' = o tanh(c').

    cache: (c (B, H), activated gates (B, 4H), tanh(c') (B, H)).
    """
    h, c = state
    H = h.shape[1]
    pre = gi + _hidden(h, w_hh, b_hh)  # (B, 4H)
    act = _sigmoid(pre)
    act[:, 2 * H: 3 * H] = np.tanh(pre[:, 2 * H: 3 * H])
    i, f, g, o = act[:, :H], act[:, H: 2 * H], act[:, 2 * H: 3 * H], act[:, 3 * H:]
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    return (o * tanh_c, c_new), (c, act, tanh_c)


def lstm_backward(cache: tuple, dstate: State, w_hh: Array) -> tuple[Array, Array, State]:
    """(dh', dc') each (B, H) -> (dpre (B, 4H), the same array, (dh, dc))."""
    c, act, tanh_c = cache
    dh, dc = dstate
    H = c.shape[1]
    i, f, g, o = act[:, :H], act[:, H: 2 * H], act[:, 2 * H: 3 * H], act[:, 3 * H:]
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    dpre = np.empty_like(act)
    dpre[:, :H] = dc_total * g * i * (1.0 - i)
    dpre[:, H: 2 * H] = dc_total * c * f * (1.0 - f)
    dpre[:, 2 * H: 3 * H] = dc_total * i * (1.0 - g * g)
    dpre[:, 3 * H:] = dh * tanh_c * o * (1.0 - o)
    return dpre, dpre, (dpre @ w_hh, dc_total * f)


# ---------------------------------------------------------------- the table


class CellMath(NamedTuple):
    """One cell type: its gate count, its state arity and its two step functions."""

    name: str
    gates: int  # G: rows of W_ih and W_hh are G * hidden_size
    states: int  # 1 for (h,), 2 for (h, c)
    forward: Callable
    backward: Callable
    shared: bool  # True when backward's dgi and dgh are the same array (gi and gh only enter as gi + gh)


CELLS: dict[str, CellMath] = {
    "rnn_tanh": CellMath("rnn_tanh", 1, 1, rnn_tanh_forward, rnn_tanh_backward, True),
    "rnn_relu": CellMath("rnn_relu", 1, 1, rnn_relu_forward, rnn_relu_backward, True),
    "gru": CellMath("gru", 3, 1, gru_forward, gru_backward, False),
    "lstm": CellMath("lstm", 4, 2, lstm_forward, lstm_backward, True),
}
