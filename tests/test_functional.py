"""minigrad.functional: values against definitions, edge cases, and PyTorch parity when installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

rng = np.random.default_rng(0)


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def test_cross_entropy_matches_its_definition_with_classes_last():
    logits = rng.standard_normal((2, 3, 5))
    target = rng.integers(0, 5, (2, 3))
    expected = -np.take_along_axis(_log_softmax(logits), target[..., None], -1)[..., 0]
    out = F.cross_entropy(mg.tensor(logits), target, reduction="none")
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    assert F.cross_entropy(mg.tensor(logits), mg.tensor(target)).item() == pytest.approx(expected.mean())
    assert F.cross_entropy(mg.tensor(logits), target, reduction="sum").item() == pytest.approx(expected.sum())


def test_cross_entropy_ignore_index_and_label_smoothing():
    logits = rng.standard_normal((4, 6))
    target = np.array([1, 0, 5, 0])
    logp = _log_softmax(logits)
    eps = 0.2
    per_row = -(1 - eps) * logp[np.arange(4), target] - eps / 6 * logp.sum(-1)
    keep = target != 0
    got = F.cross_entropy(mg.tensor(logits), target, ignore_index=0, label_smoothing=eps)
    assert got.item() == pytest.approx(per_row[keep].mean())


def test_cross_entropy_all_ignored_gives_zero_loss_and_zero_grad():
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    loss = F.cross_entropy(x, np.zeros(3, dtype=np.int64), ignore_index=0)
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(x.grad, 0.0)


def test_cross_entropy_is_stable_and_reports_bad_targets():
    x = mg.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, [0])
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad))
    with pytest.raises(IndexError, match="3"):
        F.cross_entropy(mg.tensor(np.zeros((2, 3))), [0, 3])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        F.cross_entropy(mg.tensor(np.zeros((2, 3))), [0, 1, 2])
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(mg.tensor(np.zeros((2, 3))), np.zeros(2))


def test_nll_of_log_softmax_equals_cross_entropy():
    logits = mg.tensor(rng.standard_normal((5, 4)))
    target = rng.integers(0, 4, 5)
    a = F.nll_loss(F.log_softmax(logits), target).item()
    b = F.cross_entropy(logits, target).item()
    assert a == pytest.approx(b, rel=1e-6)


def test_mse_loss():
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    assert F.mse_loss(mg.tensor(a), mg.tensor(b)).item() == pytest.approx(np.mean((a - b) ** 2))


def test_embedding_accumulates_repeats_and_skips_padding_row():
    w = mg.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    idx = np.array([[1, 1, 0], [4, 0, 1]])
    out = F.embedding(idx, w, padding_idx=0)
    np.testing.assert_array_equal(out.data, w.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad[:, 0], [0, 3, 0, 0, 1])
    with pytest.raises(IndexError, match="index 5 is out of range for 5"):
        F.embedding(np.array([5]), w)


def test_layer_norm_normalises_the_trailing_axes():
    x = rng.standard_normal((3, 4, 5)) * 3 + 2
    y = F.layer_norm(mg.tensor(x), (4, 5)).data
    np.testing.assert_allclose(y.reshape(3, -1).mean(-1), 0, atol=1e-9)
    np.testing.assert_allclose(y.reshape(3, -1).var(-1), 1, rtol=1e-4)


def test_dropout_is_inverted_seeded_and_identity_in_eval():
    x = mg.ones(10_000)
    mg.manual_seed(3)
    a = F.dropout(x, 0.25).data
    mg.manual_seed(3)
    b = F.dropout(x, 0.25).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.unique(a), [0.0, 4 / 3], rtol=1e-6)
    assert abs((a == 0).mean() - 0.25) < 0.03
    assert F.dropout(x, 0.25, training=False) is x
    with pytest.raises(ValueError, match="1.5"):
        F.dropout(x, 1.5)


def test_linear_matches_matmul():
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b)).data, x @ w.T + b, rtol=1e-12)


@pytest.mark.torch
def test_functional_parity_with_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")
    tf = torch.nn.functional
    logits = rng.standard_normal((6, 7))
    target = rng.integers(0, 7, 6)
    target[1] = 2
    for kw in ({}, {"ignore_index": 2}, {"label_smoothing": 0.1}, {"ignore_index": 2, "label_smoothing": 0.3}):
        x = mg.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(x, target, **kw)
        loss.backward()
        tx = torch.tensor(logits, requires_grad=True)
        tkw = dict(kw)
        tkw.setdefault("ignore_index", -100)
        tloss = tf.cross_entropy(tx, torch.tensor(target), **tkw)
        tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-9)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-12)
    # layer norm with affine parameters
    x = rng.standard_normal((4, 6))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    mx, mw, mb = (mg.tensor(v, requires_grad=True) for v in (x, w, b))
    g = rng.standard_normal((4, 6))
    tf.layer_norm(tx, (6,), tw, tb).backward(torch.tensor(g))
    F.layer_norm(mx, 6, mw, mb).backward(g)
    for m, t in ((mx, tx), (mw, tw), (mb, tb)):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), atol=1e-10)
    # gelu both forms
    v = rng.standard_normal(50) * 3
    for approx in ("none", "tanh"):
        np.testing.assert_allclose(mg.gelu(mg.tensor(v), approximate=approx).data,
                                   tf.gelu(torch.tensor(v), approximate=approx).numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("affine", ["weight", "bias"])
def test_layer_norm_with_only_one_affine_parameter_gets_its_gradient(affine):
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    p = mg.tensor(rng.standard_normal(4), requires_grad=True)
    kw = {affine: p}
    assert mg.gradcheck(lambda a, q: F.layer_norm(a, 4, **{affine: q}), [x, p])
    F.layer_norm(x, 4, **kw).sum().backward()
    assert p.grad is not None
