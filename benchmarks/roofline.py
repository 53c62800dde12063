"""The matrix products of one training step, counted from the model's config, and the rate
NumPy's BLAS reaches on exactly those products (the "roofline" columns of ``train_step.py``).

``products(model, hyper, batch, length, vocab)`` lists every matrix product one training step
of ``_common.MinigradStep`` runs (forward, then backward), each as a ``Product``: ``calls``
products of a (batch, n, k) by a (batch, k, m) operand (batch 1: plain matrices), worth
``2 * batch * n * k * m`` floating-point operations each. The list is written from the
architecture, the way the step runs it:

- a linear layer on ``rows`` inputs is one forward product (rows, in) x (in, out) and two
  backward ones, dx = g W (rows, out) x (out, in) and dW = g^T x (out, rows) x (rows, in);
- scaled dot-product attention with H heads of size Dh is batched over B * H: scores
  (Tq, Dh) x (Dh, Tk) and out (Tq, Tk) x (Tk, Dh) forward, dV, dP, dQ and dK backward;
- the recurrent encoders run one (B, H) x (H, G*H) product per step forward, one
  (B, G*H) x (G*H, H) per step backward and one weight gradient over all B * T rows; the
  fused Bahdanau decoder (``minigrad.ops.recurrent.BahdanauDecoder``) the products listed in
  ``_rnn_attn``.

Not counted: what is not a matrix product (element-wise work, softmax, norms, Adam), and the
additive attention's per-step score and context reductions of ``rnn-attn``
(``v . tanh(...)`` over (B, S, A) and ``weights . keys`` over (B, S, Dk)), which run inside a
Numba kernel, not as products (about 1% of that model's count at the default size).

``route`` says how minigrad runs a product: ``"kernel"`` through ``minigrad.kernels.matmul``
(what ``count_kernel_flops`` sees), ``"ndarray"`` as a plain ``@`` on ndarrays inside the fused
recurrence (``minigrad.ops._cell_math``, ``Recurrence.backward``). tests/perf/test_roofline.py
holds the kernel part equal to a counter wrapped around ``minigrad.kernels.matmul`` during a
real step, and the whole count equal to the GEMMs OpenBLAS is asked for (an ``LD_PRELOAD``
counter), for every model.

The BLAS rate (``blas_rate``) times ``np.matmul`` on C-contiguous float32 operands of every
distinct shape of the list, one thread, and weights each by its share of the step's FLOPs:
the step's products would take ``sum(calls * seconds per product)`` at that speed, and the
rate is the FLOPs over that time. minigrad's own products see transposed views (W^T, g^T,
head-strided q/k/v) that BLAS handles with a different kernel; the contiguous timing is the
reference, not a replay.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np


class Product(NamedTuple):
    """``calls`` matrix products (batch, n, k) x (batch, k, m) in one training step."""

    label: str
    batch: int
    n: int
    k: int
    m: int
    calls: int = 1
    route: str = "kernel"  # "kernel": minigrad.kernels.matmul; "ndarray": a plain ``@`` in the fused recurrence

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.n * self.k * self.m * self.calls


Layer = tuple[list[Product], list[Product]]  # the (forward, backward) products of one layer


def _linear(label: str, rows: int, d_in: int, d_out: int) -> Layer:
    """(forward, backward) products of a linear layer applied to ``rows`` inputs."""
    return ([Product(f"{label} fwd", 1, rows, d_in, d_out)],
            [Product(f"{label} dx", 1, rows, d_out, d_in), Product(f"{label} dW", 1, d_out, rows, d_in)])


def _attention(label: str, bh: int, tq: int, tk: int, dh: int) -> Layer:
    """(forward, backward) products of scaled dot-product attention over ``bh`` = B * H heads."""
    fwd = [Product(f"{label} scores", bh, tq, dh, tk), Product(f"{label} out", bh, tq, tk, dh)]
    bwd = [Product(f"{label} dV", bh, tk, tq, dh), Product(f"{label} dP", bh, tq, dh, tk),
           Product(f"{label} dQ", bh, tq, tk, dh), Product(f"{label} dK", bh, tk, tq, dh)]
    return fwd, bwd


def _in_step_order(layers: list[Layer]) -> list[Product]:
    """The products of ``layers`` (each a (forward, backward) pair, in the order the forward pass
    runs them) in the order one step runs them: every forward, then every backward in reverse."""
    return [p for fwd, _ in layers for p in fwd] + [p for _, bwd in reversed(layers) for p in bwd]


def _config(model: str, hyper: dict[str, Any]) -> Any:
    from minigrad import models

    return replace(models.config_for(model), **hyper).validate()


def _gates(cell: str) -> int:
    return {"gru": 3, "lstm": 4}[cell]


def _recurrent_layer(label: str, batch: int, steps: int, d_in: int, hidden: int, gates: int) -> Layer:
    """(forward, backward) of one unidirectional ``GRU``/``LSTM`` layer over a whole sequence:
    the input projection of all steps (a linear layer), then ``Recurrence``."""
    gh = gates * hidden
    fwd, bwd = _linear(f"{label}.w_ih", batch * steps, d_in, gh)
    fwd.append(Product(f"{label} h W_hh^T", 1, batch, hidden, gh, steps, "ndarray"))
    bwd = [Product(f"{label} dgh W_hh", 1, batch, gh, hidden, steps, "ndarray"),
           Product(f"{label} dW_hh", 1, gh, batch * steps, hidden, 1, "ndarray")] + bwd
    return fwd, bwd


def _check_rnn(model: str, cfg: Any) -> None:
    if cfg.bidirectional or cfg.teacher_forcing_ratio != 1.0 or (model == "rnn-attn" and cfg.num_layers != 1):
        raise ValueError(f"roofline: no FLOP count for {model} with bidirectional={cfg.bidirectional}, "
                         f"teacher_forcing_ratio={cfg.teacher_forcing_ratio}, num_layers={cfg.num_layers} "
                         "(counted: unidirectional, full teacher forcing, one layer for rnn-attn)")


def _rnn(cfg: Any, batch: int, length: int, vocab: int) -> list[Product]:
    """Plain GRU/LSTM encoder-decoder: both run over their whole sequence; out_proj on every step."""
    _check_rnn("rnn", cfg)
    G, E, H, L = _gates(cfg.cell), cfg.embed_dim, cfg.hidden_dim, cfg.num_layers
    T = length + 1
    layers = [_recurrent_layer(f"{side}.{layer}", batch, steps, E if layer == 0 else H, H, G)
              for side, steps in (("encoder", length), ("decoder", T)) for layer in range(L)]
    return _in_step_order(layers + [_linear("out_proj", batch * T, H, vocab)])


def _rnn_attn(cfg: Any, batch: int, length: int, vocab: int) -> list[Product]:
    """GRU/LSTM encoder, key projection, the fused one-layer Bahdanau decoder, out_proj."""
    _check_rnn("rnn-attn", cfg)
    G, E, H = _gates(cfg.cell), cfg.embed_dim, cfg.hidden_dim
    B, S, T = batch, length, length + 1
    A = Dk = H  # attention width and key size (the encoder's outputs)
    GH, rows = G * H, B * T
    dec_f = [Product("decoder emb W_e^T (all steps)", 1, rows, E, GH),
             Product("decoder s W_[hh;q]^T", 1, B, H, GH + A, T),
             Product("decoder c W_c^T", 1, B, Dk, GH, T)]
    dec_b = [Product("decoder dgi W_c", 1, B, GH, Dk, T),
             Product("decoder dgh W_hh", 1, B, GH, H, T),
             Product("decoder dq W_q", 1, B, A, H, T),
             Product("decoder dW_ih", 1, GH, rows, E + Dk),
             Product("decoder d emb", 1, rows, GH, E),
             Product("decoder dW_hh", 1, GH, rows, H),
             Product("decoder dW_q", 1, A, rows, H)]
    return _in_step_order([_recurrent_layer("encoder", B, S, E, H, G), _linear("attention.key_proj", B * S, Dk, A),
                           (dec_f, dec_b), _linear("out_proj", rows, H + Dk, vocab)])


def _block(label: str, batch: int, tq: int, tk: int | None, cfg: Any, cross: bool = False) -> Layer:
    """(forward, backward) of one attention sub-layer: q/k/v projections, attention, out_proj.
    ``tk`` is the key length (the memory's for cross-attention, whose k/v read ``batch * tk`` rows)."""
    d, heads = cfg.d_model, cfg.num_heads
    tk = tq if tk is None else tk
    parts = [_linear(f"{label}.q_proj", batch * tq, d, d), _linear(f"{label}.k_proj", batch * tk, d, d),
             _linear(f"{label}.v_proj", batch * tk, d, d)]
    att = _attention(f"{label} sdpa", batch * heads, tq, tk, d // heads)
    out = _linear(f"{label}.out_proj", batch * tq, d, d)
    fwd = [p for f, _ in parts for p in f] + att[0] + out[0]
    bwd = out[1] + att[1] + [p for _, b in parts for p in b]
    return fwd, bwd


def _ff(label: str, rows: int, cfg: Any) -> Layer:
    f1, b1 = _linear(f"{label}.linear1", rows, cfg.d_model, cfg.ff_dim)
    f2, b2 = _linear(f"{label}.linear2", rows, cfg.ff_dim, cfg.d_model)
    return f1 + f2, b2 + b1


def _transformer(cfg: Any, batch: int, length: int, vocab: int) -> list[Product]:
    """Encoder-decoder: L encoder layers over S = length, L decoder layers over T = length + 1."""
    B, S, T = batch, length, length + 1
    layers: list[Layer] = []
    for i in range(cfg.num_layers):
        layers += [_block(f"encoder.{i}.self_attn", B, S, None, cfg), _ff(f"encoder.{i}.ff", B * S, cfg)]
    for i in range(cfg.num_layers):
        layers += [_block(f"decoder.{i}.self_attn", B, T, None, cfg), _block(f"decoder.{i}.cross_attn", B, T, S, cfg),
                   _ff(f"decoder.{i}.ff", B * T, cfg)]
    layers.append(_linear("out_proj" if not cfg.tie_embeddings else "tied output", B * T, cfg.d_model, vocab))
    return _in_step_order(layers)


def _lm(cfg: Any, batch: int, length: int, vocab: int) -> list[Product]:
    """Decoder-only: L blocks (causal self-attention over all T x T scores, feed-forward), then
    the output layer (the tied embedding or lm_head: the same shapes)."""
    B, T = batch, length
    if T > cfg.block_size:
        raise ValueError(f"roofline: lm windows of {T} tokens exceed block_size {cfg.block_size}")
    layers: list[Layer] = []
    for i in range(cfg.num_layers):
        layers += [_block(f"blocks.{i}.self_attn", B, T, None, cfg), _ff(f"blocks.{i}.ff", B * T, cfg)]
    layers.append(_linear("tied output" if cfg.tie_embeddings else "lm_head", B * T, cfg.d_model, vocab))
    return _in_step_order(layers)


_COUNTS = {"rnn": _rnn, "rnn-attn": _rnn_attn, "transformer": _transformer, "lm": _lm}
COUNTED_MODELS = tuple(_COUNTS)


def products(model: str, hyper: dict[str, Any], batch: int, length: int, vocab: int) -> list[Product]:
    """Every matrix product of one training step of ``model`` (see the module docstring).

    ``length``: the source length L of the seq2seq models (targets are L + 1 tokens, as the
    benchmark's copy batches), the window of ``lm``. ValueError for a model (or option) not
    counted (rnn-luong, the encoder-only model, bidirectional encoders).
    """
    if model not in _COUNTS:
        raise ValueError(f"roofline: no FLOP count for model {model!r}; counted: {', '.join(COUNTED_MODELS)}")
    return _COUNTS[model](_config(model, hyper), batch, length, vocab)


def step_flops(items: list[Product], route: str | None = None) -> int:
    """Total FLOPs of ``items`` (only those of ``route`` when given)."""
    return sum(p.flops for p in items if route is None or p.route == route)


def for_size(model: str, size: str) -> list[Product]:
    """``products`` of a ``_common`` benchmark size."""
    import _common

    batch, length = _common.batch_dims(model, size)
    return products(model, _common.hyper_for(model, size), batch, length, _common.vocab_for(model))


# ------------------------------------------------------------------------------ counting a real step


def count_kernel_flops(step: Any) -> int:
    """FLOPs of the products that go through ``minigrad.kernels.matmul`` during one ``step()``
    (2 * batch * n * k * m per call, batch axes broadcast), by wrapping that entry point."""
    import minigrad.kernels as kernels
    from minigrad.kernels.linalg import batch_shape

    original = kernels.matmul
    total = 0

    def counting(a, b):
        nonlocal total
        n, k = a.shape[-2:]
        total += 2 * int(np.prod(batch_shape(a.shape, b.shape), dtype=np.int64)) * n * k * b.shape[-1]
        return original(a, b)

    kernels.matmul = counting
    try:
        step()
    finally:
        kernels.matmul = original
    return total


# ------------------------------------------------------------------------------ the BLAS reference rate


def _seconds_per_product(batch: int, n: int, k: int, m: int, min_time: float, repeats: int) -> float:
    """CPU seconds of one np.matmul of C-contiguous float32 (batch, n, k) x (batch, k, m): the
    least of ``repeats`` timings, each of enough calls to last ``min_time``."""
    rng = np.random.default_rng(0)
    lead = () if batch == 1 else (batch,)
    a = rng.standard_normal(lead + (n, k), dtype=np.float32)
    b = rng.standard_normal(lead + (k, m), dtype=np.float32)
    out = np.empty(lead + (n, m), np.float32)
    np.matmul(a, b, out=out)
    t0 = time.process_time()
    np.matmul(a, b, out=out)
    once = max(time.process_time() - t0, 1e-6)
    calls = max(1, int(min_time / once))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        best = min(best, (time.process_time() - t0) / calls)
    return best


def blas_rate(items: list[Product], min_time: float = 0.01, repeats: int = 3) -> dict[str, float]:
    """How fast NumPy's BLAS runs the step's products on this machine, now (threads as set).

    Returns {"seconds": the step's products at BLAS speed, "gflops": FLOPs / seconds / 1e9}.
    """
    per_shape: dict[tuple[int, int, int, int], float] = {}
    seconds = 0.0
    for p in items:
        key = (p.batch, p.n, p.k, p.m)
        if key not in per_shape:
            per_shape[key] = _seconds_per_product(*key, min_time=min_time, repeats=repeats)
        seconds += p.calls * per_shape[key]
    return {"seconds": seconds, "gflops": step_flops(items) / seconds / 1e9}
