"""Numba implementations behind ``minigrad.kernels.rnn`` (imported on first use only).

``gru_forward`` ... ``lstm_backward`` take the arguments of the public kernels, make them
C-contiguous arrays of their common float dtype and allocate the outputs; the ``*_rows``
functions are the compiled loops. B is the batch, H the hidden size, gate blocks are stacked
along the last axis in PyTorch's order (GRU r, z, n; LSTM i, f, g, o).

One loop doing everything for a cell touches many arrays, and LLVM then gives up vectorizing
it; the kernels are split into short loops over few arrays each.
"""

from __future__ import annotations

import numba
import numpy as np

from ._nbmath import sigmoid, tanh
from ._util import c_array, common_dtype

# FMA contraction only: no flag changes NaN/inf semantics.
_JIT = dict(cache=True, error_model="numpy", fastmath={"contract"})


def gru_forward(gi: np.ndarray, gh: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
    """Numba implementation of ``rnn.gru_forward``."""
    dtype = common_dtype(gi, gh, h)
    B, H = h.shape
    out = [np.empty((B, H), dtype) for _ in range(4)]
    if B and H:
        gru_forward_rows(c_array(gi, dtype), c_array(gh, dtype), c_array(h, dtype), *out)
    return tuple(out)


def gru_backward(dh, h, r, z, n, gh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numba implementation of ``rnn.gru_backward``."""
    dtype = common_dtype(gh, dh, h, r, z, n)
    B, H = h.shape
    dgi = np.empty((B, 3 * H), dtype)
    dgh = np.empty((B, 3 * H), dtype)
    dh_direct = np.empty((B, H), dtype)
    if B and H:
        gru_backward_rows(c_array(dh, dtype), c_array(h, dtype), c_array(r, dtype), c_array(z, dtype),
                          c_array(n, dtype), c_array(gh, dtype), dgi, dgh, dh_direct)
    return dgi, dgh, dh_direct


def lstm_forward(gi: np.ndarray, gh: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Numba implementation of ``rnn.lstm_forward``."""
    dtype = common_dtype(gi, gh, c)
    B, H = c.shape
    h_new, c_new, tanh_c = (np.empty((B, H), dtype) for _ in range(3))
    act = np.empty((B, 4 * H), dtype)
    if B and H:
        lstm_forward_rows(c_array(gi, dtype), c_array(gh, dtype), c_array(c, dtype), h_new, c_new, act, tanh_c)
    return h_new, c_new, act, tanh_c


def lstm_backward(dh, dc, c, act, tanh_c) -> tuple[np.ndarray, np.ndarray]:
    """Numba implementation of ``rnn.lstm_backward``."""
    dtype = common_dtype(act, dh, dc, c, tanh_c)
    B, H = c.shape
    dpre = np.empty((B, 4 * H), dtype)
    dc_prev = np.empty((B, H), dtype)
    if B and H:
        lstm_backward_rows(c_array(dh, dtype), c_array(dc, dtype), c_array(c, dtype), c_array(act, dtype),
                           c_array(tanh_c, dtype), dpre, dc_prev)
    return dpre, dc_prev


@numba.njit(**_JIT)
def gru_forward_rows(gi, gh, h, h_new, r, z, n):
    """One GRU step's pointwise part.

    gi, gh (B, 3H): x W_ih^T + b_ih and h W_hh^T + b_hh, blocks r, z, n; h (B, H).
    Writes r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r gh_n) and
    h_new = n + z (h - n), each (B, H).
    """
    B, H = h.shape
    for b in range(B):
        for j in range(H):
            rr = sigmoid(gi[b, j] + gh[b, j])
            zz = sigmoid(gi[b, H + j] + gh[b, H + j])
            nn = tanh(gi[b, 2 * H + j] + rr * gh[b, 2 * H + j])
            r[b, j] = rr
            z[b, j] = zz
            n[b, j] = nn
            h_new[b, j] = nn + zz * (h[b, j] - nn)


@numba.njit(**_JIT)
def gru_backward_rows(dh, h, r, z, n, gh, dgi, dgh, dh_direct):
    """Backward of ``gru_forward_rows``: dh (B, H) = dL/dh_new.

    Writes dgi (B, 3H) (= dL/dgi), dgh (B, 3H) (= dL/dgh; it differs from dgi in the n block,
    which is scaled by r) and dh_direct (B, H) = dh z, the gradient of h except its path
    through gh (the caller adds dgh W_hh).
    """
    B, H = h.shape
    one = h.dtype.type(1)
    for b in range(B):
        for j in range(H):
            d = dh[b, j]
            zz = z[b, j]
            nn = n[b, j]
            dgi[b, 2 * H + j] = d * (one - zz) * (one - nn * nn)  # through n = tanh(gi_n + r gh_n)
            dgi[b, H + j] = d * (h[b, j] - nn) * zz * (one - zz)
            dh_direct[b, j] = d * zz
        for j in range(H):
            rr = r[b, j]
            dn = dgi[b, 2 * H + j]
            dgi[b, j] = dn * gh[b, 2 * H + j] * rr * (one - rr)
            dgh[b, 2 * H + j] = dn * rr
        for j in range(2 * H):
            dgh[b, j] = dgi[b, j]


@numba.njit(**_JIT)
def lstm_forward_rows(gi, gh, c, h_new, c_new, act, tanh_c):
    """One LSTM step's pointwise part.

    gi, gh (B, 4H), blocks i, f, g, o; c (B, H). Writes act (B, 4H) = [s, s, tanh, s] of
    gi + gh, c_new = f c + i g, tanh_c = tanh(c_new) and h_new = o tanh_c, each (B, H).
    """
    B, H = c.shape
    for b in range(B):
        for j in range(4 * H):
            act[b, j] = sigmoid(gi[b, j] + gh[b, j])
        for j in range(2 * H, 3 * H):  # the g block is tanh, not sigmoid
            act[b, j] = tanh(gi[b, j] + gh[b, j])
        for j in range(H):
            cc = act[b, H + j] * c[b, j] + act[b, j] * act[b, 2 * H + j]
            tc = tanh(cc)
            c_new[b, j] = cc
            tanh_c[b, j] = tc
            h_new[b, j] = act[b, 3 * H + j] * tc


@numba.njit(**_JIT)
def lstm_backward_rows(dh, dc, c, act, tanh_c, dpre, dc_prev):
    """Backward of ``lstm_forward_rows``: dh, dc (B, H) = dL/dh_new, dL/dc_new.

    Writes dpre (B, 4H) (the gradient of gi and of gh alike) and dc_prev (B, H) = dL/dc.
    dc_prev first holds the total gradient of c_new (dc + dh o (1 - tanh_c^2)).
    """
    B, H = c.shape
    one = c.dtype.type(1)
    for b in range(B):
        for j in range(H):
            d = dh[b, j]
            o = act[b, 3 * H + j]
            tc = tanh_c[b, j]
            dc_prev[b, j] = dc[b, j] + d * o * (one - tc * tc)
            dpre[b, 3 * H + j] = d * tc * o * (one - o)
        for j in range(H):
            total = dc_prev[b, j]
            i = act[b, j]
            f = act[b, H + j]
            g = act[b, 2 * H + j]
            dpre[b, j] = total * g * i * (one - i)
            dpre[b, H + j] = total * c[b, j] * f * (one - f)
            dpre[b, 2 * H + j] = total * i * (one - g * g)
            dc_prev[b, j] = total * f
