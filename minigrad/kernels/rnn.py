"""Recurrent-cell kernels: the pointwise part of one GRU or LSTM step, forward and backward.

The matrix products (x W_ih^T, h W_hh^T and, in backward, dgh W_hh) stay with the caller
(``minigrad.nn._cell_math``), which runs them through BLAS; these kernels do everything
between them in one pass over the (B, H) elements, where the NumPy references below make
a dozen temporaries. Gate blocks are stacked along the last axis in PyTorch's order:
GRU r, z, n; LSTM i, f, g, o.

Arrays: B the batch, H the hidden size; all inputs of one float dtype (float32 or float64),
any layout (copied to C order when needed); outputs are new C-contiguous arrays of that
dtype. Numba versions: ``_rnn_nb`` (compiled on first use); ``MINIGRAD_KERNELS=numpy``
selects the references.
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._util import check_float

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_rnn_nb")
    return _nb


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


def _check(kernel: str, gates: int, blocks: dict, states: dict) -> tuple[np.dtype, int, int]:
    """Validate (B, G*H) gate arrays and (B, H) state arrays -> (their common float dtype, B, H)."""
    first_name, first = next(iter(states.items()))
    check_float(kernel, first_name, first)
    if first.ndim != 2:
        raise ValueError(f"{kernel}: expected {first_name} of shape (B, H), got {first.shape}")
    B, H = first.shape
    dtype = first.dtype
    for name, a in (*blocks.items(), *states.items()):
        check_float(kernel, name, a)
        if a.dtype != dtype:
            dtype = np.result_type(dtype, a.dtype)
        expected = (B, gates * H) if name in blocks else (B, H)
        if a.shape != expected:
            raise ValueError(f"{kernel}: {name} has shape {a.shape}, expected {expected}")
    return dtype, B, H


def _c(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype`` (no copy when it already is one)."""
    return a if a.flags.c_contiguous and a.dtype == dtype else np.ascontiguousarray(a, dtype=dtype)


def gru_forward(gi: np.ndarray, gh: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pointwise GRU step: gi, gh (B, 3H) (blocks r, z, n), h (B, H) ->
    (h_new, r, z, n), each (B, H)::

        r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)  h_new = (1 - z) n + z h
    """
    dtype, B, H = _check("gru_forward", 3, {"gi": gi, "gh": gh}, {"h": h})
    if _backend._BACKEND == "numpy":
        return gru_forward_ref(gi, gh, h)
    out = [np.empty((B, H), dtype) for _ in range(4)]
    if B and H:
        (_nb or _numba()).gru_forward(_c(gi, dtype), _c(gh, dtype), _c(h, dtype), *out)
    return tuple(out)


def gru_backward(dh: np.ndarray, h: np.ndarray, r: np.ndarray, z: np.ndarray, n: np.ndarray,
                 gh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``gru_forward``: dh (B, H) = dL/dh_new, the forward's h, r, z, n (B, H) and
    gh (B, 3H) -> (dgi (B, 3H), dgh (B, 3H), dh_direct (B, H) = dh * z).

    dgi and dgh differ in the n block (dgh_n = dgi_n * r); the full gradient of h is
    ``dh_direct + dgh @ W_hh``, the product left to the caller.
    """
    dtype, B, H = _check("gru_backward", 3, {"gh": gh}, {"dh": dh, "h": h, "r": r, "z": z, "n": n})
    if _backend._BACKEND == "numpy":
        return gru_backward_ref(dh, h, r, z, n, gh)
    dgi = np.empty((B, 3 * H), dtype)
    dgh = np.empty((B, 3 * H), dtype)
    dh_direct = np.empty((B, H), dtype)
    if B and H:
        (_nb or _numba()).gru_backward(_c(dh, dtype), _c(h, dtype), _c(r, dtype), _c(z, dtype), _c(n, dtype),
                                       _c(gh, dtype), dgi, dgh, dh_direct)
    return dgi, dgh, dh_direct


def lstm_forward(gi: np.ndarray, gh: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pointwise LSTM step: gi, gh (B, 4H) (blocks i, f, g, o), c (B, H) ->
    (h_new (B, H), c_new (B, H), act (B, 4H), tanh_c (B, H))::

        act = [sigmoid, sigmoid, tanh, sigmoid](gi + gh) = [i, f, g, o]
        c_new = f c + i g   tanh_c = tanh(c_new)   h_new = o tanh_c
    """
    dtype, B, H = _check("lstm_forward", 4, {"gi": gi, "gh": gh}, {"c": c})
    if _backend._BACKEND == "numpy":
        return lstm_forward_ref(gi, gh, c)
    h_new, c_new, tanh_c = (np.empty((B, H), dtype) for _ in range(3))
    act = np.empty((B, 4 * H), dtype)
    if B and H:
        (_nb or _numba()).lstm_forward(_c(gi, dtype), _c(gh, dtype), _c(c, dtype), h_new, c_new, act, tanh_c)
    return h_new, c_new, act, tanh_c


def lstm_backward(dh: np.ndarray, dc: np.ndarray, c: np.ndarray, act: np.ndarray,
                  tanh_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backward of ``lstm_forward``: dh, dc (B, H) = dL/dh_new, dL/dc_new; the forward's c (B, H),
    act (B, 4H) and tanh_c (B, H) -> (dpre (B, 4H), dc_prev (B, H)).

    dpre is the gradient of gi and of gh alike; the gradient of h is ``dpre @ W_hh``.
    """
    dtype, B, H = _check("lstm_backward", 4, {"act": act}, {"dh": dh, "dc": dc, "c": c, "tanh_c": tanh_c})
    if _backend._BACKEND == "numpy":
        return lstm_backward_ref(dh, dc, c, act, tanh_c)
    dpre = np.empty((B, 4 * H), dtype)
    dc_prev = np.empty((B, H), dtype)
    if B and H:
        (_nb or _numba()).lstm_backward(_c(dh, dtype), _c(dc, dtype), _c(c, dtype), _c(act, dtype),
                                        _c(tanh_c, dtype), dpre, dc_prev)
    return dpre, dc_prev
