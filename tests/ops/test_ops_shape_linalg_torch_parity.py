"""Shape, indexing, linear-algebra and convolution ops against PyTorch, float64: values and the
gradient of sum(out * P) for a fixed random P, on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")
pytestmark = pytest.mark.torch
TF = torch.nn.functional

I = np.array  # index arrays


def _agree(mg_call, torch_call, *shapes, seed=0):
    """Both calls on the same float64 inputs: equal values and equal gradients of sum(out * P)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, size=s) for s in shapes]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = mg_call(*ours), torch_call(*theirs)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.standard_normal(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    for o, t in zip(ours, theirs):
        expected = np.zeros(o.shape) if t.grad is None else t.grad.numpy()  # torch: None for an unused input
        np.testing.assert_allclose(0 if o.grad is None else o.grad, expected, rtol=1e-10, atol=1e-12)


IDX = I([[0, 3, 3], [2, 0, 1]])
CASES = [
    ("flip", lambda a: mg.flip(a, (0, 1)), lambda a: torch.flip(a, (0, 1)), (3, 4)),
    ("roll", lambda a: mg.roll(a, (1, -2), (0, 1)), lambda a: torch.roll(a, (1, -2), (0, 1)), (3, 4)),
    ("tile", lambda a: mg.tile(a, (2, 3)), lambda a: a.repeat(2, 3), (3, 4)),
    ("repeat", lambda a: mg.repeat(a, 2, axis=1), lambda a: torch.repeat_interleave(a, 2, dim=1), (3, 4)),
    ("tril", lambda a: mg.tril(a, 1), lambda a: torch.tril(a, 1), (3, 4)),
    ("triu", lambda a: mg.triu(a, -1), lambda a: torch.triu(a, -1), (3, 4)),
    ("diagonal", lambda a: mg.diagonal(a, 1, 0, 2), lambda a: torch.diagonal(a, 1, 0, 2), (3, 2, 4)),
    ("trace", lambda a: mg.trace(a), lambda a: torch.trace(a), (3, 4)),
    ("diag", lambda a: mg.diag(a, -1), lambda a: torch.diag(a, -1), (3,)),
    ("unflatten", lambda a: mg.unflatten(a, 1, (2, 2)), lambda a: a.unflatten(1, (2, 2)), (3, 4)),
    ("gather", lambda a: mg.gather(a, 1, IDX), lambda a: torch.gather(a, 1, torch.tensor(IDX)), (3, 4)),
    ("scatter_add", lambda a, s: mg.scatter_add(a, 1, IDX, s),
     lambda a, s: torch.scatter_add(a, 1, torch.tensor(IDX), s), (3, 4), (2, 3)),
    ("scatter", lambda a, s: mg.scatter(a, 0, I([[0, 2, 1, 1]]), s),
     lambda a, s: torch.scatter(a, 0, torch.tensor(I([[0, 2, 1, 1]])), s), (3, 4), (1, 4)),
    ("masked_select", lambda a: mg.masked_select(a, I([True, False, True, True])),
     lambda a: torch.masked_select(a, torch.tensor([True, False, True, True])), (3, 4)),
    ("meshgrid_ij", lambda a, b: mg.meshgrid(a, b, indexing="ij")[1],
     lambda a, b: torch.meshgrid(a, b, indexing="ij")[1], (3,), (2,)),
    ("pad_reflect", lambda a: mg.pad(a, ((0, 0), (0, 0), (2, 1)), mode="reflect"),
     lambda a: torch.nn.functional.pad(a, (2, 1), mode="reflect"), (2, 3, 4)),
    ("pad_replicate", lambda a: mg.pad(a, ((0, 0), (0, 0), (3, 1)), mode="replicate"),
     lambda a: torch.nn.functional.pad(a, (3, 1), mode="replicate"), (2, 3, 4)),
    ("pad_circular", lambda a: mg.pad(a, ((0, 0), (0, 0), (1, 2)), mode="circular"),
     lambda a: torch.nn.functional.pad(a, (1, 2), mode="circular"), (2, 3, 4)),
    ("einsum", lambda a, b: mg.einsum("bij,bjk->bik", a, b), lambda a, b: torch.einsum("bij,bjk->bik", a, b),
     (2, 3, 4), (2, 4, 2)),
    ("einsum_diagonal", lambda a: mg.einsum("ii->i", a), lambda a: torch.einsum("ii->i", a), (3, 3)),
    ("einsum_ellipsis", lambda a, b: mg.einsum("...i,i", a, b), lambda a, b: torch.einsum("...i,i", a, b),
     (2, 3, 4), (4,)),
    ("tensordot", lambda a, b: mg.tensordot(a, b, 2), lambda a, b: torch.tensordot(a, b, 2), (2, 3, 4), (3, 4, 2)),
    ("outer", mg.outer, torch.outer, (3,), (4,)),
    ("inner", mg.inner, torch.inner, (2, 3), (4, 3)),
    ("kron", mg.kron, torch.kron, (2, 3), (3, 2)),
    ("norm", lambda a: mg.linalg.norm(a, axis=1), lambda a: torch.linalg.norm(a, dim=1), (3, 4)),
    ("norm_fro", lambda a: mg.linalg.norm(a, "fro"), lambda a: torch.linalg.norm(a, "fro"), (3, 4)),
    ("norm_inf", lambda a: mg.linalg.norm(a, np.inf), lambda a: torch.linalg.norm(a, np.inf), (3, 4)),
    ("norm_1", lambda a: mg.linalg.norm(a, 1), lambda a: torch.linalg.norm(a, 1), (3, 4)),
    ("norm_p3", lambda a: mg.linalg.norm(a, 3, axis=0), lambda a: torch.linalg.norm(a, 3, dim=0), (3, 4)),
    ("norm_2", lambda a: mg.linalg.norm(a, 2), lambda a: torch.linalg.matrix_norm(a, 2), (3, 4)),
    ("norm_-2_axes_keepdims", lambda a: mg.linalg.norm(a, -2, axis=(2, 0), keepdims=True),
     lambda a: torch.linalg.matrix_norm(a, -2, dim=(2, 0), keepdim=True), (4, 2, 3)),
    ("norm_nuc_batched", lambda a: mg.linalg.norm(a, "nuc", axis=(1, 2)),
     lambda a: torch.linalg.matrix_norm(a, "nuc", dim=(1, 2)), (2, 3, 5)),
    ("svdvals", mg.linalg.svdvals, torch.linalg.svdvals, (2, 4, 3)),
    ("svdvals_wide", mg.linalg.svdvals, torch.linalg.svdvals, (3, 5)),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
     lambda x, w, b: TF.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2), (2, 4, 9), (6, 2, 3), (6,)),
    ("conv1d_same", lambda x, w: F.conv1d(x, w, padding="same"), lambda x, w: TF.conv1d(x, w, padding="same"),
     (3, 8), (2, 3, 4)),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=3),
     lambda x, w, b: TF.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=3),
     (2, 3, 7, 6), (6, 1, 3, 2), (6,)),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, 2), lambda x: TF.max_pool1d(x, 3, 2, 1, 2), (2, 3, 9)),
    ("max_pool2d", lambda x: F.max_pool2d(x, (3, 2), padding=(1, 1)), lambda x: TF.max_pool2d(x, (3, 2), padding=(1, 1)),
     (2, 3, 7, 6)),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 1, 1, count_include_pad=False),
     lambda x: TF.avg_pool1d(x, 3, 1, 1, count_include_pad=False), (2, 3, 7)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, (1, 2), 1), lambda x: TF.avg_pool2d(x, 2, (1, 2), 1), (2, 3, 5, 6)),
]


