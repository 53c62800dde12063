"""Example inputs for every kernel of ``minigrad.kernels.KERNELS``.

``EXAMPLES[name](rng, dtype)`` returns a list of ``Case``s: the arguments of kernel ``name``
with float arrays of ``dtype``, in several shapes (the edge sizes 0 and 1, row counts that
are not a multiple of 8, rows long enough for the vectorized row loops), layouts (strided
views) and special values (masked -inf rows, large logits, ignored targets). The table test
(``test_kernel_table.py``) calls the Numba implementation and the NumPy reference on equal
copies made from the same seed, so a builder must take all its randomness from ``rng``.

``Case.scale`` multiplies the absolute tolerance for results of that magnitude: one number,
or one per element of the kernel's result tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from testutils import non_contiguous, random_array
from minigrad.kernels import (
    additive_attention_forward_ref,
    cross_entropy_forward_ref,
    gru_forward_ref,
    layer_norm_forward_ref,
    log_softmax_ref,
    lstm_forward_ref,
    softmax_ref,
)


@dataclass
class Case:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    scale: Any = 1.0  # a float, or a tuple with one entry per result
    atol: float | None = None  # replaces the dtype's absolute tolerance (before scale)
    rtol: float | None = None


def _logits(rng, shape, dtype, scale=1.0, mask=False, masked_row=False):
    """Random logits; ``mask``: some -inf entries; ``masked_row``: the first row all -inf."""
    x = random_array(rng, shape, dtype, scale)
    if mask:
        x[rng.random(shape) < 0.3] = -np.inf
    if masked_row:
        x[(0,) * (len(shape) - 1)] = -np.inf
    return x


# ---------------------------------------------------------------- activations

def _softmax_inputs(rng, dtype):
    """(x, axis) pairs for the softmax family."""
    yield _logits(rng, (1, 1), dtype), -1
    yield _logits(rng, (13, 20), dtype, mask=True, masked_row=True), -1  # 8-row blocks + 5 rows
    yield _logits(rng, (3, 70), dtype, scale=5.0), 1  # per-row reductions, whole-array passes
    yield _logits(rng, (5, 100), dtype, scale=5.0, mask=True, masked_row=True), -1  # one row at a time
    yield _logits(rng, (9, 5), dtype, scale=1e4), -1  # no overflow
    yield non_contiguous(_logits(rng, (2, 3, 6), dtype, mask=True)), 1  # a middle axis, strided
    yield _logits(rng, (7,), dtype), 0
    yield _logits(rng, (0, 3), dtype), -1


def softmax_cases(rng, dtype):
    return [Case((x, axis)) for x, axis in _softmax_inputs(rng, dtype)]


def log_softmax_cases(rng, dtype):
    cases = []
    for x, axis in _softmax_inputs(rng, dtype):
        finite = np.abs(x[np.isfinite(x)])
        cases.append(Case((x, axis), scale=max(1.0, float(np.max(finite, initial=1.0)))))
    return cases


def softmax_backward_cases(rng, dtype):
    return [Case((softmax_ref(x, axis), random_array(rng, x.shape, dtype), axis))
            for x, axis in _softmax_inputs(rng, dtype)]


def log_softmax_backward_cases(rng, dtype):
    return [Case((log_softmax_ref(x, axis), random_array(rng, x.shape, dtype), axis), scale=max(1, x.shape[axis]))
            for x, axis in _softmax_inputs(rng, dtype)]


def _elementwise_inputs(rng, dtype):
    """(x, scale) pairs: 0-d, one element, odd lengths, a strided 2-D view, magnitudes to 30."""
    for shape, scale in (((), 1.0), ((1,), 0.1), ((37,), 4.0), ((4, 50), 30.0), ((3, 8), 1.0)):
        x = random_array(rng, shape, dtype, scale)
        yield (non_contiguous(x) if len(shape) == 2 and shape[0] == 4 else x), scale


def erf_cases(rng, dtype):
    # float32 erf is a rational approximation, <= 4.5e-7 absolute error; float64 is libm's
    atol = 6e-7 if dtype == np.float32 else None
    return [Case((x,), atol=atol, rtol=0.0 if atol else None) for x, _ in _elementwise_inputs(rng, dtype)]


def gelu_cases(rng, dtype):
    return [Case((x, approximate), scale=scale)
            for approximate in ("none", "tanh") for x, scale in _elementwise_inputs(rng, dtype)]


def gelu_backward_cases(rng, dtype):
    return [Case((x, random_array(rng, x.shape, dtype), approximate), scale=scale)
            for approximate in ("none", "tanh") for x, scale in _elementwise_inputs(rng, dtype)]


# ---------------------------------------------------------------- linalg

_MATMUL_SHAPES = (
    ((2, 2), (2, 2)),  # one matrix: BLAS
    ((300, 4, 3), (300, 3, 4)),  # many tiny matrices: the Numba loop
    ((256, 5, 2), (256, 2, 7)),  # Numba, 4-row blocks + 1 row
    ((16, 16, 4, 4), (4, 4)),  # a broadcast batch of 256 against a 2-D b: Numba
    ((4, 1, 3, 2), (1, 3, 2, 4)),  # broadcast batch dims on both sides: BLAS
    ((256, 4, 8), (256, 8, 4)),  # k > 4: BLAS
    ((6, 10, 32), (32, 24)),  # batched @ 2-D, folded into one GEMM
    ((300, 2, 0), (300, 0, 3)),  # empty inner dimension: zeros
    ((300, 0, 2), (300, 2, 3)),
)


def matmul_cases(rng, dtype):
    cases = []
    for sa, sb in _MATMUL_SHAPES:
        a, b = random_array(rng, sa, dtype), random_array(rng, sb, dtype)
        cases.append(Case((a, b), scale=max(1, sa[-1])))
    a, b = random_array(rng, (300, 3, 4), dtype), random_array(rng, (300, 3, 4), dtype)
    cases.append(Case((a, np.swapaxes(b, -1, -2)), scale=4))  # b a strided view, as q @ k^T makes
    a, b = random_array(rng, (6, 20, 32), dtype), random_array(rng, (32, 24), dtype)
    cases.append(Case((a[:, ::2], b), scale=32))  # batched @ 2-D but strided: not folded
    return cases


# ---------------------------------------------------------------- losses


def _cross_entropy_inputs(rng, dtype):
    """(logits, target, ignore_index, label_smoothing, scale of the logits)."""
    for (n, c), ignore, smoothing, scale in (((1, 1), None, 0.0, 1.0), ((13, 5), 0, 0.1, 10.0),
                                             ((40, 30), -100, 1.0, 1.0), ((7, 70), None, 0.0, 1e4),
                                             ((9, 14), -100, 0.0, 1.0), ((6, 100), 1, 0.2, 3.0),  # rows done one at a time, smoothed
                                             ((0, 4), None, 0.0, 1.0)):
        logits = random_array(rng, (n, c), dtype, scale)
        if n == 9:
            logits = non_contiguous(logits)
        target = rng.integers(0, c, n)
        if ignore is not None:
            target[rng.random(n) < 0.3] = ignore
        yield logits, target, ignore, smoothing, scale


def cross_entropy_forward_cases(rng, dtype):
    return [Case((logits, target, ignore, smoothing), scale=(scale * logits.shape[1], 1.0))
            for logits, target, ignore, smoothing, scale in _cross_entropy_inputs(rng, dtype)]


def cross_entropy_backward_cases(rng, dtype):
    return [Case((cross_entropy_forward_ref(logits, target, ignore, smoothing)[1],
                  random_array(rng, logits.shape[0], dtype)))
            for logits, target, ignore, smoothing, _ in _cross_entropy_inputs(rng, dtype)]


# ---------------------------------------------------------------- norms


def _layer_norm_inputs(rng, dtype):
    """(x, weight, bias): affine, weight only, bias only, none; odd sizes; strided x; and a
    weight of the other float dtype (cast to x's)."""
    other = np.float64 if dtype == np.float32 else np.float32
    for shape, affine, strided in (((1, 1), "both", False), ((13, 5), "weight", False), ((3, 4, 80), "both", True),
                                   ((6, 33), "bias", False), ((2, 7), "none", True), ((5, 9), "cast", False)):
        d = shape[-1]
        x = random_array(rng, shape, dtype)
        w = random_array(rng, d, other if affine == "cast" else dtype) if affine in ("both", "weight", "cast") else None
        b = random_array(rng, d, dtype) if affine in ("both", "bias", "cast") else None
        yield (non_contiguous(x) if strided else x), w, b


def layer_norm_forward_cases(rng, dtype):
    return [Case((x, w, b, 1e-5)) for x, w, b in _layer_norm_inputs(rng, dtype)]


def layer_norm_backward_cases(rng, dtype):
    cases = []
    for x, w, b in _layer_norm_inputs(rng, dtype):
        _, mean, rstd = layer_norm_forward_ref(x, w, b, 1e-5)
        rows = int(np.prod(x.shape[:-1]))
        cases.append(Case((random_array(rng, x.shape, dtype), x, w, mean, rstd), {"has_bias": b is not None},
                          scale=(1.0, rows, rows)))
    return cases


# ---------------------------------------------------------------- optim


def adam_update_cases(rng, dtype):
    cases = []
    for shape, (weight_decay, decoupled), step, strided in (
            ((), (0.0, False), 1, False), ((1,), (0.1, False), 2, False), ((37,), (0.0, True), 3, False),
            ((5, 40), (0.05, True), 4, True), ((0,), (0.0, False), 1, False)):
        param = random_array(rng, shape, dtype)
        grad = random_array(rng, shape, dtype)
        exp_avg = random_array(rng, shape, dtype, 0.1)
        exp_avg_sq = np.abs(random_array(rng, shape, dtype, 0.01))
        kwargs = dict(step=step, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay,
                      decoupled=decoupled)
        cases.append(Case((param, non_contiguous(grad) if strided else grad, exp_avg, exp_avg_sq), kwargs))
    return cases


# ---------------------------------------------------------------- attention


def _attention_inputs(rng, dtype):
    """(keys_proj, q_proj, v, values, mask) for (B, T, A, Dv) sizes with edge cases: one of
    everything, A = 0, T = 0, a row with every position masked, strided inputs."""
    for (B, T, A, Dv), masking, strided in (((1, 1, 1, 1), "none", False), ((6, 12, 20, 20), "some", True),
                                            ((3, 10, 16, 8), "rows", False), ((2, 3, 0, 4), "none", False),
                                            ((2, 0, 3, 4), "none", False), ((9, 5, 3, 2), "some", False)):
        keys_proj = random_array(rng, (B, T, A), dtype, 2.0)
        q_proj = random_array(rng, (B, A), dtype, 2.0)
        v = random_array(rng, A, dtype)
        values = random_array(rng, (B, T, Dv), dtype)
        mask = None
        if masking != "none":
            mask = rng.random((B, T)) < 0.7
            if masking == "rows":
                mask[0] = False  # nothing to attend to: zero weights, zero context
        if strided:
            keys_proj, values = non_contiguous(keys_proj), non_contiguous(values)
        yield keys_proj, q_proj, v, values, mask


def additive_attention_forward_cases(rng, dtype):
    return [Case(inputs) for inputs in _attention_inputs(rng, dtype)]


def additive_attention_backward_cases(rng, dtype):
    cases = []
    for i, (keys_proj, q_proj, v, values, mask) in enumerate(_attention_inputs(rng, dtype)):
        _, weights, hidden = additive_attention_forward_ref(keys_proj, q_proj, v, values, mask)
        B, T, A = hidden.shape
        grad = random_array(rng, (B, values.shape[2]), dtype)
        need_values = i % 2 == 0
        out = None
        if i == 2:  # accumulate into given arrays, as the decoder loop does
            out = (random_array(rng, values.shape, dtype), random_array(rng, A, dtype),
                   random_array(rng, hidden.shape, dtype))
        cases.append(Case((grad, hidden, weights, v, values, need_values, out),
                          scale=(1.0, max(1, B * T), 1.0, max(1, T))))
    return cases


# ---------------------------------------------------------------- embedding


def embedding_backward_cases(rng, dtype):
    cases = []
    for lead, num, D, padding, strided in (((), 1, 1, False, False), ((0,), 3, 4, False, False),
                                           ((3, 7), 12, 9, True, False), ((2, 3, 4), 5, 6, False, True),
                                           ((5,), 4, 0, True, False)):
        idx = rng.integers(0, num, size=lead)
        grad = random_array(rng, lead + (D,), dtype)
        if strided:
            grad = np.swapaxes(np.ascontiguousarray(np.swapaxes(grad, 0, -1)), 0, -1)
        pad = int(rng.integers(0, num)) if padding else None
        cases.append(Case((idx, grad, num, pad), scale=max(1, idx.size)))
    return cases


# ---------------------------------------------------------------- rnn

_CELL_SIZES = (((1, 1), 1.0, False), ((9, 40), 6.0, True), ((3, 17), 0.1, False), ((8, 64), 1.0, False))


def _gate_inputs(rng, dtype, gates):
    for (B, H), scale, strided in _CELL_SIZES:
        gi = random_array(rng, (B, gates * H), dtype, scale)
        gh = random_array(rng, (B, gates * H), dtype, scale)
        state = random_array(rng, (B, H), dtype)
        if strided:
            gi, state = non_contiguous(gi), non_contiguous(state)
        yield gi, gh, state, scale


def gru_forward_cases(rng, dtype):
    return [Case((gi, gh, h)) for gi, gh, h, _ in _gate_inputs(rng, dtype, 3)]


def gru_backward_cases(rng, dtype):
    cases = []
    for gi, gh, h, scale in _gate_inputs(rng, dtype, 3):
        _, r, z, n = gru_forward_ref(gi, gh, h)
        cases.append(Case((random_array(rng, h.shape, dtype), h, r, z, n, gh), scale=1 + scale))
    return cases


def lstm_forward_cases(rng, dtype):
    return [Case((gi, gh, c), scale=1 + scale) for gi, gh, c, scale in _gate_inputs(rng, dtype, 4)]


def lstm_backward_cases(rng, dtype):
    cases = []
    for gi, gh, c, _ in _gate_inputs(rng, dtype, 4):
        _, _, act, tanh_c = lstm_forward_ref(gi, gh, c)
        dh, dc = random_array(rng, c.shape, dtype), random_array(rng, c.shape, dtype)
        cases.append(Case((dh, dc, c, act, tanh_c)))
    return cases


EXAMPLES: dict[str, Callable[[np.random.Generator, np.dtype], list[Case]]] = {
    "softmax": softmax_cases,
    "softmax_backward": softmax_backward_cases,
    "log_softmax": log_softmax_cases,
    "log_softmax_backward": log_softmax_backward_cases,
    "erf": erf_cases,
    "gelu": gelu_cases,
    "gelu_backward": gelu_backward_cases,
    "matmul": matmul_cases,
    "cross_entropy_forward": cross_entropy_forward_cases,
    "cross_entropy_backward": cross_entropy_backward_cases,
    "layer_norm_forward": layer_norm_forward_cases,
    "layer_norm_backward": layer_norm_backward_cases,
    "adam_update": adam_update_cases,
    "additive_attention_forward": additive_attention_forward_cases,
    "additive_attention_backward": additive_attention_backward_cases,
    "embedding_backward": embedding_backward_cases,
    "gru_forward": gru_forward_cases,
    "gru_backward": gru_backward_cases,
    "lstm_forward": lstm_forward_cases,
    "lstm_backward": lstm_backward_cases,
}
