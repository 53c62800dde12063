"""The maths of one recurrent step, on ndarrays: one forward and one backward per cell type.

This is the only place the RNN/GRU/LSTM equations are written on ndarrays (``minigrad.ops.recurrent``
holds their reference composition on Tensors). ``Recurrence`` (a whole
sequence) and ``CellStep`` (one step, used by ``GRUCell`` and friends) both call the
functions of the ``CELLS`` table, so fused kernels can replace them in one place.

Notation (PyTorch's): x (B, in), h and c (B, H); ``gi`` = x W_ih^T + b_ih (B, G*H) is
computed by the caller (for a whole sequence with one matmul); the step computes
``gh`` = h W_hh^T + b_hh (B, G*H) itself. G is the number of gates: 1 (RNN), 3 (GRU: r, z, n),
4 (LSTM: i, f, g, o), stacked in that order along the last axis.

Each cell has two layers of functions:

- ``*_step(gi, gh, state) -> (new_state, cache)`` and ``*_step_backward(cache, dstate) ->
  (dgi, dgh, dstate_direct)``: the pointwise part, given ``gh`` = h W_hh^T + b_hh (B, G*H).
  ``dstate_direct`` is the gradient of the previous state WITHOUT its path through gh
  (None for an entry that gets nothing else, as h of the Elman and LSTM cells).
  GRU and LSTM run in the fused kernels of ``minigrad.kernels.rnn`` (Numba, or their NumPy
  references with ``MINIGRAD_KERNELS=numpy``).
- ``*_forward(gi, state, w_hh, b_hh)`` and ``*_backward(cache, dstate, w_hh)``: the step with
  its products, ``gh = h W_hh^T + b_hh`` before and ``dh += dgh W_hh`` after. ``forward``
  returns ``(new_state, cache)`` (state a tuple ``(h,)`` or ``(h, c)``); ``backward`` takes
  the gradient of the new state and returns ``(dgi, dgh, dstate_prev)``: the gradients of gi
  and gh (B, G*H) (the same array when gi and gh enter the cell only through their sum)
  and of the previous state, including its path through W_hh. The caller turns dgi/dgh
  into the weight gradients: dW_hh = dgh^T h, db_hh = sum(dgh).

Callers that compute gh themselves (one product for several weight matrices) use the
``step`` pair; the others the ``forward`` pair.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np

from ..dtypes import check_kernel_float
from ..kernels import rnn as kernels_rnn

Array = np.ndarray
State = Tuple[np.ndarray, ...]


def _hidden(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    gh = h @ w_hh.T  # (B, G*H)
    if b_hh is not None:
        gh += b_hh
    return gh


# ---------------------------------------------------------------- Elman RNN: h' = act(gi + gh)


def rnn_tanh_step(gi: Array, gh: Array, state: State) -> tuple[State, tuple]:
    """h' = tanh(gi + gh); cache (h',)."""
    h_new = np.add(gi, gh)
    np.tanh(h_new, out=h_new)
    return (h_new,), (h_new,)


def rnn_tanh_step_backward(cache: tuple, dstate: State) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dpre, dpre, (0,)): gi and gh share the pre-activation gradient and h
    reaches h' only through gh."""
    (h_new,) = cache
    dpre = dstate[0] * (1.0 - h_new * h_new)  # (B, H)
    return dpre, dpre, (None,)


def rnn_relu_step(gi: Array, gh: Array, state: State) -> tuple[State, tuple]:
    """h' = relu(gi + gh); cache (h',)."""
    h_new = np.add(gi, gh)
    np.maximum(h_new, 0.0, out=h_new)
    return (h_new,), (h_new,)


