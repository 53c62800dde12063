"""Every fused op equals its ``reference`` (the composition of primitive ops it replaces) in
values and gradients; the reference is also what higher derivatives differentiate."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.ops import attention, elementwise, linalg, nn, recurrent
from minigrad.ops._cell_math import CELLS

RNG = np.random.default_rng(0)


def _t(*shape):
    return mg.tensor(RNG.standard_normal(shape), requires_grad=True)


# (id, Function, inputs builder, keyword arguments)
CASES = [
    ("softmax", nn.Softmax, lambda: (_t(3, 5),), {"axis": -1}),
    ("softmax-axis0", nn.Softmax, lambda: (_t(4, 2, 3),), {"axis": 0}),
    ("softmax-masked-row", nn.Softmax, lambda: (mg.tensor([[0.5, -np.inf], [-np.inf, -np.inf]],
                                                           dtype=mg.float64, requires_grad=True),), {"axis": -1}),
    ("log_softmax", nn.LogSoftmax, lambda: (_t(2, 3, 4),), {"axis": 1}),
    ("cross_entropy", nn.CrossEntropy, lambda: (_t(4, 5), np.array([0, 4, 2, 2])), {}),
    ("cross_entropy-ignore-smooth", nn.CrossEntropy, lambda: (_t(2, 3, 4), np.array([[0, 1, 3], [3, 3, 2]])),
     {"ignore_index": 3, "label_smoothing": 0.2}),
    ("linear", nn.Linear, lambda: (_t(2, 3, 4), _t(5, 4), _t(5)), {}),
    ("linear-no-bias", nn.Linear, lambda: (_t(6, 4), _t(3, 4)), {}),
    ("embedding", nn.Embedding, lambda: (_t(6, 3), np.array([[1, 5, 5], [0, 2, 1]])), {}),
    ("embedding-padding", nn.Embedding, lambda: (_t(6, 3), np.array([0, 3, 0, 1])), {"padding_idx": 0}),
    ("layer_norm", nn.LayerNorm, lambda: (_t(3, 2, 4), _t(2, 4), _t(2, 4)), {"size": 8, "eps": 1e-5}),
    ("layer_norm-plain", nn.LayerNorm, lambda: (_t(5, 3), None, None), {"size": 3, "eps": 1e-3}),
    ("svdvals", linalg.Svdvals, lambda: (_t(2, 4, 3),), {}),
    ("gelu", elementwise.Gelu, lambda: (_t(4, 3),), {"approximate": "none"}),
    ("gelu-tanh", elementwise.Gelu, lambda: (_t(7),), {"approximate": "tanh"}),
    ("sdpa", attention.ScaledDotProductAttention, lambda: (_t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 2)), {"scale": 0.5}),
    ("sdpa-bool-mask-dropout", attention.ScaledDotProductAttention, lambda: (_t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 2)),
     {"mask": np.array([[True] * 5, [True, True, False, False, False], [False] * 5]), "scale": 0.7,
      "keep": (RNG.random((2, 3, 5)) > 0.3) / 0.7}),
    ("sdpa-float-mask-heads", attention.ScaledDotProductAttention, lambda: (_t(2, 3, 6), _t(2, 4, 6), _t(2, 4, 4)),
     {"mask": RNG.standard_normal((2, 1, 3, 4)), "scale": 0.3, "heads": 2}),
    ("additive_attention", attention.AdditiveAttention,
     lambda: (_t(3, 4), _t(6, 4), _t(3, 5, 6), _t(1, 6), _t(3, 5, 2)), {}),
    ("additive_attention-mask", attention.AdditiveAttention,
     lambda: (_t(2, 4), _t(6, 4), _t(2, 5, 6), _t(1, 6), _t(2, 5, 2)),
     {"mask": np.array([[True, True, True, False, False], [True] * 5])}),
    ("recurrence-gru", recurrent.Recurrence, lambda: (_t(4, 2, 9), _t(9, 3), _t(9), _t(2, 3), None),
     {"cell": CELLS["gru"]}),
    ("recurrence-lstm-padded-reverse", recurrent.Recurrence, lambda: (_t(2, 4, 8), _t(8, 2), None, None, _t(2, 2)),
     {"cell": CELLS["lstm"], "time_axis": 1, "reverse": True, "t_run": 3,
      "valid": np.array([[True, True], [True, True], [True, False], [False, False]])[:, :, None]}),
    ("recurrence-rnn_relu", recurrent.Recurrence, lambda: (_t(3, 2, 3), _t(3, 3), _t(3), None, None),
     {"cell": CELLS["rnn_relu"]}),
    ("cell_step-gru", recurrent.CellStep, lambda: (_t(2, 4), _t(2, 3), None, _t(9, 4), _t(9, 3), _t(9), _t(9)),
     {"cell": CELLS["gru"]}),
    ("cell_step-lstm", recurrent.CellStep, lambda: (_t(2, 4), None, _t(2, 3), _t(12, 4), _t(12, 3), None, _t(12)),
     {"cell": CELLS["lstm"]}),
    ("bahdanau_decoder-gru", recurrent.BahdanauDecoder,
     lambda: (_t(2, 3, 2), _t(2, 3), None, _t(9, 5), _t(9, 3), _t(9), _t(9), _t(4, 3), _t(2, 4, 4), _t(1, 4),
              _t(2, 4, 3)), {"cell": CELLS["gru"], "mask": np.array([[True, True, False, False], [True] * 4])}),
    ("bahdanau_decoder-lstm", recurrent.BahdanauDecoder,
     lambda: (_t(2, 3, 2), _t(2, 3), _t(2, 3), _t(12, 5), _t(12, 3), None, None, _t(4, 3), _t(2, 4, 4), _t(1, 4),
              _t(2, 4, 3)), {"cell": CELLS["lstm"]}),
]


def _values_and_gradients(call, inputs):
    outs = call(*inputs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    live = [o for o in outs if o.requires_grad]  # attention weights are constant outputs
    cotangents = [np.random.default_rng(i).standard_normal(o.shape) for i, o in enumerate(live)]
    tensors = [x for x in inputs if isinstance(x, mg.Tensor) and x.requires_grad]
    grads = mg.autograd.grad(live, tensors, grad_outputs=cotangents, allow_unused=True)
    return [o.data for o in outs], [None if g is None else g.data for g in grads]


@pytest.mark.parametrize("name,op,make,kwargs", CASES, ids=[c[0] for c in CASES])
def test_the_fused_op_equals_its_reference(name, op, make, kwargs):
    inputs = make()
    fused, fused_grads = _values_and_gradients(lambda *xs: op.apply(*xs, **kwargs), inputs)
    plain, plain_grads = _values_and_gradients(lambda *xs: op.reference(*xs, **kwargs), inputs)
    for got, want in zip(fused, plain, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for got, want in zip(fused_grads, plain_grads):
        np.testing.assert_allclose(got, np.zeros_like(got) if want is None else want, rtol=1e-9, atol=1e-12)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_fused_op_with_a_reference_has_a_case():
    with_reference = {c for c in _subclasses(Function) if c.reference is not None and c.__module__.startswith("minigrad.")}
    assert with_reference - {op for _, op, _, _ in CASES} == set()


def test_a_fused_op_whose_inputs_depend_on_each_other_has_the_same_gradient_with_create_graph():
    """The reference is differentiated with respect to the op's inputs as separate variables: a
    path from one input to another (keys and their projection, both fed to an attention op) is
    the outer graph's to follow, not the reference's (following it in both would count it twice)."""
    x = _t(3, 3)
    plain = mg.autograd.grad(nn.Linear.apply(x, x * 2.0).sum(), [x])[0]
    graphed = mg.autograd.grad(nn.Linear.apply(x, x * 2.0).sum(), [x], create_graph=True)[0]
    np.testing.assert_allclose(graphed.data, plain.data, rtol=1e-12)
