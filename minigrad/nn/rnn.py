"""Recurrent layers: ``RNNCell``, ``GRUCell``, ``LSTMCell`` (one step) and ``RNN``, ``GRU``,
``LSTM`` (whole sequences, stacked and optionally bidirectional).

Parameter names, shapes, gate order and initialisation are PyTorch's, so a state_dict
maps one-to-one onto ``torch.nn.GRU`` and friends:

- cells: ``weight_ih`` (G*H, in), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,);
- sequences: the same four per layer l and direction, named ``weight_ih_l{l}`` and, for the
  backward direction, ``weight_ih_l{l}_reverse``; layer l > 0 reads D*H features.

G is 1 (RNN), 3 (GRU, gates r, z, n) or 4 (LSTM, gates i, f, g, o). Every parameter
starts from U(-1/sqrt(H), 1/sqrt(H)).

The equations live in ``minigrad.ops._cell_math`` (one forward and one backward per cell
type). A sequence layer projects the inputs of ALL time steps with one matmul per layer and
direction, then runs the recurrence as one fused op (``minigrad.ops.recurrent.Recurrence``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..errors import ShapeError
from ..ops import concat, stack
from ..ops._cell_math import CELLS
from ..ops.recurrent import CellStep, Recurrence
from ..tensor import Tensor
from . import init
from .layers import _as_tensor, _positive_int
from .module import Module
from .parameter import Parameter


def _add_cell_parameters(module: Module, suffix: str, rows: int, input_size: int, hidden_size: int, bias: bool,
                         dtype: np.dtype) -> tuple[str, str, str, str]:
    """Register ``weight_ih<suffix>`` (rows, input_size), ``weight_hh<suffix>`` (rows, hidden_size)
    and ``bias_ih<suffix>``, ``bias_hh<suffix>`` (rows,), or None biases; return the four names."""
    names = tuple(n + suffix for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    module.register_parameter(names[0], Parameter(np.empty((rows, input_size), dtype=dtype)))
    module.register_parameter(names[1], Parameter(np.empty((rows, hidden_size), dtype=dtype)))
    for name in names[2:]:
        module.register_parameter(name, Parameter(np.empty((rows,), dtype=dtype)) if bias else None)
    return names


def _reset_uniform(module: Module) -> None:
    """Every parameter of ``module`` from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in
    registration order (PyTorch's default for recurrent layers)."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


def _rnn_kind(layer: str, nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "rnn_" + nonlinearity


# ---------------------------------------------------------------- cells


class _CellBase(Module):
    """Shared by the three cells: parameters, init, input checks."""

    _kind = "gru"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive_int(name, "input_size", input_size)
        self.hidden_size = _positive_int(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        rows = CELLS[self._kind].gates * self.hidden_size
        _add_cell_parameters(self, "", rows, self.input_size, self.hidden_size, self.bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order."""
        _reset_uniform(self)

    def _input(self, x: Any) -> tuple[Tensor, bool]:
        x = _as_tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: expected input of shape (B, {self.input_size}) or ({self.input_size},), got {x.shape}"
            )
        return (x.reshape(1, self.input_size), True) if x.ndim == 1 else (x, False)

    def _state(self, h: Any, batch: int, unbatched: bool, what: str = "h") -> Tensor | None:
        if h is None:
            return None
        h = _as_tensor(h)
        expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        if h.shape != expected:
            raise ShapeError(f"{type(self).__name__}: expected {what} of shape {expected}, got {h.shape} (input batch {batch})")
        return h.reshape(1, self.hidden_size) if unbatched else h

    def _step(self, x: Tensor, h: Tensor | None, c: Tensor | None) -> Tensor | tuple[Tensor, Tensor]:
        return CellStep.apply(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, cell=CELLS[self._kind])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text


def _one_state(owner: str, given: dict[str, Any]) -> Any:
    """The initial state passed under one of its accepted names (``hx`` is PyTorch's), or None."""
    passed = {name: value for name, value in given.items() if value is not None}
    if len(passed) > 1:
        raise TypeError(f"{owner}: the initial state was given twice ({' and '.join(passed)}); pass one")
    return next(iter(passed.values()), None)


class RNNCell(_CellBase):
    """Elman cell: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu.

    ``cell(x (B, in), h (B, H) or None) -> h' (B, H)``; 1-D x (in,) gives (H,). The state
    may also be passed as ``hx=`` (PyTorch's name).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", dtype: Any = None):
        self._kind = _rnn_kind("RNNCell", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, x: Any, h: Any = None, *, hx: Any = None) -> Tensor:
        h = _one_state("RNNCell", {"h": h, "hx": hx})
        x, unbatched = self._input(x)
        h_new = self._step(x, self._state(h, x.shape[0], unbatched), None)
        return h_new.reshape(self.hidden_size) if unbatched else h_new

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class GRUCell(_CellBase):
    """GRU cell (PyTorch's equations, gates r, z, n stacked in that order)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    ``cell(x (B, in), h (B, H) or None) -> h' (B, H)``; 1-D x (in,) gives (H,). The state
    may also be passed as ``hx=``.
    """

    _kind = "gru"

    def forward(self, x: Any, h: Any = None, *, hx: Any = None) -> Tensor:
        h = _one_state("GRUCell", {"h": h, "hx": hx})
        x, unbatched = self._input(x)
        h_new = self._step(x, self._state(h, x.shape[0], unbatched), None)
        return h_new.reshape(self.hidden_size) if unbatched else h_new


class LSTMCell(_CellBase):
    """LSTM cell (gates i, f, g, o stacked in that order)::

        i, f, o = sigmoid(...), g = tanh(...)   of  x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f * c + i * g
        h' = o * tanh(c')

    ``cell(x (B, in), (h, c) each (B, H), or None) -> (h', c')`` each (B, H); the state may
    also be passed as ``hx=(h, c)``.
    """

    _kind = "lstm"

    def forward(self, x: Any, hc: tuple | None = None, *, hx: tuple | None = None) -> tuple[Tensor, Tensor]:
        hc = _one_state("LSTMCell", {"hc": hc, "hx": hx})
        x, unbatched = self._input(x)
        h = c = None
        if hc is not None:
            if not isinstance(hc, (tuple, list)) or len(hc) != 2:
                raise TypeError(f"LSTMCell: the state must be a tuple (h, c), got {type(hc).__name__}")
            h = self._state(hc[0], x.shape[0], unbatched, "h")
            c = self._state(hc[1], x.shape[0], unbatched, "c")
        h_new, c_new = self._step(x, h, c)
        if unbatched:
            return h_new.reshape(self.hidden_size), c_new.reshape(self.hidden_size)
        return h_new, c_new


# ---------------------------------------------------------------- sequences


def _lengths_array(layer: str, lengths: Any, batch: int, steps: int) -> np.ndarray:
    array = lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths)
    if array.shape != (batch,):
        raise ShapeError(f"{layer}: lengths must have shape ({batch},) (one per sequence), got {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(array == np.round(array)):
            raise TypeError(f"{layer}: lengths must be integers, got {array}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() > steps):
        raise ValueError(f"{layer}: lengths must be in [0, {steps}] (the padded length), got {array.tolist()}")
    return array


class _RecurrentBase(Module):
    """Shared by ``RNN``, ``GRU`` and ``LSTM``: parameters, init, shape checks and the
    layer/direction loop."""

    _kind = "gru"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = True, dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive_int(name, "input_size", input_size)
        self.hidden_size = _positive_int(name, "hidden_size", hidden_size)
        self.num_layers = _positive_int(name, "num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        rows = CELLS[self._kind].gates * self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._weight_names: list[tuple[str, str, str, str]] = []
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                self._weight_names.append(
                    _add_cell_parameters(self, suffix, rows, layer_in, self.hidden_size, self.bias, dtype))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order."""
        _reset_uniform(self)

    # --- checks
    def _layout(self) -> str:
        return "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"

    def _check_input(self, x: Tensor) -> bool:
        """True when x is unbatched (T, input_size)."""
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: expected input of shape {self._layout().replace('input_size', str(self.input_size))} "
                f"(batch_first={self.batch_first}) or unbatched (T, {self.input_size}), got {x.shape}"
            )
        return x.ndim == 2

    def _check_state(self, h: Any, batch: int, unbatched: bool, what: str) -> Tensor:
        h = _as_tensor(h)
        n = self.num_layers * self.num_directions
        expected = (n, self.hidden_size) if unbatched else (n, batch, self.hidden_size)
        if h.shape != expected:
            raise ShapeError(
                f"{type(self).__name__}: expected {what} of shape {expected} (num_layers * num_directions, B, hidden_size), "
                f"got {h.shape}"
            )
        return h.reshape(n, 1, self.hidden_size) if unbatched else h

    # --- the loop over layers and directions
    def _run(self, x: Any, states: tuple, lengths: Any) -> tuple[Tensor, list[list[Tensor]], bool]:
        """x as given; ``states`` a tuple of None or (L*D, B, H) Tensors.

        Returns (output in the input's layout (..., D*H), final states: one list of L*D
        (B, H) tensors per state kind, whether the input was unbatched)."""
        name = type(self).__name__
        x = _as_tensor(x)
        unbatched = self._check_input(x)
        if unbatched:
            if lengths is not None:
                raise ValueError(f"{name}: lengths needs batched input (B, T, {self.input_size}), got {x.shape}")
            x = x.reshape((1,) + x.shape) if self.batch_first else x.reshape((x.shape[0], 1, x.shape[1]))
        time_axis = 1 if self.batch_first else 0
        steps, batch = x.shape[time_axis], x.shape[1 - time_axis]
        states = tuple(None if s is None else self._check_state(s, batch, unbatched, what)
                       for s, what in zip(states, ("h0", "c0")))
        valid, t_run = None, steps
        if lengths is not None:
            lengths = _lengths_array(name, lengths, batch, steps)
            t_run = int(lengths.max()) if lengths.size else 0
            if lengths.size and lengths.min() < steps:
                valid = (np.arange(steps)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
        cell = CELLS[self._kind]
        rows, H = cell.gates * self.hidden_size, self.hidden_size
        finals: list[list[Tensor]] = [[] for _ in range(cell.states)]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            flat = layer_input.reshape(-1, layer_input.shape[-1])  # (B*T, in): every time step at once
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                w_ih, w_hh, b_ih, b_hh = (getattr(self, n) for n in self._weight_names[k])
                # the input projection of all steps in one matmul: (B*T, in) @ (in, G*H)
                xp = F.linear(flat, w_ih, b_ih).reshape(layer_input.shape[:2] + (rows,))
                init_states = [None if s is None else s[k] for s in states] + [None] * (2 - len(states))
                seq, *final = Recurrence.apply(xp, w_hh, b_hh, *init_states, cell=cell, time_axis=time_axis,
                                               reverse=direction == 1, valid=valid, t_run=t_run)
                outputs.append(seq)  # (T, B, H) or (B, T, H)
                for j, state in enumerate(final):  # h_n (B, H), and c_n for the LSTM
                    finals[j].append(state)
            layer_input = outputs[0] if len(outputs) == 1 else concat(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        out = layer_input
        if unbatched:
            out = out.reshape(steps, self.num_directions * H)
        return out, finals, unbatched

    def _stack(self, finals: list[Tensor], unbatched: bool) -> Tensor:
        h = stack(finals, axis=0)  # (L*D, B, H)
        return h.reshape(h.shape[0], self.hidden_size) if unbatched else h

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if not self.batch_first:
            text += ", batch_first=False"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(_RecurrentBase):
    """Stacked Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    ``rnn(x, h0=None, lengths=None) -> (out, h_n)``:
    x (B, T, in) with ``batch_first=True`` (the default) or (T, B, in); h0 and h_n
    (num_layers * num_directions, B, H); out (B, T, D*H) or (T, B, D*H), the last layer's
    outputs with both directions concatenated (forward first). ``lengths`` (B,): steps
    t >= lengths[b] are padding -- they do not change the state, their outputs are zero,
    and the reverse direction starts at each sequence's own last real step. ``hx=`` (PyTorch's
    name) is accepted for h0.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = True, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None):
        self._kind = _rnn_kind("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)

    def forward(self, x: Any, h0: Any = None, lengths: Any = None, *, hx: Any = None) -> tuple[Tensor, Tensor]:
        h0 = _one_state("RNN", {"h0": h0, "hx": hx})
        out, finals, unbatched = self._run(x, (h0,), lengths)
        return out, self._stack(finals[0], unbatched)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class GRU(_RecurrentBase):
    """Stacked GRU (gates as ``GRUCell``).

    ``gru(x, h0=None, lengths=None) -> (out, h_n)``: x (B, T, in) with
    ``batch_first=True`` (the default) or (T, B, in); out (B, T, D*H) or (T, B, D*H);
    h0 and h_n (num_layers * num_directions, B, H). ``lengths`` as in ``RNN``.
    Between layers, dropout with probability ``dropout`` in training mode (not after the last).
    """

    _kind = "gru"

    def forward(self, x: Any, h0: Any = None, lengths: Any = None, *, hx: Any = None) -> tuple[Tensor, Tensor]:
        h0 = _one_state("GRU", {"h0": h0, "hx": hx})
        out, finals, unbatched = self._run(x, (h0,), lengths)
        return out, self._stack(finals[0], unbatched)


class LSTM(_RecurrentBase):
    """Stacked LSTM (gates as ``LSTMCell``).

    ``lstm(x, (h0, c0)=None, lengths=None) -> (out, (h_n, c_n))``: x (B, T, in) with
    ``batch_first=True`` (the default) or (T, B, in); out (B, T, D*H) or (T, B, D*H);
    h0, c0, h_n, c_n (num_layers * num_directions, B, H). ``lengths`` as in ``RNN``. The
    initial state may also be passed by keyword as ``h0=(h0, c0)`` or ``hx=(h0, c0)``.
    """

    _kind = "lstm"

    def forward(self, x: Any, hc: tuple | None = None, lengths: Any = None, *, h0: tuple | None = None,
                hx: tuple | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        hc = _one_state("LSTM", {"hc": hc, "h0": h0, "hx": hx})
        if hc is None:
            h0 = c0 = None
        elif isinstance(hc, (tuple, list)) and len(hc) == 2:
            h0, c0 = hc
        else:
            raise TypeError(f"LSTM: the initial state must be a tuple (h0, c0), got {type(hc).__name__}")
        out, finals, unbatched = self._run(x, (h0, c0), lengths)
        return out, (self._stack(finals[0], unbatched), self._stack(finals[1], unbatched))