def rnn_relu_step_backward(cache: tuple, dstate: State) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dpre, dpre, (0,))."""
    (h_new,) = cache
    dpre = dstate[0] * (h_new > 0)  # derivative at 0 taken as 0, as PyTorch
    return dpre, dpre, (None,)


# ---------------------------------------------------------------- GRU


def gru_step(gi: Array, gh: Array, state: State) -> tuple[State, tuple]:
    """r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r * gh_n), h' = (1 - z) n + z h.

    cache: (h, r, z, n (B, H), gh (B, 3H)).
    """
    (h,) = state
    h_new, r, z, n = kernels_rnn.gru_forward(gi, gh, h)
    return (h_new,), (h, r, z, n, gh)


def gru_step_backward(cache: tuple, dstate: State) -> tuple[Array, Array, State]:
    """dh' (B, H) -> (dgi (B, 3H), dgh (B, 3H), (dh * z,)); dgi and dgh differ in the n block
    (gh_n is scaled by r)."""
    h, r, z, n, gh = cache
    dgi, dgh, dh_direct = kernels_rnn.gru_backward(dstate[0], h, r, z, n, gh)
    return dgi, dgh, (dh_direct,)


# ---------------------------------------------------------------- LSTM


def lstm_step(gi: Array, gh: Array, state: State) -> tuple[State, tuple]:
    """[i, f, g, o] = [s, s, tanh, s](gi + gh); c' = f c + i g; h' = o tanh(c').

    cache: (c (B, H), activated gates (B, 4H), tanh(c') (B, H)).
    """
    h, c = state
    h_new, c_new, act, tanh_c = kernels_rnn.lstm_forward(gi, gh, c)
    return (h_new, c_new), (c, act, tanh_c)


def lstm_step_backward(cache: tuple, dstate: State) -> tuple[Array, Array, State]:
    """(dh', dc') each (B, H) -> (dpre (B, 4H), the same array, (0, dc)): h reaches the new
    state only through gh."""
    c, act, tanh_c = cache
    dpre, dc = kernels_rnn.lstm_backward(dstate[0], dstate[1], c, act, tanh_c)
    return dpre, dpre, (None, dc)


# ---------------------------------------------------------------- with the recurrent product


def _with_products(step: Callable, step_backward: Callable) -> tuple[Callable, Callable]:
    """The ``forward``/``backward`` pair of a cell from its pointwise ``step`` pair."""

    def forward(gi: Array, state: State, w_hh: Array, b_hh: Optional[Array]) -> tuple[State, tuple]:
        return step(gi, _hidden(state[0], w_hh, b_hh), state)

    def backward(cache: tuple, dstate: State, w_hh: Array) -> tuple[Array, Array, State]:
        dgi, dgh, direct = step_backward(cache, dstate)
        dh = dgh @ w_hh  # (B, H): the path through gh = h W_hh^T
        if direct[0] is not None:
            dh += direct[0]
        return dgi, dgh, (dh,) + direct[1:]

    kind = step.__name__[: -len("_step")]
    forward.__name__ = forward.__qualname__ = f"{kind}_forward"
    backward.__name__ = backward.__qualname__ = f"{kind}_backward"
    forward.__doc__ = f"{step.__name__} after gh = h W_hh^T + b_hh: (gi, state, w_hh, b_hh) -> (new_state, cache)."
    backward.__doc__ = f"{step_backward.__name__} plus the path through W_hh: (cache, dstate, w_hh) -> (dgi, dgh, dstate_prev)."
    return forward, backward


rnn_tanh_forward, rnn_tanh_backward = _with_products(rnn_tanh_step, rnn_tanh_step_backward)
rnn_relu_forward, rnn_relu_backward = _with_products(rnn_relu_step, rnn_relu_step_backward)
gru_forward, gru_backward = _with_products(gru_step, gru_step_backward)
lstm_forward, lstm_backward = _with_products(lstm_step, lstm_step_backward)


# ---------------------------------------------------------------- the table


def check_dtype(cell: "CellMath", dtype: np.dtype) -> None:
    """TypeError unless the fused kernels of a GRU or LSTM step can compute in ``dtype``
    (the result dtype of input, state and weights); the Elman cells take any float."""
    if cell.name in ("gru", "lstm"):
        check_kernel_float(cell.name.upper(), "the input, state and weights", dtype)


class CellMath(NamedTuple):
    """One cell type: its gate count, its state arity and its step functions (see the module
    docstring for the two pairs)."""

    name: str
    gates: int  # G: rows of W_ih and W_hh are G * hidden_size
    states: int  # 1 for (h,), 2 for (h, c)
    forward: Callable
    backward: Callable
    shared: bool  # True when backward's dgi and dgh are the same array (gi and gh only enter as gi + gh)
    step: Callable
    step_backward: Callable


CELLS: dict[str, CellMath] = {
    "rnn_tanh": CellMath("rnn_tanh", 1, 1, rnn_tanh_forward, rnn_tanh_backward, True, rnn_tanh_step,
                         rnn_tanh_step_backward),
    "rnn_relu": CellMath("rnn_relu", 1, 1, rnn_relu_forward, rnn_relu_backward, True, rnn_relu_step,
                         rnn_relu_step_backward),
    "gru": CellMath("gru", 3, 1, gru_forward, gru_backward, False, gru_step, gru_step_backward),
    "lstm": CellMath("lstm", 4, 2, lstm_forward, lstm_backward, True, lstm_step, lstm_step_backward),
}
