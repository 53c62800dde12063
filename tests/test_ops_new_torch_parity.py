"""The elementwise math, activation, scan and sorting ops against PyTorch, float64: values and
the gradient of sum(out * P) for a fixed random P, on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")
pytestmark = pytest.mark.torch

SHAPE = (3, 4)


def _inputs(domains, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(lo, hi, size=SHAPE) for lo, hi in domains]


# (id, minigrad call, torch call, one (low, high) per input)
WIDE, POSITIVE, UNIT = [(-3, 3)], [(0.5, 3)], [(-0.9, 0.9)]
PAIR = [(-3, 3), (0.3, 2)]
ELEMENTWISE = [
    ("sin", mg.sin, torch.sin, WIDE), ("cos", mg.cos, torch.cos, WIDE), ("tan", mg.tan, torch.tan, [(-1.2, 1.2)]),
    ("arcsin", mg.arcsin, torch.asin, UNIT), ("arccos", mg.arccos, torch.acos, UNIT),
    ("arctan", mg.arctan, torch.atan, WIDE), ("sinh", mg.sinh, torch.sinh, WIDE), ("cosh", mg.cosh, torch.cosh, WIDE),
    ("arcsinh", mg.arcsinh, torch.asinh, WIDE), ("arccosh", mg.arccosh, torch.acosh, [(1.1, 3)]),
    ("arctanh", mg.arctanh, torch.atanh, UNIT), ("log2", mg.log2, torch.log2, POSITIVE),
    ("log10", mg.log10, torch.log10, POSITIVE), ("log1p", mg.log1p, torch.log1p, [(-0.5, 3)]),
    ("exp2", mg.exp2, torch.exp2, WIDE), ("expm1", mg.expm1, torch.expm1, WIDE),
    ("square", mg.square, torch.square, WIDE), ("reciprocal", mg.reciprocal, torch.reciprocal, POSITIVE),
    ("rsqrt", mg.rsqrt, torch.rsqrt, POSITIVE), ("sign", mg.sign, torch.sign, WIDE),
    ("floor", mg.floor, torch.floor, WIDE), ("ceil", mg.ceil, torch.ceil, WIDE), ("trunc", mg.trunc, torch.trunc, WIDE),
    ("round", mg.round, torch.round, WIDE),
    ("round_decimals", lambda a: mg.round(a, 1), lambda a: torch.round(a, decimals=1), WIDE),
    ("arctan2", mg.arctan2, torch.atan2, [(-3, 3), (-3, 3)]), ("hypot", mg.hypot, torch.hypot, [(-3, 3), (-3, 3)]),
    ("logaddexp", mg.logaddexp, torch.logaddexp, [(-3, 3), (-3, 3)]),
    ("copysign", mg.copysign, torch.copysign, [(-3, 3), (-3, 3)]),
    ("fmod", mg.fmod, torch.fmod, PAIR), ("fmod_negative", lambda a, b: mg.fmod(a, -b), lambda a, b: torch.fmod(a, -b),
                                          PAIR),
    ("remainder", lambda a, b: a % b, lambda a, b: a % b, PAIR),
    ("remainder_negative", lambda a, b: a % -b, lambda a, b: torch.remainder(a, -b), PAIR),
]

TF = torch.nn.functional
ACT = [(-5, 5)]
ACTIVATIONS = [
    ("leaky_relu", mg.functional.leaky_relu, TF.leaky_relu, ACT),
    ("leaky_relu_slope", lambda x: mg.functional.leaky_relu(x, 0.3), lambda x: TF.leaky_relu(x, 0.3), ACT),
    ("elu", mg.functional.elu, TF.elu, ACT),
    ("elu_alpha", lambda x: mg.functional.elu(x, 0.5), lambda x: TF.elu(x, 0.5), ACT),
    ("selu", mg.functional.selu, TF.selu, ACT),
    ("celu", lambda x: mg.functional.celu(x, 2.0), lambda x: TF.celu(x, 2.0), ACT),
    ("hardtanh", mg.functional.hardtanh, TF.hardtanh, ACT),
    ("hardtanh_bounds", lambda x: mg.functional.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0), ACT),
    ("relu6", mg.functional.relu6, TF.relu6, [(-3, 9)]),
    ("hardsigmoid", mg.functional.hardsigmoid, TF.hardsigmoid, ACT),
    ("hardswish", mg.functional.hardswish, TF.hardswish, ACT),
    ("softplus", mg.functional.softplus, TF.softplus, ACT),
    ("softplus_beta", lambda x: mg.functional.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), ACT),
    ("softsign", mg.functional.softsign, TF.softsign, ACT),
    ("silu", mg.functional.silu, TF.silu, ACT),
    ("mish", mg.functional.mish, TF.mish, ACT),
    ("logsigmoid", mg.functional.logsigmoid, TF.logsigmoid, [(-40, 40)]),
    ("softmin", lambda x: mg.functional.softmin(x, axis=0), lambda x: TF.softmin(x, dim=0), ACT),
]

CASES = ELEMENTWISE + ACTIVATIONS


# PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, also for float64
GRAD_RTOL = {"hardsigmoid": 1e-6}


def _compare(ours, theirs, domains, seed=0, grad_rtol=1e-9):
    arrays = _inputs(domains, seed)
    mine = [mg.tensor(a, requires_grad=True) for a in arrays]
    reference = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*reference)
    out = out if isinstance(out, (tuple, list)) else (out,)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    rng = np.random.default_rng(seed + 1)
    weights = []
    for o, e in zip(out, expected):
        np.testing.assert_allclose(o.data, e.detach().numpy(), rtol=1e-10, atol=1e-12)
        weights.append(rng.standard_normal(o.shape) if o.dtype.kind == "f" else None)
    live = [(o, e, w) for o, e, w in zip(out, expected, weights) if w is not None]
    sum((o * mg.tensor(w)).sum() for o, _, w in live).backward()
    sum((e * torch.tensor(w)).sum() for _, e, w in live).backward()
    for m, r in zip(mine, reference):
        want = np.zeros(m.shape) if r.grad is None else r.grad.numpy()
        got = np.zeros(m.shape) if m.grad is None else m.grad
        np.testing.assert_allclose(got, want, rtol=grad_rtol, atol=1e-12)


@pytest.mark.parametrize("name,ours,theirs,domains", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_match_torch(name, ours, theirs, domains):
    for seed in (0, 1):
        _compare(ours, theirs, domains, seed, GRAD_RTOL.get(name, 1e-9))


def test_percent_carries_the_gradient():
    a = mg.tensor([7.5, -7.5, 3.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([2.0, 2.0, -2.0], dtype=mg.float64, requires_grad=True)
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad, -np.floor(np.array([7.5, -7.5, 3.0]) / [2.0, 2.0, -2.0]))


MODULES = [("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("CELU", (1.5,)), ("SELU", ()), ("Hardtanh", (-2.0, 0.5)),
           ("ReLU6", ()), ("Hardsigmoid", ()), ("Hardswish", ()), ("Softplus", (2.0, 1.0)), ("Softsign", ()),
           ("SiLU", ()), ("Mish", ()), ("LogSigmoid", ()), ("Softmin", (0,))]


@pytest.mark.parametrize("name,args", MODULES, ids=[m[0] for m in MODULES])
def test_activation_modules_match_torch_modules(name, args):
    x = np.random.default_rng(3).uniform(-5, 5, size=SHAPE).astype(np.float32)
    ours = getattr(mg.nn, name)(*args)(mg.tensor(x))
    theirs = getattr(torch.nn, name)(*args)(torch.tensor(x))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["leaky_relu", "hardtanh", "hardswish", "softplus", "silu", "celu"])
def test_activation_gradients_stay_float32(name):
    x = mg.tensor(np.linspace(-4, 4, 9), dtype=mg.float32, requires_grad=True)
    getattr(mg.functional, name)(x).sum().backward()
    assert x.grad.dtype == np.float32
