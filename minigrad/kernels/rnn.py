"""Recurrent-cell kernels: the pointwise part of one GRU or LSTM step, forward and backward.

The matrix products (x W_ih^T, h W_hh^T and, in backward, dgh W_hh) stay with the caller
(``minigrad.ops._cell_math``), which runs them through BLAS; these kernels do everything
between them in one pass over the (B, H) elements, where the NumPy references below make
a dozen temporaries. Gate blocks are stacked along the last axis in PyTorch's order:
GRU r, z, n; LSTM i, f, g, o.

Arrays: B the batch, H the hidden size; inputs float32 or float64 (inputs of different
dtypes compute in their NumPy result dtype), any layout; outputs are new C-contiguous arrays.
The Numba implementations are in ``_rnn_nb``.
"""

from __future__ import annotations

import numpy as np

from .dispatch import register


# ---------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # exact, and never overflows


def gru_forward_ref(gi: np.ndarray, gh: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
    """NumPy reference of ``gru_forward``."""
    H = h.shape[1]
    rz = _sigmoid(gi[:, : 2 * H] + gh[:, : 2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    h_new = n + z * (h - n)
    return h_new, r, z, n


def gru_backward_ref(dh, h, r, z, n, gh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference of ``gru_backward``."""
    H = h.shape[1]
    dn_pre = dh * (1.0 - z) * (1.0 - n * n)  # through n = tanh(gi_n + r * gh_n)
    dgi = np.empty((h.shape[0], 3 * H), dtype=dn_pre.dtype)
    dgi[:, :H] = dn_pre * gh[:, 2 * H:] * r * (1.0 - r)
    dgi[:, H: 2 * H] = dh * (h - n) * z * (1.0 - z)
    dgi[:, 2 * H:] = dn_pre
    dgh = dgi.copy()
    dgh[:, 2 * H:] = dn_pre * r
    return dgi, dgh, dh * z


def lstm_forward_ref(gi, gh, c) -> tuple[np.ndarray, ...]:
    """NumPy reference of ``lstm_forward``."""
    H = c.shape[1]
    pre = gi + gh  # (B, 4H)
    act = _sigmoid(pre)
    act[:, 2 * H: 3 * H] = np.tanh(pre[:, 2 * H: 3 * H])
    i, f, g, o = act[:, :H], act[:, H: 2 * H], act[:, 2 * H: 3 * H], act[:, 3 * H:]
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    return o * tanh_c, c_new, act, tanh_c


def lstm_backward_ref(dh, dc, c, act, tanh_c) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of ``lstm_backward``."""
    H = c.shape[1]
    i, f, g, o = act[:, :H], act[:, H: 2 * H], act[:, 2 * H: 3 * H], act[:, 3 * H:]
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    dpre = np.empty_like(act)
    dpre[:, :H] = dc_total * g * i * (1.0 - i)
    dpre[:, H: 2 * H] = dc_total * c * f * (1.0 - f)
    dpre[:, 2 * H: 3 * H] = dc_total * i * (1.0 - g * g)
    dpre[:, 3 * H:] = dh * tanh_c * o * (1.0 - o)
    return dpre, dc_total * f


# ---------------------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------------------

_gru_forward = register("gru_forward", gru_forward_ref, numba="_rnn_nb.gru_forward")
_gru_backward = register("gru_backward", gru_backward_ref, numba="_rnn_nb.gru_backward")
_lstm_forward = register("lstm_forward", lstm_forward_ref, numba="_rnn_nb.lstm_forward")
_lstm_backward = register("lstm_backward", lstm_backward_ref, numba="_rnn_nb.lstm_backward")


def gru_forward(gi: np.ndarray, gh: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pointwise GRU step: gi, gh (B, 3H) (blocks r, z, n), h (B, H) ->
    (h_new, r, z, n), each (B, H)::

        r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)  h_new = (1 - z) n + z h
    """
    return _gru_forward.impl(gi, gh, h)


def gru_backward(dh: np.ndarray, h: np.ndarray, r: np.ndarray, z: np.ndarray, n: np.ndarray,
                 gh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``gru_forward``: dh (B, H) = dL/dh_new, the forward's h, r, z, n (B, H) and
    gh (B, 3H) -> (dgi (B, 3H), dgh (B, 3H), dh_direct (B, H) = dh * z).

    dgi and dgh differ in the n block (dgh_n = dgi_n * r); the full gradient of h is
    ``dh_direct + dgh @ W_hh``, the product left to the caller.
    """
    return _gru_backward.impl(dh, h, r, z, n, gh)


def lstm_forward(gi: np.ndarray, gh: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pointwise LSTM step: gi, gh (B, 4H) (blocks i, f, g, o), c (B, H) ->
    (h_new (B, H), c_new (B, H), act (B, 4H), tanh_c (B, H))::

        act = [sigmoid, sigmoid, tanh, sigmoid](gi + gh) = [i, f, g, o]
        c_new = f c + i g   tanh_c = tanh(c_new)   h_new = o tanh_c
    """
    return _lstm_forward.impl(gi, gh, c)


def lstm_backward(dh: np.ndarray, dc: np.ndarray, c: np.ndarray, act: np.ndarray,
                  tanh_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backward of ``lstm_forward``: dh, dc (B, H) = dL/dh_new, dL/dc_new; the forward's c (B, H),
    act (B, 4H) and tanh_c (B, H) -> (dpre (B, 4H), dc_prev (B, H)).

    dpre is the gradient of gi and of gh alike; the gradient of h is ``dpre @ W_hh``.
    """
    return _lstm_backward.impl(dh, dc, c, act, tanh_c)
