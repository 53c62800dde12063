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


# The step of the central differences. Their error is C eps^2 (the fourth derivative of the loss along v)
# plus rounding, about 1e-16 |grad| / eps. C is largest for the lm: its residual stream starts as token
# plus position embeddings of std 0.02 each (GPT-2's init), so the LayerNorms divide by sigma ~ 0.03 and
# the loss's higher derivatives grow as powers of 1 / sigma (C ~ 6e5 here; 1e3 times smaller with the
# embeddings 10 times larger). At eps = 1e-6 its error is ~6e-7, within the tolerance, and rounding is
# still far below it; a larger eps (>= 1e-3, where eps * v is as large as the weights themselves) leaves
# the range where the error falls as eps^2. test_the_lm_loss_is_smooth_... checks that rate.
EPS = 1e-6


def _central_hvp(loss, params, vs, eps=EPS) -> list[np.ndarray]:
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


def test_the_lm_loss_is_smooth_so_central_differences_converge_as_eps_squared():
    # A kink inside the step (a max, relu or clamp switching sides between x - eps v and x + eps v) would
    # make the error of the central difference of the loss along v fall as eps, and a slightly wrong rule
    # would leave it flat; a smooth loss with a right gradient gives eps^2, a factor 100 per decade of eps
    # (here 1.9e-2, 1.9e-4, 1.9e-6). Above eps = 1e-3 the steps are as large as the weights (std 0.02)
    # and the error no longer follows any power of eps.
    model = _model("lm", {})
    loss, params = _loss_fn(model, "lm"), _params(model)
    vs = _directions(params)
    along_v = sum(float((g * v).sum()) for g, v in zip(_gradient(loss, [p.data for p in params]), vs))
    errors = []
    for eps in (1e-3, 1e-4, 1e-5):
        plus = loss(*[mg.tensor(p.data + eps * v) for p, v in zip(params, vs)]).item()
        minus = loss(*[mg.tensor(p.data - eps * v) for p, v in zip(params, vs)]).item()
        errors.append(abs((plus - minus) / (2 * eps) - along_v))
    ratios = [errors[k] / errors[k + 1] for k in range(2)]
    assert all(80 < r < 125 for r in ratios), (errors, ratios)


def _torch_reference():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: the double-backward comparison is skipped")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import torch_reference

    return torch, torch_reference


@pytest.mark.torch
@pytest.mark.parametrize("name", ["rnn", "rnn-attn", "rnn-luong", "transformer", "lm"])
def test_hessian_vector_products_match_torch_double_backward(name):
    torch, torch_reference = _torch_reference()
    torch.set_num_threads(1)
    model = _model(name, {})
    theirs = (torch_reference.build(name, V, **SIZES[name]) if name == "lm" else
              torch_reference.build(name, V, V, **SIZES[name])).double()
    torch_reference.load_minigrad_state(theirs, model.state_dict())
    theirs.train()
    loss, params = _loss_fn(model, name), _params(model)
    vs = _directions(params)
    ours = _reverse_over_reverse(loss, params, vs)
    src, tgt = _batch()
    tparams = list(theirs.parameters())
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):  # the fused CPU kernels have no double backward
        if name == "lm":  # as _loss_fn: next-token scores of tgt, no padding
            logits, target = theirs(torch.tensor(tgt))[:, :-1], tgt[:, 1:]
        else:
            logits, target = theirs(src, tgt), np.concatenate([tgt[:, 1:], np.zeros((2, 1), int)], axis=1)
        tloss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(target).reshape(-1),
                                                  ignore_index=-100 if name == "lm" else 0)
        grads = torch.autograd.grad(tloss, tparams, create_graph=True)
        inner = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, vs))
        hv = torch.autograd.grad(inner, tparams, allow_unused=True)
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    want = [np.zeros(p.shape) if h is None else h.detach().numpy() for h, p in zip(hv, tparams)]
    _assert_close(ours, want, names, rtol=1e-7, atol=1e-10)
