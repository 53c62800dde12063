"""Parity with PyTorch: ``scaled_dot_product_attention`` and ``MultiHeadAttention`` against
``torch.nn.functional.scaled_dot_product_attention`` and ``torch.nn.MultiheadAttention``
(weights copied over; torch packs q, k, v in ``in_proj_weight``, split here)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.models.attention import MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")

pytestmark = pytest.mark.torch


@pytest.fixture
def rng():
    mg.manual_seed(0)
    return np.random.default_rng(0)


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding"])
def test_sdpa_matches_torch(rng, mask_kind):
    B, H, T, d = 2, 3, 5, 4
    q, k, v = (rng.standard_normal((B, H, T, d)) for _ in range(3))
    mask = {"none": None, "causal": causal_mask(T), "padding": padding_mask(np.array([5, 3]))}[mask_kind]
    mq, mk, mv = (mg.tensor(a, requires_grad=True) for a in (q, k, v))
    out, _ = scaled_dot_product_attention(mq, mk, mv, mask)
    tq, tk, tv = _t(q), _t(k), _t(v)
    ref = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if mask is None else torch.tensor(mask))  # torch: True = take part, as ours
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
    proj = rng.standard_normal(out.shape)
    (out * proj).sum().backward()
    (ref * torch.tensor(proj)).sum().backward()
    for ours, theirs in ((mq, tq), (mk, tk), (mv, tv)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-11)


def _copy_mha(ours: MultiHeadAttention, theirs) -> None:
    E = ours.embed_dim
    with torch.no_grad():
        if theirs._qkv_same_embed_dim:
            w = theirs.in_proj_weight.numpy()
            ours.q_proj.weight.data[...] = w[:E]
            ours.k_proj.weight.data[...] = w[E:2 * E]
            ours.v_proj.weight.data[...] = w[2 * E:]
        else:
            ours.q_proj.weight.data[...] = theirs.q_proj_weight.numpy()
            ours.k_proj.weight.data[...] = theirs.k_proj_weight.numpy()
            ours.v_proj.weight.data[...] = theirs.v_proj_weight.numpy()
        theirs.in_proj_bias.normal_()  # torch starts these at zero: make the test see them
        theirs.out_proj.bias.normal_()
        b = theirs.in_proj_bias.numpy()
        ours.q_proj.bias.data[...] = b[:E]
        ours.k_proj.bias.data[...] = b[E:2 * E]
        ours.v_proj.bias.data[...] = b[2 * E:]
        ours.out_proj.weight.data[...] = theirs.out_proj.weight.numpy()
        ours.out_proj.bias.data[...] = theirs.out_proj.bias.numpy()


@pytest.mark.parametrize("kind", ["self", "causal", "cross_padding"])
def test_multihead_attention_matches_torch(rng, kind):
    E, H, B, Tq, Tk = 8, 2, 2, 4, 5
    kdim = vdim = None if kind != "cross_padding" else 6
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True, kdim=kdim, vdim=vdim).double()
    ours = MultiHeadAttention(E, H, kdim=kdim, vdim=vdim).double()
    _copy_mha(ours, theirs)
    query = rng.standard_normal((B, Tq, E))
    if kind == "cross_padding":
        key = value = rng.standard_normal((B, Tk, 6))
        lengths = np.array([5, 2])
        mask = padding_mask(lengths)
        torch_kwargs = {"key_padding_mask": torch.tensor(~mask[:, 0, 0])}  # torch: True = ignore
    else:
        key = value = query
        mask = causal_mask(Tq) if kind == "causal" else None
        torch_kwargs = {} if mask is None else {"attn_mask": torch.tensor(~mask)}  # torch: True = not allowed
    tq, tk, tv = _t(query), _t(key), _t(value)
    ref, ref_weights = theirs(tq, tk, tv, need_weights=True, average_attn_weights=False, **torch_kwargs)
    mq, mk, mv = (mg.tensor(a, requires_grad=True) for a in (query, key, value))
    out, weights = ours(mq, mk, mv, mask)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-11)
    np.testing.assert_allclose(weights.data, ref_weights.detach().numpy(), atol=1e-12)
    proj = rng.standard_normal(out.shape)
    (out * proj).sum().backward()
    (ref * torch.tensor(proj)).sum().backward()
    np.testing.assert_allclose(mq.grad, tq.grad.numpy(), atol=1e-11)
    np.testing.assert_allclose(ours.out_proj.weight.grad, theirs.out_proj.weight.grad.numpy(), atol=1e-10)
    if kind == "cross_padding":
        np.testing.assert_allclose(mk.grad, tk.grad.numpy(), atol=1e-11)
        np.testing.assert_allclose(ours.k_proj.weight.grad, theirs.k_proj_weight.grad.numpy(), atol=1e-10)
    else:
        E3 = theirs.in_proj_weight.grad.numpy()
        np.testing.assert_allclose(ours.q_proj.weight.grad, E3[:E], atol=1e-10)
        np.testing.assert_allclose(ours.v_proj.weight.grad, E3[2 * E:], atol=1e-10)
