"""Pooling's PyTorch options (ceil_mode, count_include_pad, divisor_override, return_indices)
against PyTorch, float64: output shapes, values, indices and the gradient of sum(out * P) for a
fixed random P, functional and module forms."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")
pytestmark = pytest.mark.torch
TF = torch.nn.functional


def _agree(ours_fn, theirs_fn, shape, seed=0, values=None):
    """Equal shapes, values and gradients of sum(out * P); returns both outputs."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) if values is None else values
    x, xt = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, want = ours_fn(x), theirs_fn(xt)
    values_out, values_want = (out[0], want[0]) if isinstance(want, tuple) else (out, want)
    assert values_out.shape == tuple(values_want.shape)
    np.testing.assert_allclose(values_out.data, values_want.detach().numpy(), rtol=1e-12, atol=1e-14)
    weights = rng.standard_normal(values_out.shape)
    (values_out * mg.tensor(weights)).sum().backward()
    (values_want * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    return out, want


# (id, minigrad call, torch call, input shape): each ceil_mode case has a partial last window
MAX_CASES = [
    ("1d_ceil", lambda x, m: m.max_pool1d(x, 3, 2, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_padding", lambda x, m: m.max_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_dilation", lambda x, m: m.max_pool1d(x, 2, 3, 1, 2, ceil_mode=True), (1, 2, 9)),
    ("1d_ceil_dropped_window", lambda x, m: m.max_pool1d(x, 2, 2, 1, ceil_mode=True), (1, 2, 5)),
    ("1d_unbatched_ceil", lambda x, m: m.max_pool1d(x, 4, 3, 2, ceil_mode=True), (3, 10)),
    ("2d_ceil", lambda x, m: m.max_pool2d(x, 2, ceil_mode=True), (2, 2, 5, 7)),
    ("2d_ceil_stride_padding", lambda x, m: m.max_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True), (1, 3, 6, 8)),
    ("2d_ceil_dilation", lambda x, m: m.max_pool2d(x, (2, 3), 2, (1, 0), (2, 1), ceil_mode=True), (2, 1, 7, 6)),
]


def _both(call):
    return (lambda x: call(x, F)), (lambda x: call(x, TF))


@pytest.mark.parametrize("call,shape", [c[1:] for c in MAX_CASES], ids=[c[0] for c in MAX_CASES])
def test_max_pool_ceil_mode_matches_pytorch(call, shape):
    _agree(*_both(call), shape)


@pytest.mark.parametrize("call,shape", [c[1:] for c in MAX_CASES], ids=[c[0] for c in MAX_CASES])
def test_max_pool_return_indices_match_pytorch(call, shape):
    with_indices = lambda x, m: call(x, _ReturnIndices(m))  # noqa: E731
    (values, indices), (_, want) = _agree(*_both(with_indices), shape)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert indices.shape == values.shape
    np.testing.assert_array_equal(indices.data, want.numpy())


class _ReturnIndices:
    """A functional namespace whose max_pool1d/2d are called with return_indices=True."""

    def __init__(self, module):
        self.module = module

    def max_pool1d(self, *args, **kwargs):
        return self.module.max_pool1d(*args, return_indices=True, **kwargs)

    def max_pool2d(self, *args, **kwargs):
        return self.module.max_pool2d(*args, return_indices=True, **kwargs)


@pytest.mark.parametrize("values", [
    np.zeros((1, 2, 4, 5)),  # every window tied
    np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [-np.inf, -np.inf, -np.inf]]]]),
    np.full((1, 1, 3, 3), -np.inf),  # the max is -inf: a real element is chosen, never the padding
    np.array([[[[1.0, np.nan, 2.0], [np.nan, 5.0, 0.0], [1.0, 1.0, np.nan]]]]),  # NaN wins, the last one
], ids=["zeros", "ties", "all_minus_inf", "nan"])
def test_max_pool_indices_of_ties_infinities_and_nan_match_pytorch(values):
    for args in [(2, 1, 1), (2, 2, 1, 1, True), (3, 2, 1, (1, 2), True)]:
        out, indices = F.max_pool2d(mg.tensor(values), *args, return_indices=True)
        want, want_indices = TF.max_pool2d(torch.tensor(values), *args, return_indices=True)
        np.testing.assert_array_equal(out.data, want.numpy())
        np.testing.assert_array_equal(indices.data, want_indices.numpy())


def test_tied_maxima_share_the_gradient_where_pytorch_picks_the_first():
    """The documented difference (README, Conventions): equal maxima split a window's gradient."""
    x, xt = mg.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True), torch.zeros(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    TF.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 2, 2), 0.25))
    np.testing.assert_array_equal(xt.grad.numpy(), [[[[1.0, 0.0], [0.0, 0.0]]]])


AVG_CASES = [
    ("1d_ceil", lambda x, m: m.avg_pool1d(x, 3, 2, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_padding", lambda x, m: m.avg_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_padding_exclude", lambda x, m: m.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     (2, 3, 8)),
    ("1d_ceil_dropped_window", lambda x, m: m.avg_pool1d(x, 2, 2, 1, True, False), (1, 2, 5)),
    ("1d_unbatched_ceil", lambda x, m: m.avg_pool1d(x, 4, 3, 2, True), (3, 10)),
    ("2d_ceil", lambda x, m: m.avg_pool2d(x, 2, ceil_mode=True), (2, 2, 5, 7)),
    ("2d_ceil_stride_padding", lambda x, m: m.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True), (1, 3, 6, 8)),
    ("2d_ceil_stride_padding_exclude",
     lambda x, m: m.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True, count_include_pad=False), (1, 3, 6, 8)),
    ("2d_divisor_override", lambda x, m: m.avg_pool2d(x, 3, 2, 1, divisor_override=4), (2, 2, 5, 6)),
    ("2d_ceil_divisor_override", lambda x, m: m.avg_pool2d(x, 3, 2, 1, True, False, 7), (2, 2, 6, 5)),
]


@pytest.mark.parametrize("call,shape", [c[1:] for c in AVG_CASES], ids=[c[0] for c in AVG_CASES])
def test_avg_pool_options_match_pytorch(call, shape):
    _agree(*_both(call), shape)


MODULES = [
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8)),
    ("MaxPool1d", {"kernel_size": 2, "dilation": 2, "ceil_mode": True, "return_indices": True}, (2, 3, 8)),
    ("MaxPool2d", {"kernel_size": (2, 3), "stride": (2, 1), "ceil_mode": True, "return_indices": True}, (1, 2, 5, 6)),
    ("AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
     (2, 3, 8)),
    ("AvgPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 2, 6, 7)),
    ("AvgPool2d", {"kernel_size": 2, "padding": 1, "divisor_override": 3}, (2, 2, 5, 5)),
]


@pytest.mark.parametrize("name,kwargs,shape", MODULES, ids=[f"{m[0]}-{'-'.join(m[1])}" for m in MODULES])
def test_pool_modules_take_pytorchs_options(name, kwargs, shape):
    ours, theirs = getattr(mg.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    out, want = _agree(ours, theirs, shape)
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(out[1].data, want[1].numpy())
    assert ours.state_dict() == {} and not list(ours.parameters())


@pytest.mark.parametrize("name", ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"])
def test_pool_module_defaults_and_repr_match_pytorch(name):
    assert repr(getattr(mg.nn, name)(2, padding=1)) == repr(getattr(torch.nn, name)(2, padding=1)).replace(
        "(2,)", "2").replace("(1,)", "1")  # torch's AvgPool1d shows its sizes as 1-tuples