@pytest.mark.parametrize("mg_call,torch_call,shapes", [(c[1], c[2], c[3:]) for c in CASES], ids=[c[0] for c in CASES])
def test_values_and_gradients_match_pytorch(mg_call, torch_call, shapes):
    _agree(mg_call, torch_call, *shapes)


def test_one_hot_and_nonzero_match_pytorch():
    idx = I([[0, 3], [2, 2]])
    np.testing.assert_array_equal(mg.one_hot(idx, 5).data, torch.nn.functional.one_hot(torch.tensor(idx), 5).numpy())
    assert mg.one_hot(idx).shape == (2, 2, 4)
    a = I([[0.0, 1.5], [2.0, 0.0]])
    rows, cols = mg.nonzero(mg.tensor(a))
    np.testing.assert_array_equal(np.stack([rows.data, cols.data], 1), torch.nonzero(torch.tensor(a)).numpy())


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 9)),
    ("Conv2d", (3, 4, (3, 2)), {"dilation": (1, 2), "bias": False}, (2, 3, 7, 6)),
])
def test_conv_modules_match_pytorch_through_the_state_dict(name, args, kwargs, shape):
    ours, theirs = getattr(mg.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs).double()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_allclose(ours(mg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_conv_init_bounds_are_pytorchs():
    layer = mg.nn.Conv2d(4, 8, 3, groups=2)
    bound = 1 / np.sqrt(2 * 9)  # fan_in = in_channels / groups * prod(kernel_size)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.8 * bound
    assert np.abs(layer.bias.data).max() <= bound


@pytest.mark.parametrize("module,kwargs,shape", [
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 9)),
    ("MaxPool2d", {"kernel_size": 2}, (2, 3, 6, 5)),
    ("AvgPool1d", {"kernel_size": 2, "count_include_pad": False, "padding": 1}, (2, 3, 7)),
    ("AvgPool2d", {"kernel_size": (2, 3), "stride": 1}, (2, 3, 6, 5)),
])
def test_pool_modules_match_pytorch(module, kwargs, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_allclose(getattr(mg.nn, module)(**kwargs)(mg.tensor(x)).data,
                               getattr(torch.nn, module)(**kwargs)(torch.tensor(x)).numpy(), rtol=1e-12)


W = np.array([0.5, 1.0, 2.0, 1.5])
PROBS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
LOSSES = [
    ("ce_weight", lambda x: F.cross_entropy(x, I([0, 3, 3]), weight=W),
     lambda x: TF.cross_entropy(x, torch.tensor([0, 3, 3]), weight=torch.tensor(W))),
    ("ce_weight_ignore_smoothing", lambda x: F.cross_entropy(x, I([0, 3, 1]), weight=W, ignore_index=3, label_smoothing=0.2),
     lambda x: TF.cross_entropy(x, torch.tensor([0, 3, 1]), weight=torch.tensor(W), ignore_index=3, label_smoothing=0.2)),
    ("ce_weight_none", lambda x: F.cross_entropy(x, I([2, 1, 0]), weight=W, reduction="none"),
     lambda x: TF.cross_entropy(x, torch.tensor([2, 1, 0]), weight=torch.tensor(W), reduction="none")),
    ("ce_probabilities", lambda x: F.cross_entropy(x, PROBS), lambda x: TF.cross_entropy(x, torch.tensor(PROBS))),
    ("ce_probabilities_weight_smoothing", lambda x: F.cross_entropy(x, PROBS, weight=W, label_smoothing=0.1, reduction="sum"),
     lambda x: TF.cross_entropy(x, torch.tensor(PROBS), weight=torch.tensor(W), label_smoothing=0.1, reduction="sum")),
    ("bce", lambda x: F.binary_cross_entropy(mg.sigmoid(x), mg.tensor(PROBS)),
     lambda x: TF.binary_cross_entropy(torch.sigmoid(x), torch.tensor(PROBS))),
    ("bce_weight_none", lambda x: F.binary_cross_entropy(mg.sigmoid(x), mg.tensor(PROBS), weight=W, reduction="none"),
     lambda x: TF.binary_cross_entropy(torch.sigmoid(x), torch.tensor(PROBS), weight=torch.tensor(W), reduction="none")),
    ("bce_logits", lambda x: F.binary_cross_entropy_with_logits(x * 10, mg.tensor(PROBS), pos_weight=W),
     lambda x: TF.binary_cross_entropy_with_logits(x * 10, torch.tensor(PROBS), pos_weight=torch.tensor(W))),
    ("bce_logits_weight_sum", lambda x: F.binary_cross_entropy_with_logits(x, mg.tensor(PROBS), weight=W, reduction="sum"),
     lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(PROBS), weight=torch.tensor(W), reduction="sum")),
]


@pytest.mark.parametrize("mg_call,torch_call", [c[1:] for c in LOSSES], ids=[c[0] for c in LOSSES])
def test_losses_match_pytorch(mg_call, torch_call):
    _agree(mg_call, torch_call, (3, 4))


def test_binary_cross_entropy_clamps_log_at_minus_100_as_pytorch():
    p, t = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(F.binary_cross_entropy(mg.tensor(p), mg.tensor(t), reduction="none").data,
                               TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none").numpy())
