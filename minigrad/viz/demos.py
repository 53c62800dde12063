"""Small graphs to look at: ``minigrad trace --demo NAME`` and the viewer's examples.

Each function takes no argument and returns a scalar Tensor whose graph has named leaves.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import minigrad as mg
from minigrad import nn

from ._data import modules


def scalar():
    """f = tanh(x*y + y) * exp(x) at x = 0.5, y = -1.25 (examples/01_autodiff_by_hand.py); y is used twice."""
    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(-1.25, dtype=mg.float64, requires_grad=True)
    x.name, y.name = "x", "y"
    return mg.tanh(x * y + y) * mg.exp(x)


def mlp():
    """Mean squared error of a 3-4-1 tanh MLP (nn.Linear) on a batch of two points; ops grouped by layer."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    for name, p in model.named_parameters():
        p.name = name  # '0.weight', '0.bias', '2.weight', '2.bias'
    x = mg.tensor([[1.0, -0.5, 2.0], [0.0, 1.5, -1.0]])
    x.name = "x"
    target = mg.tensor([[1.0], [-1.0]])
    target.name = "target"
    with modules(model):
        prediction = model(x)
    return nn.functional.mse_loss(prediction, target)


def attention():
    """One causal self-attention head written with primitive ops, on 3 positions of width 4:
    q, k, v = x Wq, x Wk, x Wv; w = softmax(mask(q k^T / 2)); loss = mean((w v)^2)."""
    gen = np.random.default_rng(0)
    x = mg.tensor(gen.standard_normal((3, 4)).astype(np.float32))  # (T, d)
    x.name = "x"
    weights = {}
    for key in ("Wq", "Wk", "Wv"):
        weights[key] = mg.tensor(0.5 * gen.standard_normal((4, 4)).astype(np.float32), requires_grad=True)
        weights[key].name = key
    q, k, v = x @ weights["Wq"], x @ weights["Wk"], x @ weights["Wv"]  # (T, d) each
    scores = (q @ k.T) * (1.0 / math.sqrt(4))  # (T, T)
    future = ~np.tril(np.ones((3, 3), dtype=bool))  # True above the diagonal: positions not yet seen
    attn = mg.softmax(scores.masked_fill(future, -1e9), axis=-1)
    out = attn @ v  # (T, d)
    return (out * out).mean()


def deep_mlp(layers: int = 124, width: int = 8):
    """A deep tanh MLP (4 nodes per layer, so 124 layers make ~500 nodes): a large graph
    for checking that the viewer stays fast and readable."""
    mg.manual_seed(0)
    blocks = []
    for _ in range(layers):
        blocks += [nn.Linear(width, width), nn.Tanh()]
    model = nn.Sequential(*blocks)
    x = mg.tensor(np.linspace(-1, 1, 2 * width).reshape(2, width))
    x.name = "x"
    with modules(model):
        out = model(x)
    return ((out * out) + out).mean()


DEMOS: dict[str, Callable[[], Any]] = {"scalar": scalar, "mlp": mlp, "attention": attention}
