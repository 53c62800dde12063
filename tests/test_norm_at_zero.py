"""linalg.norm at the zero vector: the subgradient 0, as PyTorch, for the 2-norm (the default,
"fro", per axis) and the p-norms, where the composition sqrt(sum(x * x)) would give 0 / 0 = NaN and
a RuntimeWarning. Away from 0 the Hypothesis suite checks every order of the same rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import func

NORMS = [({}, {}), ({"ord": "fro"}, {"ord": "fro"}), ({"axis": 1}, {"dim": 1}), ({"ord": 3}, {"ord": 3}),
         ({"ord": 0.5}, {"ord": 0.5}), ({"ord": 2, "axis": 0}, {"ord": 2, "dim": 0})]


def _shape(kwargs):
    return (2, 3) if kwargs.get("ord") == "fro" or "axis" in kwargs or "dim" in kwargs else (3,)


@pytest.mark.parametrize("ours, theirs", NORMS, ids=[str(o) for o, _ in NORMS])
def test_gradient_at_zero_is_zero_without_a_warning(ours, theirs):
    x = mg.zeros(_shape(ours), dtype=mg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.linalg.norm(x, **ours).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(x.shape))
    (tangent,) = func.jvp(lambda t: mg.linalg.norm(t, **ours), (x.detach(),), (mg.ones(x.shape, dtype=mg.float64),))[1:]
    np.testing.assert_array_equal(tangent.data, np.zeros(tangent.shape))


@pytest.mark.parametrize("ours, theirs", NORMS, ids=[str(o) for o, _ in NORMS])
def test_rows_at_zero_and_elsewhere_match_torch(ours, theirs):
    torch = pytest.importorskip("torch", reason="PyTorch is the optional oracle")
    data = np.zeros(_shape(ours))
    data.flat[: data.size // 2] = [1.5, -2.0, 0.5][: data.size // 2]  # one row (or half) nonzero
    x = mg.tensor(data, requires_grad=True)
    mg.linalg.norm(x, **ours).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    torch.linalg.norm(t, **theirs).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=0)
