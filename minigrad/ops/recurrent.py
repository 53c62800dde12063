"""Fused recurrent ops: a whole sequence (``Recurrence``), one cell step (``CellStep``) and the
teacher-forced Bahdanau attention decoder (``BahdanauDecoder``), each one graph node.

Built from primitives, one GRU step is ~15 graph nodes and a sequence of T steps ~15 T, each
with Python overhead and its own saved arrays; here a whole sequence is one node whose
backward is a plain loop (backpropagation through time). The step maths on ndarrays is the
``CELLS`` table of ``_cell_math``; ``reference`` on each class is the same network written
with primitive ops on Tensors (``_step_reference``): tests hold the fused ops equal to it, and
higher derivatives and forward mode differentiate it.

The input projection x W_ih^T + b_ih of a sequence is NOT part of ``Recurrence``: callers
compute it for all time steps with one matmul (``functional.linear``) and pass it in.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function
from ..errors import ShapeError
from ..kernels.attention import additive_attention_backward, additive_attention_forward
from ._cell_math import CELLS, CellMath, check_dtype
from ._util import Tensor, float_array
from .attention import AdditiveAttention
from .elementwise import relu, sigmoid, tanh, where
from .linalg import matmul
from .shape import concat, stack, transpose

# ---------------------------------------------------------------- the step on Tensors (references)


def _zeros_state(batch: int, hidden: int, dtype) -> Tensor:
    return Tensor(np.zeros((batch, hidden), dtype))


def _step_reference(name: str, gi: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
    """One step of cell ``name`` with primitive ops: gi (B, G*H), state (h,) or (h, c) -> new state."""
    gh = matmul(state[0], transpose(w_hh))  # (B, G*H)
    if b_hh is not None:
        gh = gh + b_hh
    return _pointwise_reference(name, gi, gh, state)


def _pointwise_reference(name: str, gi: Tensor, gh: Tensor, state: tuple) -> tuple:
    """The gates, given gi and gh = h W_hh^T + b_hh (B, G*H): the equations of ``_cell_math``."""
    if name == "rnn_tanh":
        return (tanh(gi + gh),)
    if name == "rnn_relu":
        return (relu(gi + gh),)
    H = state[0].shape[-1]
    if name == "gru":
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return ((1.0 - z) * n + z * state[0],)
    gates = gi + gh  # LSTM: i, f, g, o
    i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H])
    g, o = tanh(gates[:, 2 * H:3 * H]), sigmoid(gates[:, 3 * H:])
    c = f * state[1] + i * g
    return (o * tanh(c), c)


def _initial_state(cell: CellMath, h0, c0, batch: int, hidden: int, dtype) -> tuple:
    state = (_zeros_state(batch, hidden, dtype) if h0 is None else h0,)
    if cell.states == 2:
        state += (_zeros_state(batch, hidden, dtype) if c0 is None else c0,)
    return state


# ---------------------------------------------------------------- a whole sequence


class Recurrence(Function):
    """Run one cell over a whole sequence in one direction.

    Inputs: ``xp`` the input projection, (T, B, G*H) when ``time_axis == 0`` or (B, T, G*H)
    when 1; ``w_hh`` (G*H, H); ``b_hh`` (G*H,) or None; ``h0`` and (LSTM) ``c0`` (B, H) or
    None for zeros. ``valid`` is None or a bool array (T, B, 1), True at real (non-padded)
    steps: at a padded step the state is carried over unchanged and the output is zero.
    Only the first ``t_run`` steps are computed (later ones are all padding).

    Outputs: the outputs h_t in ``xp``'s layout, (T, B, H) or (B, T, H), then the final h
    (B, H) and, for the LSTM, the final c (B, H).
    """

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, c0, cell: CellMath, time_axis=0, reverse=False, valid=None, t_run=None):
        xs = xp if time_axis == 0 else xp.swapaxes(0, 1)  # (T, B, G*H) view
        T, B, _ = xs.shape
        H = w_hh.shape[1]
        t_run = T if t_run is None else t_run
        dtype = np.result_type(xp.dtype, w_hh.dtype)
        check_dtype(cell, dtype)
        state = (np.zeros((B, H), dtype) if h0 is None else h0,)
        if cell.states == 2:
            state += (np.zeros((B, H), dtype) if c0 is None else c0,)
        out = np.zeros(xp.shape[:2] + (H,), dtype)
        outs = out if time_axis == 0 else out.swapaxes(0, 1)  # (T, B, H) view
        # the state entering each step, in xp's layout so backward's weight-gradient matmul
        # reads contiguous rows; steps never run stay zero
        h_prev = np.zeros(xp.shape[:2] + (H,), dtype)
        h_prevs = h_prev if time_axis == 0 else h_prev.swapaxes(0, 1)  # (T, B, H) view
        caches = [None] * T
        for t in (range(t_run - 1, -1, -1) if reverse else range(t_run)):
            h_prevs[t] = state[0]
            new_state, caches[t] = cell.forward(xs[t], state, w_hh, b_hh)
            if valid is not None:
                m = valid[t]  # (B, 1)
                new_state = tuple(np.where(m, new, old) for new, old in zip(new_state, state))
                outs[t] = np.where(m, new_state[0], 0)
            else:
                outs[t] = new_state[0]
            state = new_state
        ctx.save_for_backward(w_hh, h_prev, caches)
        ctx.meta = (cell, time_axis, reverse, valid, t_run, xp.shape)
        finals = tuple(s.copy() if s is h0 or s is c0 else s for s in state)  # an output is never an input
        return (out,) + finals

    @staticmethod
    def backward(ctx, grad, *grad_finals):
        w_hh, h_prev, caches = ctx.saved
        cell, time_axis, reverse, valid, t_run, xp_shape = ctx.meta
        gs = grad if time_axis == 0 else grad.swapaxes(0, 1)  # (T, B, H)
        dxp = np.zeros(xp_shape, dtype=grad.dtype)
        dxs = dxp if time_axis == 0 else dxp.swapaxes(0, 1)  # (T, B, G*H) view
        dgh = dxp if cell.shared else np.zeros(xp_shape, dtype=grad.dtype)  # gradient of gh per step, xp's layout
        dghs = dgh if time_axis == 0 else dgh.swapaxes(0, 1)
        dstate = tuple(np.array(g, copy=True) for g in grad_finals)
        for t in (range(t_run) if reverse else range(t_run - 1, -1, -1)):
            d = (dstate[0] + gs[t],) + dstate[1:]
            if valid is not None:
                m = valid[t]  # (B, 1)
                # a padded step passed the state through unchanged and output a constant zero
                carried = tuple(np.where(m, 0, x) for x in dstate)
                d = tuple(np.where(m, x, 0) for x in d)
            dgi_t, dgh_t, dprev = cell.backward(caches[t], d, w_hh)
            dxs[t] = dgi_t
            if not cell.shared:
                dghs[t] = dgh_t
            dstate = dprev if valid is None else tuple(a + b for a, b in zip(dprev, carried))
        need = ctx.needs_input_grad
        G_H, H = w_hh.shape
        # one matmul over all steps: dW_hh = sum_t dgh_t^T h_{t-1} (rows of steps not run are zero)
        rows = dgh.reshape(-1, G_H)
        dw_hh = rows.T @ h_prev.reshape(-1, H) if need[1] else None
        db_hh = rows.sum(axis=0) if need[2] else None
        dh0 = dstate[0] if need[3] else None
        dc0 = dstate[1] if cell.states == 2 and need[4] else None
        return dxp if need[0] else None, dw_hh, db_hh, dh0, dc0

    @staticmethod
    def reference(xp, w_hh, b_hh, h0, c0, cell: CellMath, time_axis=0, reverse=False, valid=None, t_run=None):
        T, B = (xp.shape[0], xp.shape[1]) if time_axis == 0 else (xp.shape[1], xp.shape[0])
        H = w_hh.shape[1]
        t_run = T if t_run is None else t_run
        dtype = np.result_type(xp.dtype, w_hh.dtype)
        state = _initial_state(cell, h0, c0, B, H, dtype)
        outs = [_zeros_state(B, H, dtype)] * T  # steps never run output zeros
        for t in (range(t_run - 1, -1, -1) if reverse else range(t_run)):
            gi = xp[t] if time_axis == 0 else xp[:, t]  # (B, G*H)
            new_state = _step_reference(cell.name, gi, state, w_hh, b_hh)
            if valid is not None:  # a padded step carries the state over and outputs zero
                new_state = tuple(where(valid[t], new, old) for new, old in zip(new_state, state))
                outs[t] = where(valid[t], new_state[0], 0.0)
            else:
                outs[t] = new_state[0]
            state = new_state
        out = stack(outs, axis=time_axis) if T else Tensor(np.zeros(xp.shape[:2] + (H,), dtype))
        return (out,) + state


def _cell(name: str, op: str) -> CellMath:
    if name not in CELLS:
        raise ValueError(f"{op}: cell must be one of {', '.join(CELLS)}, got {name!r}")
    return CELLS[name]


def recurrence(xp, w_hh, b_hh=None, h0=None, c0=None, cell: str = "gru", batch_first: bool = False,
               reverse: bool = False, lengths=None) -> tuple[Tensor, ...]:
    """Run a recurrent cell over a sequence, given its input projection (one fused op).

    ``xp`` = x W_ih^T + b_ih for every step, (T, B, G*H), or (B, T, G*H) with ``batch_first``;
    ``w_hh`` (G*H, H), ``b_hh`` (G*H,) or None; ``h0``, ``c0`` (LSTM) (B, H) or None for zeros.
    ``cell``: "rnn_tanh", "rnn_relu", "gru" (G = 3, gates r, z, n) or "lstm" (G = 4, gates i, f,
    g, o), PyTorch's equations. ``reverse`` runs from the last step to the first. ``lengths``
    (B,) ints: steps at or past a sequence's length are padding (state carried, output zero).
    Returns ``(outputs (T, B, H) or (B, T, H), h_n (B, H))``, and ``c_n`` (B, H) for the LSTM.
    """
    op = "recurrence"
    kind = _cell(cell, op)
    xp, w_hh = float_array(xp), float_array(w_hh)
    time_axis = 1 if batch_first else 0
    if xp.ndim != 3 or w_hh.ndim != 2 or xp.shape[-1] != w_hh.shape[0] or w_hh.shape[0] != kind.gates * w_hh.shape[1]:
        raise ShapeError(f"{op}: xp {xp.shape} and w_hh {w_hh.shape} do not fit cell={cell!r} (expected xp "
                         f"(T, B, {kind.gates}*H) or (B, T, {kind.gates}*H) and w_hh ({kind.gates}*H, H))")
    T, B, H = xp.shape[time_axis], xp.shape[1 - time_axis], w_hh.shape[1]
    for name, s in (("h0", h0), ("c0", c0)):
        if s is not None and tuple(s.shape) != (B, H):
            raise ShapeError(f"{op}: {name} has shape {tuple(s.shape)}, expected (B, H) = ({B}, {H})")
    valid, t_run = None, T
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (B,) or lengths.dtype.kind not in "iu" or (B and (lengths.min() < 0 or lengths.max() > T)):
            raise ValueError(f"{op}: lengths must be {B} integers in [0, {T}], got {lengths.tolist()}")
        t_run = int(lengths.max()) if B else 0
        valid = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
    return Recurrence.apply(xp, w_hh, b_hh, h0, c0 if kind.states == 2 else None, cell=kind, time_axis=time_axis,
                            reverse=reverse, valid=valid, t_run=t_run)


# ---------------------------------------------------------------- one step


class CellStep(Function):
    """One step of a cell, input projection included: the op behind ``RNNCell``, ``GRUCell``
    and ``LSTMCell``.

    Inputs: x (B, in), h (B, H) or None (zeros), c (B, H) or None (LSTM only),
    w_ih (G*H, in), w_hh (G*H, H), b_ih and b_hh (G*H,) or None.
    Output: h' (B, H); for the LSTM two outputs, h' and c' (B, H).
    """

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh, cell: CellMath):
        B, H = x.shape[0], w_hh.shape[1]
        dtype = np.result_type(x.dtype, w_ih.dtype)
        check_dtype(cell, dtype)
        h = np.zeros((B, H), dtype) if h is None else h
        state = (h,) if cell.states == 1 else (h, np.zeros((B, H), dtype) if c is None else c)
        gi = x @ w_ih.T  # (B, G*H)
        if b_ih is not None:
            gi += b_ih
        new_state, cache = cell.forward(gi, state, w_hh, b_hh)
        ctx.save_for_backward(x, h, w_ih, w_hh, cache)
        ctx.cell = cell
        return new_state[0] if cell.states == 1 else new_state

    @staticmethod
    def backward(ctx, *dstate):
        x, h, w_ih, w_hh, cache = ctx.saved
        cell = ctx.cell
        dgi, dgh, dprev = cell.backward(cache, dstate, w_hh)
        need = ctx.needs_input_grad
        return (
            dgi @ w_ih if need[0] else None,
            dprev[0] if need[1] else None,
            dprev[1] if cell.states == 2 and need[2] else None,
            dgi.T @ x if need[3] else None,
            dgh.T @ h if need[4] else None,
            dgi.sum(axis=0) if need[5] else None,
            dgh.sum(axis=0) if need[6] else None,
        )

    @staticmethod
    def reference(x, h, c, w_ih, w_hh, b_ih, b_hh, cell: CellMath):
        gi = matmul(x, transpose(w_ih))  # (B, G*H)
        if b_ih is not None:
            gi = gi + b_ih
        dtype = np.result_type(x.dtype, w_ih.dtype)
        state = _initial_state(cell, h, c, x.shape[0], w_hh.shape[1], dtype)
        new_state = _step_reference(cell.name, gi, state, w_hh, b_hh)
        return new_state[0] if cell.states == 1 else new_state


def rnn_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, cell: str = "gru"):
    """One step of a recurrent cell (one fused op): x (B, in), h and (LSTM) c (B, H) or None for
    zeros, w_ih (G*H, in), w_hh (G*H, H), b_ih, b_hh (G*H,) or None -> h' (B, H), or (h', c')
    for ``cell="lstm"``. ``cell`` as for ``recurrence``."""
    op = "rnn_cell"
    kind = _cell(cell, op)
    x, w_ih, w_hh = float_array(x), float_array(w_ih), float_array(w_hh)
    fits = (x.ndim == 2 and w_ih.ndim == 2 and w_hh.ndim == 2 and w_ih.shape == (w_hh.shape[0], x.shape[1])
            and w_hh.shape[0] == kind.gates * w_hh.shape[1])
    if not fits:
        raise ShapeError(f"{op}: x {x.shape}, w_ih {w_ih.shape} and w_hh {w_hh.shape} do not fit cell={cell!r} "
                         f"(expected (B, in), ({kind.gates}*H, in) and ({kind.gates}*H, H))")
    return CellStep.apply(x, h, c if kind.states == 2 else None, w_ih, w_hh, b_ih, b_hh, cell=kind)


# ---------------------------------------------------------------- the Bahdanau decoder


class BahdanauDecoder(Function):
    """The whole teacher-forced one-layer decoder of ``rnn-attn`` as one graph node.

    For t = 0..T-1, with s_{-1} = h0 (and c0 for the LSTM)::

        c_t, a_t = additive_attention(query = s_{t-1}, w_q, keys_proj, v, keys, mask)   (B, Dk), (B, S)
        s_t = cell([emb_t; c_t], s_{t-1})                                              (B, H)
        features_t = [s_t; c_t]                                                        (B, H + Dk)

    Done as one node, the embedding part of the input projection is one matmul for all steps,
    s_{t-1} meets W_hh and W_q in one product per step, and every weight gradient is one
    matmul over all B*T rows after the backward loop.

    Inputs: emb (B, T, E); h0 (B, H); c0 (B, H) or None (LSTM: zeros); w_ih (G*H, E + Dk)
    whose first E columns read the embedding; w_hh (G*H, H); b_ih, b_hh (G*H,) or None;
    w_q (A, H); keys_proj (B, S, A); v (1, A); keys (B, S, Dk). Constants: ``mask`` (B, S)
    bool or None, ``cell`` (a ``CellMath``, GRU or LSTM).
    Outputs: features (B, T, H + Dk) and the attention weights (B, T, S) (no gradient).
    """

    @staticmethod
    def forward(ctx, emb, h0, c0, w_ih, w_hh, b_ih, b_hh, w_q, keys_proj, v, keys, mask=None,
                cell: CellMath = CELLS["gru"]):
        B, T, E = emb.shape
        GH, H = w_hh.shape
        A, S, Dk = w_q.shape[0], keys.shape[1], keys.shape[2]
        dtype = np.result_type(emb.dtype, w_ih.dtype)
        keys = np.ascontiguousarray(keys, dtype=dtype)  # read every step by the attention kernel
        keys_proj = np.ascontiguousarray(keys_proj, dtype=dtype)
        w_e, w_c = w_ih[:, :E], w_ih[:, E:]
        gi_emb = kernels.matmul(emb.reshape(B * T, E), w_e.T).reshape(B, T, GH)  # all steps at once
        if b_ih is not None:
            gi_emb += b_ih
        w_hq = np.concatenate([w_hh, w_q], axis=0)  # (GH + A, H): s_{t-1} meets both in one product
        state = (np.zeros((B, H), dtype) if h0 is None else h0,)
        if cell.states == 2:
            state += (np.zeros((B, H), dtype) if c0 is None else c0,)
        out = np.empty((B, T, H + Dk), dtype)
        h_prev = np.empty((B, T, H), dtype)  # s_{t-1} per step, for the weight gradients
        weights = np.empty((B, T, S), dtype)
        caches, hiddens = [None] * T, [None] * T
        for t in range(T):
            h_prev[:, t] = state[0]
            hq = kernels.matmul(state[0], w_hq.T)  # (B, GH + A)
            gh = hq[:, :GH] + b_hh if b_hh is not None else np.ascontiguousarray(hq[:, :GH])
            context, weights[:, t], hiddens[t] = additive_attention_forward(keys_proj, hq[:, GH:], v[0], keys, mask)
            gi = kernels.matmul(context, w_c.T)  # (B, GH)
            gi += gi_emb[:, t]
            state, caches[t] = cell.step(gi, gh, state)
            out[:, t, :H] = state[0]
            out[:, t, H:] = context
        ctx.save_for_backward(emb, w_ih, w_hh, w_q, v, keys, h_prev, out, weights, caches, hiddens)
        ctx.cell = cell
        ctx.mark_non_differentiable(weights)
        ctx.set_materialize_grads(False)  # the weights' gradient is never used: no zeros for it
        return out, weights

    @staticmethod
    def backward(ctx, grad, grad_weights=None):
        emb, w_ih, w_hh, w_q, v, keys, h_prev, out, weights, caches, hiddens = ctx.saved
        cell = ctx.cell
        need = ctx.needs_input_grad
        B, T, E = emb.shape
        GH, H = w_hh.shape
        A = w_q.shape[0]
        w_c = w_ih[:, E:]
        dtype = out.dtype
        dgi = np.empty((B, T, GH), dtype)
        dgh = dgi if cell.shared else np.empty((B, T, GH), dtype)
        dq = np.empty((B, T, A), dtype)
        dkeys = np.zeros(keys.shape, dtype) if need[10] else None
        dkeys_proj = np.zeros(keys.shape[:2] + (A,), dtype)
        dv = np.zeros(A, dtype)
        dstate = tuple(np.zeros((B, H), dtype) for _ in range(cell.states))
        for t in range(T - 1, -1, -1):
            ds = (dstate[0] + grad[:, t, :H],) + dstate[1:]
            dgi_t, dgh_t, direct = cell.step_backward(caches[t], ds)
            dgi[:, t] = dgi_t
            if not cell.shared:
                dgh[:, t] = dgh_t
            dcontext = kernels.matmul(dgi_t, w_c)  # (B, Dk)
            dcontext += grad[:, t, H:]
            # accumulates into dkeys, dv and dkeys_proj over the steps
            dq[:, t] = additive_attention_backward(dcontext, hiddens[t], weights[:, t], v[0], keys, dkeys is not None,
                                                   out=(dkeys, dv, dkeys_proj))[3]
            dh = kernels.matmul(dgh_t, w_hh)  # the query s_{t-1} reaches the output through gh and q_proj
            dh += kernels.matmul(dq[:, t], w_q)
            if direct[0] is not None:
                dh += direct[0]
            dstate = (dh,) + direct[1:]
        rows = B * T
        dgi_rows = dgi.reshape(rows, GH)
        dw_ih = None
        if need[3]:
            x = np.concatenate([emb, out[:, :, H:]], axis=-1).reshape(rows, -1)  # the cell inputs [emb_t; c_t]
            dw_ih = kernels.matmul(dgi_rows.T, x)
        h_rows = h_prev.reshape(rows, H)
        return (
            kernels.matmul(dgi_rows, w_ih[:, :E]).reshape(B, T, E) if need[0] else None,
            dstate[0] if need[1] else None,
            dstate[1] if cell.states == 2 and need[2] else None,
            dw_ih,
            kernels.matmul(dgh.reshape(rows, GH).T, h_rows) if need[4] else None,
            dgi_rows.sum(axis=0) if need[5] else None,
            dgh.reshape(rows, GH).sum(axis=0) if need[6] else None,
            kernels.matmul(dq.reshape(rows, A).T, h_rows) if need[7] else None,
            dkeys_proj if need[8] else None,
            dv[None, :] if need[9] else None,
            dkeys,
        )

    @staticmethod
    def reference(emb, h0, c0, w_ih, w_hh, b_ih, b_hh, w_q, keys_proj, v, keys, mask=None,
                  cell: CellMath = CELLS["gru"]):
        B, T, _ = emb.shape
        dtype = np.result_type(emb.dtype, w_ih.dtype)
        state = _initial_state(cell, h0, c0, B, w_hh.shape[1], dtype)
        features, weights = [], []
        for t in range(T):
            context, a_t = AdditiveAttention.reference(state[0], w_q, keys_proj, v, keys, mask)  # (B, Dk), (B, S)
            gi = matmul(concat([emb[:, t], context], axis=-1), transpose(w_ih))  # (B, G*H)
            if b_ih is not None:
                gi = gi + b_ih
            state = _step_reference(cell.name, gi, state, w_hh, b_hh)
            features.append(concat([state[0], context], axis=-1))  # [s_t; c_t]
            weights.append(a_t)
        return stack(features, axis=1), stack(weights, axis=1).detach()  # (B, T, H + Dk), (B, T, S)


def bahdanau_decoder(emb, h0, c0, w_ih, w_hh, b_ih, b_hh, w_q, keys_proj, v, keys, mask=None,
                     cell: str = "gru") -> tuple[Tensor, Tensor]:
    """A teacher-forced one-layer decoder with additive attention over ``keys``, as one fused op.

    Per step t: ``c_t, a_t = additive_attention(s_{t-1}, w_q, keys_proj, v, keys, mask)``, then
    ``s_t = cell([emb_t; c_t], s_{t-1})`` (a GRU or LSTM cell with weights w_ih (G*H, E + Dk),
    w_hh (G*H, H), b_ih, b_hh), and the features are ``[s_t; c_t]``. emb (B, T, E); h0 (B, H);
    c0 (B, H) or None (LSTM); w_q (A, H); keys_proj (B, S, A); v (1, A); keys (B, S, Dk);
    ``mask`` (B, S) bool, True at real positions.
    Returns ``(features (B, T, H + Dk), weights (B, T, S))``; the weights carry no gradient.
    """
    op = "bahdanau_decoder"
    kind = _cell(cell, op)
    if kind.name not in ("gru", "lstm"):
        raise ValueError(f"{op}: cell must be 'gru' or 'lstm', got {cell!r}")
    emb, w_ih, w_hh, w_q, keys_proj, v, keys = (float_array(x) for x in (emb, w_ih, w_hh, w_q, keys_proj, v, keys))
    B, T, E = emb.shape
    GH, H = w_hh.shape
    fits = (keys.ndim == 3 and keys.shape[0] == B and w_ih.shape == (GH, E + keys.shape[2]) and GH == kind.gates * H
            and w_q.shape[1] == H and keys_proj.shape == keys.shape[:2] + (w_q.shape[0],) and v.shape == (1, w_q.shape[0]))
    if not fits:
        raise ShapeError(f"{op}: emb {emb.shape}, w_ih {w_ih.shape}, w_hh {w_hh.shape}, w_q {w_q.shape}, "
                         f"keys_proj {keys_proj.shape}, v {v.shape} and keys {keys.shape} do not fit")
    check_dtype(kind, np.result_type(emb.dtype, w_ih.dtype))
    return BahdanauDecoder.apply(emb, h0, c0 if kind.states == 2 else None, w_ih, w_hh, b_ih, b_hh, w_q, keys_proj,
                                 v, keys, mask=mask, cell=kind)
