"""nn.BCELoss and nn.BCEWithLogitsLoss against PyTorch (values, input and target gradients,
state_dict), and binary_cross_entropy at probabilities 0 and 1: PyTorch's clamped values and
gradients, with no floating-point warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

RNG = np.random.default_rng(0)
PROBS = RNG.uniform(0.02, 0.98, size=(3, 4))
TARGETS = np.array([[1.0, 0.0, 0.3, 1.0], [0.0, 0.0, 1.0, 0.7], [0.5, 1.0, 0.0, 0.0]])
LOGITS = RNG.normal(0.0, 3.0, size=(3, 4))
WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
POS_WEIGHT = np.array([3.0, 0.5, 1.0, 2.0])
EDGES = (np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50, 1.0 - 1e-16]), np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3, 0.6]))


def test_binary_cross_entropy_at_zero_and_one_raises_no_warning():
    p, t = (mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in EDGES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            losses = F.binary_cross_entropy(p, t, reduction="none")
            losses.sum().backward()
    assert np.isfinite(losses.data).all() and np.isfinite(p.grad).all()
    np.testing.assert_array_equal(losses.data[:4], [100.0, 100.0, 0.0, 0.0])  # each log clamped at -100
    np.testing.assert_array_equal(t.grad[:4], [np.inf, -np.inf, np.inf, -np.inf])  # log(1 - p) - log(p), unclamped


def test_binary_cross_entropy_float32_at_zero_and_one_raises_no_warning():
    p = mg.tensor(EDGES[0], dtype=mg.float32, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(p, EDGES[1].astype(np.float32))
        loss.backward()
    assert loss.dtype == mg.float32 and p.grad.dtype == mg.float32 and np.isfinite(p.grad).all()


def test_bce_modules_keep_weights_as_buffers_with_pytorchs_state_dict_keys():
    assert nn.BCELoss().state_dict() == {} and nn.BCEWithLogitsLoss().state_dict() == {}
    loss = nn.BCEWithLogitsLoss(weight=WEIGHT, pos_weight=POS_WEIGHT)
    assert list(loss.state_dict()) == ["weight", "pos_weight"] and not list(loss.parameters())
    assert not loss.weight.requires_grad
    assert list(nn.BCEWithLogitsLoss(pos_weight=POS_WEIGHT).state_dict()) == ["pos_weight"]
    assert list(nn.BCELoss(weight=WEIGHT).state_dict()) == ["weight"]
    loss.load_state_dict({"weight": np.ones(4), "pos_weight": np.full(4, 2.0)})
    np.testing.assert_array_equal(loss.pos_weight.data, np.full(4, 2.0))


@pytest.mark.parametrize("name", ["BCELoss", "BCEWithLogitsLoss"])
def test_bce_modules_reject_an_unknown_reduction(name):
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of .* got 'avg'"):
        getattr(nn, name)(reduction="avg")


def test_bce_module_equals_the_function():
    p, t = mg.tensor(PROBS), mg.tensor(TARGETS)
    np.testing.assert_array_equal(nn.BCELoss(weight=WEIGHT, reduction="sum")(p, t).data,
                                  F.binary_cross_entropy(p, t, weight=WEIGHT, reduction="sum").data)


# --------------------------------------------------------------------------- against PyTorch

torch_cases = [
    ("BCELoss", {}, PROBS, TARGETS),
    ("BCELoss", {"weight": WEIGHT}, PROBS, TARGETS),
    ("BCELoss", {"weight": WEIGHT[:, None][:3], "reduction": "sum"}, PROBS, TARGETS),
    ("BCELoss", {"reduction": "none"}, *EDGES),
    ("BCEWithLogitsLoss", {}, LOGITS, TARGETS),
    ("BCEWithLogitsLoss", {"pos_weight": POS_WEIGHT}, LOGITS, TARGETS),
    ("BCEWithLogitsLoss", {"weight": WEIGHT, "pos_weight": POS_WEIGHT, "reduction": "none"}, LOGITS, TARGETS),
    ("BCEWithLogitsLoss", {"weight": WEIGHT, "reduction": "sum"}, 40.0 * LOGITS, TARGETS),  # saturated logits
]


@pytest.mark.torch
@pytest.mark.parametrize("name,kwargs,inputs,targets", torch_cases,
                         ids=[f"{c[0]}-{'-'.join(c[1]) or 'plain'}" for c in torch_cases])
def test_bce_modules_match_pytorch(name, kwargs, inputs, targets):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")
    ours = getattr(nn, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x, t = mg.tensor(inputs, requires_grad=True), mg.tensor(targets, requires_grad=True)
    xt, tt = torch.tensor(inputs, requires_grad=True), torch.tensor(targets, requires_grad=True)
    out, want = ours(x, t), theirs(xt, tt)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-13)
    weights = RNG.standard_normal(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-13)  # +-inf where PyTorch has them
