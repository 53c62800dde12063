"""Every model learns: on one fixed batch of 8 copy sequences (length 5, vocabulary 8) a
few dozen Adam steps drive the loss close to zero and greedy decoding reproduces the
targets. A regression guard for the whole stack (ops, kernels, nn, optim, models).

Models are narrower than the defaults (which learn this batch too) to keep the test fast."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import models
from minigrad.optim import Adam
from testutils import copy_batch

pytestmark = pytest.mark.slow

MAX_STEPS = 300
SMALL = {"rnn": dict(embed_dim=16, hidden_dim=32), "transformer": dict(d_model=32, num_heads=4, ff_dim=64)}


@pytest.mark.parametrize("name", ["rnn", "rnn-attn", "rnn-luong", "transformer", "encoder"])
def test_model_learns_a_copy_batch(name):
    mg.manual_seed(0)
    src, tgt_in, tgt_out = copy_batch(np.random.default_rng(0))
    model = models.build(name, 8, 8, **SMALL["rnn" if name.startswith("rnn") else "transformer"])
    optimizer = Adam(model.parameters(), lr=1e-2)
    target = src if name == "encoder" else tgt_out  # the encoder emits one token per source position
    first = None
    for _ in range(MAX_STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(src, tgt_in), target)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
        if loss.item() < 0.02:
            break
    assert first > 1.5 and loss.item() < 0.02, f"{name}: loss went from {first:.3f} to {loss.item():.3f}"
    tokens, _ = model.greedy_decode(src, max_len=tgt_out.shape[1])
    np.testing.assert_array_equal(tokens, target)
