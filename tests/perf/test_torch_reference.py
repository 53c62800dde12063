"""benchmarks/torch_reference.py builds the same architectures as ``models.build``: with a
minigrad model's state_dict loaded, it gives the same logits, the same gradients for every
parameter and the same greedy decodes (so the benchmarks compare like with like)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import models
from minigrad import functional as F

torch = pytest.importorskip("torch", reason="PyTorch not installed: the benchmark reference is not checked")
pytestmark = pytest.mark.torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import torch_reference  # noqa: E402

V = 14
CASES = [
    ("rnn", {}), ("rnn", {"cell": "lstm", "num_layers": 2}),
    ("rnn-attn", {}), ("rnn-attn", {"cell": "lstm"}), ("rnn-attn", {"num_layers": 2}),
    ("rnn-luong", {}), ("rnn-luong", {"luong_score": "dot"}), ("rnn-luong", {"luong_score": "concat", "cell": "lstm"}),
    ("transformer", {}), ("transformer", {"norm_first": False, "activation": "gelu"}),
    ("transformer", {"tie_embeddings": True, "num_layers": 1}),
]


def _batch():
    rng = np.random.default_rng(0)
    B, S, T = 5, 7, 6
    lengths = np.array([7, 3, 5, 1, 7])
    src = rng.integers(4, V, size=(B, S))
    for b in range(B):
        src[b, lengths[b]:] = 0
    tgt = rng.integers(4, V, size=(B, T))
    tgt[:, 0] = 1
    return src, tgt


@pytest.mark.parametrize("name, hyper", CASES, ids=[f"{n}-{h}" for n, h in CASES])
def test_same_logits_gradients_and_decodes(name, hyper):
    torch.set_num_threads(1)
    src, tgt = _batch()
    mg.manual_seed(0)
    ours = models.build(name, V, V, embed_dim=8, hidden_dim=12, **hyper) if name != "transformer" else \
        models.build(name, V, V, d_model=16, num_heads=2, ff_dim=24, **hyper)
    theirs = torch_reference.build(name, V, V, embed_dim=8, hidden_dim=12, **hyper) if name != "transformer" else \
        torch_reference.build(name, V, V, d_model=16, num_heads=2, ff_dim=24, **hyper)
    torch_reference.load_minigrad_state(theirs, ours.state_dict())
    logits = ours(src, tgt)
    ref = theirs(src, tgt)
    np.testing.assert_allclose(logits.data, ref.detach().numpy(), rtol=1e-4, atol=2e-6)
    F.cross_entropy(logits, tgt, ignore_index=0).backward()
    torch.nn.functional.cross_entropy(ref.reshape(-1, V), torch.tensor(tgt).reshape(-1), ignore_index=0).backward()
    named = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, named[key].grad.numpy(), rtol=1e-3, atol=2e-7, err_msg=key)
    ours_tokens, _ = ours.greedy_decode(src, 8)
    np.testing.assert_array_equal(ours_tokens, torch_reference.greedy_decode(theirs, src, 8))


LM_CASES = [{}, {"tie_embeddings": False, "activation": "relu", "num_layers": 1}]


@pytest.mark.parametrize("hyper", LM_CASES, ids=[str(h) for h in LM_CASES])
def test_language_model_same_size_logits_and_gradients(hyper):
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    idx, y = rng.integers(0, V, size=(3, 7)), rng.integers(0, V, size=(3, 7))
    mg.manual_seed(0)
    size = dict(d_model=16, num_heads=2, ff_dim=24, block_size=8)
    ours = models.build("lm", V, **size, **hyper)
    theirs = torch_reference.build("lm", V, **size, **hyper)
    assert sum(p.numel() for p in theirs.parameters()) == ours.num_parameters()
    torch_reference.load_minigrad_state(theirs, ours.state_dict())
    logits, ref = ours(idx), theirs(idx)
    np.testing.assert_allclose(logits.data, ref.detach().numpy(), rtol=1e-4, atol=2e-6)
    F.cross_entropy(logits, y).backward()
    torch.nn.functional.cross_entropy(ref.reshape(-1, V), torch.tensor(y).reshape(-1)).backward()
    named = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, named[key].grad.numpy(), rtol=1e-3, atol=2e-7, err_msg=key)


def test_language_model_initialisation_has_gpt2_scales():
    """PyTorch's own initialisation (not minigrad's weights): std 0.02, the residual projections
    0.02 / sqrt(2 * layers), zero biases, so a benchmark started from it trains the same model."""
    torch.manual_seed(0)
    model = torch_reference.build("lm", 50, d_model=256, num_heads=4, ff_dim=1024, num_layers=2)
    named = dict(model.named_parameters())
    assert abs(float(named["blocks.0.ff.linear1.weight"].std()) - 0.02) < 1e-3
    assert abs(float(named["blocks.1.self_attn.out_proj.weight"].std()) - 0.01) < 1e-3
    assert float(named["blocks.0.self_attn.q_proj.bias"].abs().max()) == 0.0
    with pytest.raises(ValueError, match="one vocabulary"):
        torch_reference.build("lm", 50, 40)


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="bidirectional"):
        torch_reference.build("rnn-attn", V, V, bidirectional=True)
    with pytest.raises(ValueError, match="unknown model"):
        torch_reference.build("encoder", V, V)


@pytest.mark.parametrize("name", ["rnn-attn", "transformer"])
def test_training_runs_track_each_other(name):
    """Same initial weights, same batches: 20 full training steps (Adam, clipping) give the same
    losses and gradient norms in both libraries, so time-to-accuracy compares the libraries' speed,
    not two different algorithms (float rounding makes them drift apart only much later)."""
    from minigrad import tasks
    from minigrad import optim

    torch.set_num_threads(1)
    task = tasks.get("copy")
    V = len(task.tgt_vocab)
    mg.manual_seed(0)
    ours = models.build(name, V, V)
    theirs = torch_reference.build(name, V, V)
    torch_reference.load_minigrad_state(theirs, ours.state_dict())
    params = list(ours.parameters())
    opt = optim.Adam(params, lr=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    stream = task.sample_batches(64, 0)
    for _ in range(20):
        b = next(stream)
        loss = F.cross_entropy(ours(b.src, b.tgt_in, src_lengths=b.src_lengths), b.tgt_out, ignore_index=0)
        opt.zero_grad()
        loss.backward()
        norm = optim.clip_grad_norm_(params, 1.0)
        opt.step()
        ref = theirs(b.src, b.tgt_in, src_lengths=b.src_lengths)
        tloss = torch.nn.functional.cross_entropy(ref.reshape(-1, V), torch.from_numpy(b.tgt_out).reshape(-1),
                                                  ignore_index=0)
        topt.zero_grad()
        tloss.backward()
        tnorm = float(torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0))
        topt.step()
        np.testing.assert_allclose(float(loss.data), float(tloss.detach()), rtol=1e-4)
        np.testing.assert_allclose(norm, tnorm, rtol=1e-3)


@pytest.mark.parametrize("name", ["rnn-attn", "transformer"])
def test_lockstep_tool_reports_rounding_level_differences(name, capsys):
    """benchmarks/lockstep.py: from the same weights, every step's gradients and updates agree
    parameter by parameter (it is what RESULTS.md quotes to show the two runs are one algorithm).
    Only the attention key biases, whose exact gradient is zero, are set apart as noise."""
    import lockstep

    records = lockstep.run(name, "copy", steps=4, every=2, seed=0)
    assert [r["step"] for r in records] == [1, 2, 4]
    for r in records:
        np.testing.assert_allclose(r["loss"], r["torch_loss"], rtol=1e-5)
        np.testing.assert_allclose(r["norm"], r["torch_norm"], rtol=1e-4)
        assert r["all_grad_rel"] < 1e-5 and r["grad_rel"] < 1e-4, r
        assert r["all_update_rel"] < 1e-3 and r["update_rel"] < 1e-2, r
        assert all(noise.endswith("k_proj.bias") for noise in r["noise"]), r["noise"]
    if name == "transformer":
        assert records[0]["noise"], "the key biases' gradients are rounding noise"
    assert "| 4 |" in capsys.readouterr().out
