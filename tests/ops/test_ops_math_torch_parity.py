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
    ("lerp", mg.lerp, torch.lerp, [(-3, 3), (-3, 3), (-1, 2)]),
    ("lerp_number", lambda a, b: mg.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [(-3, 3), (-3, 3)]),
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

SCANS = [
    ("prod", lambda a: mg.prod(a, axis=1), lambda a: torch.prod(a, 1), WIDE),
    ("prod_all", mg.prod, torch.prod, [(0.5, 1.5)]),
    ("prod_axes", lambda a: mg.prod(a, axis=(0, 1), keepdims=True), lambda a: a.prod(1, True).prod(0, True), WIDE),
    ("cumsum", lambda a: mg.cumsum(a, axis=0), lambda a: torch.cumsum(a, 0), WIDE),
    ("cumsum_flat", mg.cumsum, lambda a: torch.cumsum(a.reshape(-1), 0), WIDE),
    ("cumprod", lambda a: mg.cumprod(a, axis=1), lambda a: torch.cumprod(a, 1), WIDE),
    ("logcumsumexp", lambda a: mg.logcumsumexp(a, 1), lambda a: torch.logcumsumexp(a, 1), [(-30, 30)]),
    ("cummax", lambda a: mg.cummax(a, 1), lambda a: tuple(torch.cummax(a, 1)), WIDE),
    ("cummin", lambda a: mg.cummin(a, 0), lambda a: tuple(torch.cummin(a, 0)), WIDE),
    ("sort", mg.sort, lambda a: torch.sort(a).values, WIDE),
    ("sort_descending", lambda a: mg.sort(a, axis=0, descending=True), lambda a: torch.sort(a, 0, True).values, WIDE),
    ("argsort", lambda a: mg.argsort(a, axis=0), lambda a: torch.argsort(a, 0), WIDE),
    ("topk", lambda a: mg.topk(a, 2), lambda a: tuple(torch.topk(a, 2)), WIDE),
    ("topk_smallest", lambda a: mg.topk(a, 3, axis=0, largest=False), lambda a: tuple(torch.topk(a, 3, 0, False)),
     WIDE),
    ("softmax_axes", lambda a: mg.softmax(a, axis=(0, 1)), lambda a: torch.softmax(a.reshape(-1), 0).reshape(a.shape),
     WIDE),
    ("log_softmax_axes", lambda a: mg.log_softmax(a, axis=(0, 1)),
     lambda a: torch.log_softmax(a.reshape(-1), 0).reshape(a.shape), WIDE),
]

CASES = ELEMENTWISE + ACTIVATIONS + SCANS


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
    if not live:  # integer results only (argsort): no gradient to compare
        assert not any(o.requires_grad for o in out)
        return
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


def _with_zeros():
    x = np.random.default_rng(5).uniform(-2, 2, size=(3, 4))
    x[0, 1] = x[1, 1] = x[1, 3] = x[2, 0] = 0.0  # rows with no, one and two zeros
    x[0] = [1.5, -0.5, 2.0, 0.75]
    return x


@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_prod_and_cumprod_gradients_at_zeros_match_torch_to_second_order(op):
    x = _with_zeros()
    mine = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    ours = getattr(mg, op)(mine, axis=1)
    ref = getattr(torch, op)(theirs, 1)
    np.testing.assert_allclose(ours.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(6).standard_normal(ref.shape)
    (g,) = mg.autograd.grad((ours * mg.tensor(w)).sum(), [mine], create_graph=True)
    (h,) = torch.autograd.grad((ref * torch.tensor(w)).sum(), [theirs], create_graph=True)
    np.testing.assert_allclose(g.data, h.detach().numpy(), rtol=1e-12, atol=1e-12)
    u = np.random.default_rng(7).standard_normal(x.shape)
    (gg,) = mg.autograd.grad((g * mg.tensor(u)).sum(), [mine])
    (hh,) = torch.autograd.grad((h * torch.tensor(u)).sum(), [theirs])
    np.testing.assert_allclose(gg.data, hh.numpy(), rtol=1e-10, atol=1e-12)


def test_sum_with_dtype_accumulates_in_it_as_numpy():
    x = mg.tensor(np.full(3, 0.1, dtype=np.float32), requires_grad=True)
    total = x.sum(dtype=mg.float64)
    assert total.dtype == np.float64 and total.item() == np.sum(x.data, dtype=np.float64)
    total.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]
    assert np.sum(x, dtype=np.float64).dtype == np.float64
    assert mg.sum(mg.tensor([1, 2, 3]), dtype=mg.float32).dtype == np.float32


def test_topk_checks_k():
    with pytest.raises(ValueError, match=r"topk: k must be an int in \[0, 4\] \(the size of axis 1\), got 5"):
        mg.topk(mg.zeros((2, 4)), 5)


KINKS = [("leaky_relu", [0.0]), ("elu", [0.0]), ("celu", [0.0]), ("selu", [0.0]), ("hardtanh", [-1.0, 1.0]),
         ("relu6", [0.0, 6.0]), ("hardsigmoid", [-3.0, 3.0]), ("hardswish", [-3.0, 3.0]), ("softsign", [0.0])]


@pytest.mark.parametrize("name,points", KINKS, ids=[k[0] for k in KINKS])
def test_the_derivative_at_a_kink_is_pytorchs(name, points):
    mine = mg.tensor(points, dtype=mg.float64, requires_grad=True)
    theirs = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    getattr(mg.functional, name)(mine).sum().backward()
    getattr(TF, name)(theirs).sum().backward()
    np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-12)
