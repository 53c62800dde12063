"""The seq2seq models through their shared interface: gradients of one training step,
padding invariance, decoding (greedy, beam search, EOS, training flags), and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import models
from minigrad.models.base import Seq2Seq, log_softmax_array
from testutils import gradcheck_params

PAD, BOS, EOS = 0, 1, 2
SRC_V, TGT_V = 7, 6

RNN_SMALL = dict(embed_dim=4, hidden_dim=5)
TF_SMALL = dict(d_model=8, num_heads=2, ff_dim=12, num_layers=1)

# (name, hyper-parameters): every family and the options that change the code path
VARIANTS = {
    "rnn": ("rnn", RNN_SMALL),
    "rnn-lstm-bi-2layers": ("rnn", dict(RNN_SMALL, cell="lstm", bidirectional=True, num_layers=2)),
    "rnn-attn": ("rnn-attn", RNN_SMALL),
    "rnn-attn-lstm-bi": ("rnn-attn", dict(RNN_SMALL, cell="lstm", bidirectional=True)),
    "rnn-attn-2layers": ("rnn-attn", dict(RNN_SMALL, num_layers=2)),
    "rnn-luong": ("rnn-luong", RNN_SMALL),
    "rnn-luong-dot": ("rnn-luong", dict(RNN_SMALL, luong_score="dot")),
    "rnn-luong-concat-bi": ("rnn-luong", dict(RNN_SMALL, luong_score="concat", bidirectional=True)),
    "transformer": ("transformer", TF_SMALL),
    "transformer-postnorm-gelu-tied": ("transformer",
                                       dict(TF_SMALL, norm_first=False, activation="gelu", tie_embeddings=True)),
    "encoder": ("encoder", TF_SMALL),
}
SEQ2SEQ = [v for v in VARIANTS if VARIANTS[v][0] != "encoder"]


def make(variant: str, dtype=np.float64, seed: int = 0) -> Seq2Seq:
    mg.manual_seed(seed)
    name, hyper = VARIANTS[variant]
    tgt_v = SRC_V if "tied" in variant or name == "encoder" else TGT_V
    return models.build(name, SRC_V, tgt_v, **hyper).to(dtype)


def batch(rng, B=3, S=5, T=4, V_src=SRC_V, V_tgt=TGT_V):
    src = rng.integers(3, V_src, size=(B, S))
    src[1, 3:] = PAD  # one shorter source
    tgt_in = np.concatenate([np.full((B, 1), BOS), rng.integers(3, V_tgt, size=(B, T - 1))], axis=1)
    tgt_out = np.concatenate([tgt_in[:, 1:], np.full((B, 1), EOS)], axis=1)
    tgt_in[1, 3:] = PAD
    tgt_out[1, 3:] = PAD
    return src, tgt_in, tgt_out


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# =============================================================================== forward and gradients


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_forward_shape_and_token_types(rng, variant):
    model = make(variant)
    src, tgt_in, _ = batch(rng, V_tgt=model.tgt_vocab_size)
    logits = model(src, tgt_in)
    T = src.shape[1] if VARIANTS[variant][0] == "encoder" else tgt_in.shape[1]
    assert logits.shape == (3, T, model.tgt_vocab_size)
    again = model(mg.tensor(src), mg.tensor(tgt_in), src_lengths=(src != PAD).sum(1))
    np.testing.assert_allclose(again.data, logits.data, atol=1e-12)


GRAD_PARAMS = {
    "rnn": ["encoder.weight_hh_l0", "decoder.bias_ih_l0", "out_proj.bias", "src_embed.weight"],
    "rnn-lstm-bi-2layers": ["bridge_h.weight", "bridge_c.bias", "encoder.bias_hh_l1_reverse", "decoder.bias_ih_l1"],
    "rnn-attn": ["attention.v.weight", "attention.query_proj.weight", "attention.key_proj.bias", "decoder.0.bias_hh",
                 "out_proj.bias", "tgt_embed.weight"],
    "rnn-attn-lstm-bi": ["attention.v.weight", "bridge_c.weight", "decoder.0.bias_ih"],
    "rnn-attn-2layers": ["decoder.1.bias_hh", "encoder.bias_ih_l1", "attention.v.weight"],
    "rnn-luong": ["attention.proj.weight", "combine.weight", "decoder.0.bias_ih"],
    "rnn-luong-dot": ["combine.weight", "encoder.bias_hh_l0"],
    "rnn-luong-concat-bi": ["attention.v.weight", "attention.key_proj.bias", "bridge_h.bias"],
    "transformer": ["encoder.layers.0.self_attn.q_proj.bias", "decoder.layers.0.cross_attn.k_proj.bias",
                    "decoder.layers.0.self_attn.v_proj.bias", "decoder.layers.0.norm2.weight", "out_proj.bias",
                    "encoder.norm.bias"],
    "transformer-postnorm-gelu-tied": ["tgt_embed.embed.weight", "decoder.layers.0.ff.linear1.bias",
                                       "encoder.layers.0.norm1.weight"],
    "encoder": ["embed.embed.weight", "encoder.layers.0.ff.linear2.bias", "out_proj.bias"],
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_training_step_gradcheck(rng, variant):
    model = make(variant)
    src, tgt_in, tgt_out = batch(rng, B=2, S=4, T=3, V_tgt=model.tgt_vocab_size)
    target = np.where(src != PAD, src, PAD) if VARIANTS[variant][0] == "encoder" else tgt_out

    def loss():
        return F.cross_entropy(model(src, tgt_in), target, ignore_index=PAD)

    assert gradcheck_params(model, loss, GRAD_PARAMS[variant], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_padding_a_batch_does_not_change_a_sequence(rng, variant):
    model = make(variant)
    model.eval()
    src, tgt_in, _ = batch(rng, B=2, S=6, T=5, V_tgt=model.tgt_vocab_size)
    short_src, short_tgt = src[:1, :3].copy(), tgt_in[:1, :3].copy()
    alone = model(short_src, short_tgt).data
    padded_src = src.copy()
    padded_src[0, :3], padded_src[0, 3:] = short_src[0], PAD
    padded_tgt = tgt_in.copy()
    padded_tgt[0, :3], padded_tgt[0, 3:] = short_tgt[0], PAD
    together = model(padded_src, padded_tgt).data
    np.testing.assert_allclose(together[:1, :3], alone, atol=1e-10)


@pytest.mark.parametrize("variant", SEQ2SEQ)
def test_decoder_is_causal(rng, variant):
    model = make(variant)
    model.eval()
    src, tgt_in, _ = batch(rng)
    changed = tgt_in.copy()
    changed[:, 2:] = rng.integers(3, model.tgt_vocab_size, size=changed[:, 2:].shape)
    a, b = model(src, tgt_in).data, model(src, changed).data
    np.testing.assert_allclose(a[:, :2], b[:, :2], atol=1e-12)


@pytest.mark.parametrize("name", ["rnn", "rnn-attn", "rnn-luong"])
def test_teacher_forcing_ratio(rng, name):
    mg.manual_seed(0)
    model = models.build(name, SRC_V, TGT_V, teacher_forcing_ratio=0.0, **RNN_SMALL)
    src, tgt_in, tgt_out = batch(rng)
    model.eval()
    forced = model(src, tgt_in).data  # evaluation always feeds the gold tokens
    model.train()
    free = model(src, tgt_in)  # training with ratio 0 feeds the model's own argmax
    assert free.shape == forced.shape
    np.testing.assert_allclose(free.data[:, 0], forced[:, 0], atol=1e-6)  # step 0 reads BOS either way
    fed = np.concatenate([tgt_in[:, :1], free.data.argmax(-1)[:, :-1]], axis=1)  # what ratio 0 fed
    model.eval()
    np.testing.assert_allclose(model(src, fed).data, free.data, atol=1e-5)
    model.train()
    F.cross_entropy(free, tgt_out, ignore_index=PAD).backward()
    assert model.out_proj.weight.grad is not None and model.encoder.weight_hh_l0.grad is not None


def test_tied_embeddings_share_the_target_table(rng):
    model = make("transformer-postnorm-gelu-tied")
    assert model.out_proj is None and "out_proj.weight" not in model.state_dict()
    src, tgt_in, tgt_out = batch(rng, V_tgt=SRC_V)
    logits = model(src, tgt_in)
    F.cross_entropy(logits, tgt_out, ignore_index=PAD).backward()
    grad = model.tgt_embed.embed.weight.grad
    assert np.abs(grad[EOS]).sum() > 0  # EOS is never an input: its gradient comes from the output side


# =============================================================================== decoding


def _pad_to(a: np.ndarray, width: int) -> np.ndarray:
    return np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])], constant_values=PAD)


def _teacher_forced_scores(model, src, hyps, alpha):
    """Length-normalised log-probability of each hypothesis (B, K, L) under model.forward."""
    B, K, L = hyps.shape
    scores = np.zeros((B, K))
    model.eval()
    for b in range(B):
        tgt_in = np.concatenate([np.full((K, 1), BOS), hyps[b, :, :-1]], axis=1)
        tgt_in = np.where(tgt_in == EOS, PAD, tgt_in)  # after EOS the inputs do not matter
        logits = model(np.repeat(src[b:b + 1], K, axis=0), tgt_in).data
        logp = log_softmax_array(logits)
        for k in range(K):
            seq = hyps[b, k]
            ends = np.nonzero(seq == EOS)[0]
            n = ends[0] + 1 if len(ends) else L
            scores[b, k] = logp[k, np.arange(n), seq[:n]].sum() / n ** alpha
    return scores


@pytest.mark.parametrize("variant", SEQ2SEQ)
def test_greedy_decode_agrees_with_forward(rng, variant):
    model = make(variant)
    src, _, _ = batch(rng)
    tokens, attention = model.greedy_decode(src, max_len=6)
    assert tokens.dtype == np.int64 and tokens.shape[0] == 3 and tokens.shape[1] <= 6
    model.eval()
    tgt_in = np.concatenate([np.full((3, 1), BOS), np.where(tokens[:, :-1] == EOS, PAD, tokens[:, :-1])], axis=1)
    argmax = model(src, tgt_in).data.argmax(-1)
    for b in range(3):
        ends = np.nonzero(tokens[b] == EOS)[0]
        n = ends[0] + 1 if len(ends) else tokens.shape[1]
        assert np.array_equal(tokens[b, :n], argmax[b, :n])
        assert np.all(tokens[b, n:] == PAD)
    if VARIANTS[variant][0] == "rnn":
        assert attention is None
    else:
        assert attention.shape == tokens.shape + (src.shape[1],)
        lengths = (src != PAD).sum(1)
        assert np.all(attention[1, :, lengths[1]:] == 0)  # no weight on source padding


@pytest.mark.parametrize("variant", SEQ2SEQ)
def test_beam_size_one_equals_greedy(rng, variant):
    model = make(variant)
    src, _, _ = batch(rng)
    greedy, greedy_attn = model.greedy_decode(src, max_len=6)
    tokens, scores, attention = model.beam_search(src, beam_size=1, max_len=6)
    assert tokens.shape[:2] == (3, 1) and scores.shape == (3, 1)
    width = max(greedy.shape[1], tokens.shape[2])
    np.testing.assert_array_equal(_pad_to(tokens[:, 0], width), _pad_to(greedy, width))
    if greedy_attn is not None:
        L = min(greedy.shape[1], tokens.shape[2])
        np.testing.assert_allclose(attention[:, 0, :L], greedy_attn[:, :L], atol=1e-12)


@pytest.mark.parametrize("variant", SEQ2SEQ)
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_sorted_and_scores_match_forward(rng, variant, alpha):
    model = make(variant)
    src, _, _ = batch(rng)
    tokens, scores, _ = model.beam_search(src, beam_size=3, max_len=5, length_penalty=alpha)
    assert tokens.shape[:2] == (3, 3) and tokens.shape[2] <= 5
    assert np.all(np.diff(scores, axis=1) <= 1e-12)  # best first
    np.testing.assert_allclose(scores, _teacher_forced_scores(model, src, tokens, alpha), atol=1e-8)
    for b in range(3):
        hyps = {tuple(row) for row in tokens[b]}
        assert len(hyps) == 3  # distinct hypotheses


class Scripted(Seq2Seq):
    """Emits a fixed script: output t of row b is script[b, t] (then the last entry)."""

    def __init__(self, script: np.ndarray, vocab: int = 8):
        super().__init__()
        self.script, self.vocab = script, vocab

    def encode(self, src, src_lengths):
        return {"row": np.arange(len(src)), "t": 0}

    def decode_step(self, tokens, state):
        rows, t = state["row"], state["t"]
        logits = np.full((len(rows), self.vocab), -4.0)
        logits[np.arange(len(rows)), self.script[rows, min(t, self.script.shape[1] - 1)]] = 4.0
        attention = np.full((len(rows), 3), 1.0 / 3)
        return mg.tensor(logits), {"row": rows, "t": t + 1}, attention


def test_decoding_stops_when_every_row_has_produced_eos():
    script = np.array([[5, EOS, 7, 7, 7, 7], [4, 4, 4, EOS, 7, 7]])
    model = Scripted(script)
    src = np.full((2, 3), 3)
    tokens, attention = model.greedy_decode(src, max_len=10)
    np.testing.assert_array_equal(tokens, [[5, EOS, PAD, PAD], [4, 4, 4, EOS]])
    assert attention.shape == (2, 4, 3) and np.all(attention[0, 2:] == 0)
    beams, scores, beam_attn = model.beam_search(src, beam_size=2, max_len=10)
    np.testing.assert_array_equal(beams[:, 0, :4], tokens)
    assert np.all(beams[:, 0, 4:] == PAD)
    for b in range(2):
        for k in range(2):
            seq = beams[b, k]
            ends = np.nonzero(seq == EOS)[0]
            if len(ends):
                assert np.all(seq[ends[0] + 1:] == PAD)
    short, _ = model.greedy_decode(src, max_len=2)
    np.testing.assert_array_equal(short, [[5, EOS], [4, 4]])


@pytest.mark.parametrize("variant", ["rnn-attn", "transformer", "encoder"])
def test_decoding_restores_training_flags_and_records_no_graph(rng, variant):
    model = make(variant)
    model.train()
    inner = next(m for m in model.modules() if m is not model)
    inner.eval()  # a mixed state must come back exactly
    src, _, _ = batch(rng)
    flags = [m.training for m in model.modules()]
    tokens, _ = model.greedy_decode(src, max_len=4)
    beams, _, _ = model.beam_search(src, beam_size=2, max_len=4)
    assert [m.training for m in model.modules()] == flags
    assert isinstance(tokens, np.ndarray) and isinstance(beams, np.ndarray)
    assert all(p.grad is None for p in model.parameters())


def test_encoder_model_decodes_per_position(rng):
    model = make("encoder")
    src, tgt_in, _ = batch(rng)
    model.eval()
    logits = model(src, tgt_in).data
    tokens, attention = model.greedy_decode(src, max_len=10)
    lengths = (src != PAD).sum(1)
    expected = np.where(np.arange(5)[None] < lengths[:, None], logits.argmax(-1), PAD)
    np.testing.assert_array_equal(tokens, expected)
    assert attention.shape == (3, 5, 5)
    np.testing.assert_allclose(attention[0].sum(-1), 1.0, atol=1e-12)
    beams, scores, beam_attention = model.beam_search(src, beam_size=3, length_penalty=0.0)
    np.testing.assert_array_equal(beams[:, 0], tokens)
    np.testing.assert_allclose(beam_attention[:, 2], attention)
    assert np.all(np.diff(scores, axis=1) <= 1e-12)
    logp = log_softmax_array(logits)
    for b in range(3):
        for k in range(3):
            n = lengths[b]
            assert np.isclose(scores[b, k], logp[b, np.arange(n), beams[b, k, :n]].sum())
    short, _ = model.greedy_decode(src, max_len=2)
    assert short.shape == (3, 2)


# =============================================================================== errors


def test_model_errors(rng):
    with pytest.raises(ValueError, match="luong_score='dot'"):
        models.build("rnn-luong", 5, 5, bidirectional=True, luong_score="dot")
    with pytest.raises(ValueError, match="tie_embeddings"):
        models.build("encoder", 5, 6, tie_embeddings=True)
    model = make("rnn-attn")
    src, tgt_in, _ = batch(rng)
    with pytest.raises(TypeError, match="integer"):
        model(src.astype(np.float32), tgt_in)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, tgt_in, src_lengths=np.array([1, 2]))
    with pytest.raises(ValueError, match="batch"):
        model(src, tgt_in[:2])
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, max_len=0)
    with pytest.raises(ValueError, match="different"):
        models.build("rnn", 5, 5, pad_id=1)


def test_beam_search_takes_the_width_as_beam_or_beam_size():
    from minigrad import models

    model = models.build("rnn-attn", 8, 8, embed_dim=8, hidden_dim=8)
    src = np.array([[4, 5, 6, 2], [7, 4, 2, 0]])
    by_name = model.beam_search(src, beam=2, max_len=5)
    by_size = model.beam_search(src, beam_size=2, max_len=5)
    np.testing.assert_array_equal(by_name[0], by_size[0])
    np.testing.assert_array_equal(model.beam_search(src, 2, 5)[0], by_size[0])
    with pytest.raises(TypeError, match="give one"):
        model.beam_search(src, beam_size=2, beam=3, max_len=5)
    encoder = models.build("encoder", 8, 8, d_model=8, num_heads=2, ff_dim=16, num_layers=1)
    assert encoder.beam_search(src, beam=2)[0].shape[:2] == (2, 2)
