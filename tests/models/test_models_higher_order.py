"""Second order through every model: Hessian-vector products of the training loss with respect to
all parameters, by reverse over reverse (``autograd.grad(create_graph=True)``) and forward over
reverse (``minigrad.func.hvp``), against central differences of the gradient and, with PyTorch
installed, against PyTorch's double backward on the same weights (benchmarks/torch_reference.py).

The fused ops the models call (attention, recurrences, the Bahdanau decoder) are differentiated
a second time through their ``reference`` compositions, so this holds those references to the
fused first-order gradients inside whole models."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import func, models
from minigrad import functional as F

V = 7
SIZES = {
    "rnn": {"embed_dim": 3, "hidden_dim": 4},
    "rnn-attn": {"embed_dim": 3, "hidden_dim": 4},
    "rnn-luong": {"embed_dim": 3, "hidden_dim": 4},
    "transformer": {"d_model": 4, "num_heads": 2, "ff_dim": 6, "num_layers": 1, "activation": "gelu"},
    "encoder": {"d_model": 4, "num_heads": 2, "ff_dim": 6, "num_layers": 1, "activation": "gelu"},
    "lm": {"d_model": 4, "num_heads": 2, "ff_dim": 6, "num_layers": 1, "block_size": 8},
}
LSTM_CASES = [("rnn-attn", {"cell": "lstm"}), ("rnn", {"cell": "lstm", "bidirectional": True})]
CASES = [(name, {}) for name in SIZES] + LSTM_CASES


def _batch():
    rng = np.random.default_rng(0)
    src = rng.integers(3, V, size=(2, 4))
    src[1, 2:] = 0  # padding: masks and lengths take part
    tgt = rng.integers(3, V, size=(2, 4))
    tgt[:, 0] = 1
    return src, tgt


def _model(name: str, hyper: dict):
    mg.manual_seed(0)
    model = models.build(name, V, **SIZES[name], **hyper) if name == "lm" else \
        models.build(name, V, V, **SIZES[name], **hyper)
    return model.double()


def _loss_fn(model, name: str):
    """The training loss as a function of the model's parameters (in named_parameters order)."""
    src, tgt = _batch()
    names = [n for n, _ in model.named_parameters()]

    def loss(*params):
        replaced = dict(zip(names, params))
        if name == "lm":
            logits = func.functional_call(model, replaced, (tgt,))  # (B, T, V): next-token scores
            return F.cross_entropy(logits[:, :-1], tgt[:, 1:])
        logits = func.functional_call(model, replaced, (src, tgt))
        target = src if name == "encoder" else np.concatenate([tgt[:, 1:], np.zeros((2, 1), int)], axis=1)
        return F.cross_entropy(logits, target, ignore_index=0)

    return loss


def _params(model):
    return [mg.tensor(p.data.copy(), requires_grad=True) for p in model.parameters()]


def _gradient(loss, arrays) -> list[np.ndarray]:
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    return [g.data for g in mg.autograd.grad(loss(*tensors), tensors, allow_unused=True)]


def _central_hvp(loss, params, vs, eps=1e-6) -> list[np.ndarray]:
    plus = _gradient(loss, [p.data + eps * v for p, v in zip(params, vs)])
    minus = _gradient(loss, [p.data - eps * v for p, v in zip(params, vs)])
    return [(a - b) / (2 * eps) for a, b in zip(plus, minus)]


def _directions(params):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(p.shape) for p in params]


def _reverse_over_reverse(loss, params, vs) -> list[np.ndarray]:
    grads = mg.autograd.grad(loss(*params), params, create_graph=True)
    inner = sum((g * v).sum() for g, v in zip(grads, vs))
    return [h.data for h in mg.autograd.grad(inner, params, allow_unused=True)]


def _assert_close(got, want, names, rtol, atol):
    for g, w, name in zip(got, want, names):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("name, hyper", CASES, ids=[n + "".join(f"-{v}" for v in h.values()) for n, h in CASES])
def test_hessian_vector_products_match_central_differences(name, hyper):
    model = _model(name, hyper)
    names = [n for n, _ in model.named_parameters()]
    loss, params = _loss_fn(model, name), _params(model)
    vs = _directions(params)
    want = _central_hvp(loss, params, vs)
    assert max(np.abs(w).max() for w in want) > 1e-3  # the products are not vacuously zero
    _assert_close(_reverse_over_reverse(loss, params, vs), want, names, rtol=1e-5, atol=1e-7)
    _, forward_over_reverse = func.hvp(loss, tuple(params), tuple(mg.tensor(v) for v in vs))
    _assert_close([h.data for h in forward_over_reverse], want, names, rtol=1e-5, atol=1e-7)


def _torch_reference():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: the double-backward comparison is skipped")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import torch_reference

    return torch, torch_reference


@pytest.mark.torch
@pytest.mark.parametrize("name", ["rnn", "rnn-attn", "rnn-luong", "transformer"])
def test_hessian_vector_products_match_torch_double_backward(name):
    torch, torch_reference = _torch_reference()
    torch.set_num_threads(1)
    model = _model(name, {})
    theirs = torch_reference.build(name, V, V, **SIZES[name]).double()
    torch_reference.load_minigrad_state(theirs, model.state_dict())
    theirs.train()
    loss, params = _loss_fn(model, name), _params(model)
    vs = _directions(params)
    ours = _reverse_over_reverse(loss, params, vs)
    src, tgt = _batch()
    target = np.concatenate([tgt[:, 1:], np.zeros((2, 1), int)], axis=1)
    tparams = list(theirs.parameters())
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):  # the fused CPU kernels have no double backward
        logits = theirs(src, tgt)
    tloss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(target).reshape(-1), ignore_index=0)
    with sdpa_kernel(SDPBackend.MATH):
        grads = torch.autograd.grad(tloss, tparams, create_graph=True)
        inner = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, vs))
        hv = torch.autograd.grad(inner, tparams, allow_unused=True)
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    want = [np.zeros(p.shape) if h is None else h.detach().numpy() for h, p in zip(hv, tparams)]
    _assert_close(ours, want, names, rtol=1e-7, atol=1e-10)
