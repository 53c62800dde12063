"""Fused recurrent ops: one graph node per cell step (``CellStep``) or per sequence
and direction (``Recurrence``), with the step maths taken from ``_cell_math.CELLS``.

Built from primitives, one GRU step is ~15 graph nodes and a sequence of T steps
~15 T, each with Python overhead and its own saved arrays; here a whole sequence is one
node whose backward is a plain loop (backpropagation through time). The input projection
x W_ih^T + b_ih is NOT part of these ops: callers compute it for all time steps with one
matmul (``functional.linear``) and pass the result in. The equivalence with the same
network written in primitive ops is tested in tests/nn/test_nn_recurrent.py.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._cell_math import CellMath, check_dtype


class Recurrence(Function):
    """Run one cell over a whole sequence in one direction.

    Inputs: ``xp`` the input projection, (T, B, G*H) when ``time_axis == 0`` or (B, T, G*H)
    when 1; ``w_hh`` (G*H, H); ``b_hh`` (G*H,) or None; ``h0`` and (LSTM) ``c0`` (B, H) or
    None for zeros. ``valid`` is None or a bool array (T, B, 1), True at real (non-padded)
    steps: at a padded step the state is carried over unchanged and the output is zero.
    Only the first ``t_run`` steps are computed (later ones are all padding).

    Output: one array in ``xp``'s layout with S extra time slots, (T + S, B, H) or
    (B, T + S, H): slots 0..T-1 are the outputs h_t, slot T the final h and slot T + 1
    (LSTM) the final c -- a Function has one output, callers slice it.
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
        out = np.zeros((T + cell.states, B, H), dtype) if time_axis == 0 else np.zeros((B, T + cell.states, H), dtype)
        outs = out if time_axis == 0 else out.swapaxes(0, 1)  # (T + S, B, H) view
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
        for k, s in enumerate(state):
            outs[T + k] = s
        ctx.save_for_backward(w_hh, h_prev, caches)
        ctx.meta = (cell, time_axis, reverse, valid, t_run, xp.shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        w_hh, h_prev, caches = ctx.saved
        cell, time_axis, reverse, valid, t_run, xp_shape = ctx.meta
        gs = grad if time_axis == 0 else grad.swapaxes(0, 1)  # (T + S, B, H)
        T = gs.shape[0] - cell.states
        dxp = np.zeros(xp_shape, dtype=grad.dtype)
        dxs = dxp if time_axis == 0 else dxp.swapaxes(0, 1)  # (T, B, G*H) view
        dgh = dxp if cell.shared else np.zeros(xp_shape, dtype=grad.dtype)  # gradient of gh per step, xp's layout
        dghs = dgh if time_axis == 0 else dgh.swapaxes(0, 1)
        dstate = tuple(gs[T + k].copy() for k in range(cell.states))
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


class CellStep(Function):
    """One step of a cell, input projection included: the op behind ``RNNCell``, ``GRUCell``
    and ``LSTMCell``.

    Inputs: x (B, in), h (B, H) or None (zeros), c (B, H) or None (LSTM only),
    w_ih (G*H, in), w_hh (G*H, H), b_ih and b_hh (G*H,) or None.
    Output: h' (B, H); for the LSTM the stack of (h', c'), (2, B, H).
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
        return new_state[0] if cell.states == 1 else np.stack(new_state)

    @staticmethod
    def backward(ctx, grad):
        x, h, w_ih, w_hh, cache = ctx.saved
        cell = ctx.cell
        dstate = (grad,) if cell.states == 1 else (grad[0], grad[1])
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
