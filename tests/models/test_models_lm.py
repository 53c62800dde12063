"""The decoder-only language model (models/lm.py): learning, causality, the KV cache,
sampling (temperature, top-k, top-p, seeds), the context window, gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import optim
from minigrad.errors import ShapeError
from minigrad.models.attention import KVCache, causal_mask
from minigrad.models.lm import LanguageModel, LMConfig, check_sampling, filter_logits, sample_next
from testutils import gradcheck_params

V = 11
SMALL = dict(d_model=16, num_heads=2, ff_dim=32, num_layers=2, block_size=12)


def make(dtype=np.float64, seed: int = 0, **hyper) -> LanguageModel:
    mg.manual_seed(seed)
    return LanguageModel(V, LMConfig(**{**SMALL, **hyper})).to(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# =============================================================================== structure


def test_forward_shape_and_state_dict_names():
    model = make()
    logits = model(np.zeros((3, 7), dtype=np.int64))
    assert logits.shape == (3, 7, V)
    keys = list(model.state_dict())
    assert keys[:2] == ["tok_emb.weight", "pos_emb.weight"]
    assert "blocks.1.self_attn.q_proj.weight" in keys and "blocks.0.ff.linear2.bias" in keys
    assert keys[-2:] == ["ln_f.weight", "ln_f.bias"]  # tied: no lm_head
    assert model.state_dict()["pos_emb.weight"].shape == (SMALL["block_size"], SMALL["d_model"])
    untied = make(tie_embeddings=False)
    assert untied.state_dict()["lm_head.weight"].shape == (V, SMALL["d_model"])
    assert "lm_head.bias" not in untied.state_dict()
    assert untied.num_parameters() == model.num_parameters() + V * SMALL["d_model"]


def test_initial_loss_is_near_uniform(rng):
    model = make()
    x = rng.integers(0, V, size=(8, 12))
    loss = F.cross_entropy(model(x), rng.integers(0, V, size=(8, 12))).item()
    assert abs(loss - np.log(V)) < 0.05  # GPT-2 init: small logits


def test_tied_logits_use_the_token_embedding(rng):
    model = make()
    x = rng.integers(0, V, size=(2, 5))
    x[x == 3] = 4  # token 3 is not in the input: its row only acts as the output row
    before = model(x).data
    model.tok_emb.weight.data[3] += rng.standard_normal(SMALL["d_model"])
    after = model(x).data
    assert not np.allclose(before[..., 3], after[..., 3])
    np.testing.assert_array_equal(np.delete(before, 3, axis=-1), np.delete(after, 3, axis=-1))


def test_config_validation():
    with pytest.raises(ValueError, match="num_heads .* must divide d_model"):
        LMConfig(d_model=10, num_heads=4).validate()
    with pytest.raises(ValueError, match="block_size"):
        LMConfig(block_size=0).validate()
    with pytest.raises(ValueError, match="activation"):
        LMConfig(activation="tanh").validate()
    with pytest.raises(ValueError, match="dropout"):
        LMConfig(dropout=1.0).validate()
    with pytest.raises(ValueError, match="vocab_size"):
        LanguageModel(0)


def test_forward_longer_than_block_size_is_an_error():
    model = make()
    with pytest.raises(ShapeError, match="exceed block_size 12"):
        model(np.zeros((1, 13), dtype=np.int64))


# =============================================================================== learning


def test_memorises_a_fixed_batch(rng):
    model = make(np.float32)
    x = rng.integers(0, V, size=(4, 12))
    y = rng.integers(0, V, size=(4, 12))
    opt = optim.Adam(list(model.parameters()), lr=1e-2)
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05, loss.item()


def test_block_gradcheck_float64(rng):
    model = make()
    block = model.blocks[0]
    T = 5
    x = mg.tensor(rng.standard_normal((2, T, SMALL["d_model"])), requires_grad=True)
    names = ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.bias",
             "self_attn.out_proj.weight", "ff.linear1.weight", "ff.linear2.bias", "norm1.weight", "norm2.bias"]
    assert gradcheck_params(block, lambda x: block(x, causal_mask(T)), names, [x])


def test_whole_model_gradcheck_float64(rng):
    model = make(num_layers=1)
    idx = rng.integers(0, V, size=(2, 4))
    y = rng.integers(0, V, size=(2, 4))
    assert gradcheck_params(model, lambda: F.cross_entropy(model(idx), y), ["tok_emb.weight", "pos_emb.weight", "ln_f.weight"])


# =============================================================================== causality


def test_logits_never_depend_on_future_tokens(rng):
    model = make()
    x = rng.integers(0, V, size=(3, 12))
    base = model(x).data
    for t in range(12):
        changed = x.copy()
        changed[:, t:] = rng.integers(0, V, size=(3, 12 - t))
        out = model(changed).data
        np.testing.assert_array_equal(out[:, :t], base[:, :t])  # positions before t are bit-identical
        if t < 11:
            assert not np.allclose(out[:, t:], base[:, t:])


def test_attention_weights_are_zero_above_the_diagonal(rng):
    model = make()
    model(rng.integers(0, V, size=(2, 9)))
    for block in model.blocks:
        w = block.self_attn.last_weights  # (B, H, T, T)
        assert w.shape == (2, SMALL["num_heads"], 9, 9)
        assert np.all(w[..., ~causal_mask(9)] == 0.0)


def test_a_longer_generation_extends_a_shorter_one(rng):
    """A generated token depends only on the tokens before it and on its own random draw (one
    per step, in order): the same seed gives a longer sample that starts with the shorter one."""
    model = make()
    prompt = rng.integers(0, V, size=5)
    for sampling in (dict(temperature=0), dict(temperature=1.0, seed=3), dict(top_p=0.9, seed=4)):
        short = model.generate(prompt, 4, **sampling)
        np.testing.assert_array_equal(model.generate(prompt, 30, **sampling)[:9], short)


# =============================================================================== KV cache


def test_cached_forward_equals_full_forward(rng):
    model = make()
    x = rng.integers(0, V, size=(2, 12))
    full = model(x).data
    caches = [KVCache() for _ in model.blocks]
    with mg.no_grad():
        parts = [model._run(x[:, :5], caches)] + [model._run(x[:, t:t + 1], caches) for t in range(5, 9)]
        parts.append(model._run(x[:, 9:], caches))  # a chunk after the single steps
    np.testing.assert_allclose(np.concatenate([p.data for p in parts], axis=1), full, rtol=1e-10, atol=1e-12)
    assert len(caches[0]) == 12


@pytest.mark.parametrize("sampling", [dict(temperature=0), dict(temperature=1.0, seed=3),
                                      dict(temperature=0.7, top_k=3, seed=4), dict(temperature=1.3, top_p=0.8, seed=5)])
def test_cached_generation_equals_uncached(rng, sampling):
    model = make()
    prompt = rng.integers(0, V, size=4)
    n = 40  # goes well past block_size (12): the context window slides
    cached = model.generate(prompt, n, **sampling)
    uncached = model.generate(prompt, n, use_cache=False, **sampling)
    np.testing.assert_array_equal(cached, uncached)
    assert cached.dtype == np.int64 and cached.shape == (4 + n,)
    np.testing.assert_array_equal(cached[:4], prompt)  # the prompt, then the new tokens


def test_cached_generation_equals_uncached_for_a_batch(rng):
    model = make(np.float32)
    prompt = rng.integers(0, V, size=(3, 6))
    cached = model.generate(prompt, 20, seed=1)
    np.testing.assert_array_equal(cached, model.generate(prompt, 20, seed=1, use_cache=False))
    assert cached.shape == (3, 26)


def test_greedy_generation_is_the_argmax_of_the_full_forward(rng):
    model = make()
    seq = list(rng.integers(0, V, size=3))
    new = model.generate(seq, 8, temperature=0)[3:]
    for token in new:
        assert token == int(model(np.array([seq])).data[0, -1].argmax())
        seq.append(token)


def test_each_new_token_costs_one_position(rng, monkeypatch):
    model = make()
    seen = []
    forward = type(model.blocks[0]).forward

    def spy(self, x, mask=None, cache=None):
        if self is model.blocks[0]:
            seen.append(x.shape[1])
        return forward(self, x, mask, cache)

    monkeypatch.setattr(type(model.blocks[0]), "forward", spy)
    model.generate(rng.integers(0, V, size=5), 7, seed=0)
    assert seen == [5, 1, 1, 1, 1, 1, 1]  # the prompt once, then one position per token
    seen.clear()
    model.generate(rng.integers(0, V, size=10), 6, seed=0)  # block_size 12: full after 2 new tokens
    assert seen == [10, 1, 1, 12, 12, 12]  # a full window (12), then it slides: the last 12 tokens in one pass each


def test_generation_past_the_block_reads_the_last_block_size_tokens(rng):
    """Beyond block_size the result equals a plain loop over the last block_size tokens (nanoGPT's rule)."""
    model = make()
    seq = list(rng.integers(0, V, size=5))
    new = model.generate(seq, 20, temperature=0)[5:]
    for token in new:
        window = np.array([seq[-12:]])
        assert token == int(model(window).data[0, -1].argmax())
        seq.append(token)


# =============================================================================== context window and prompts


def test_long_prompt_is_cropped_to_the_last_block(rng):
    model = make()
    prompt = rng.integers(0, V, size=30)
    out = model.generate(prompt, 10, seed=2)
    np.testing.assert_array_equal(out[:30], prompt)  # the whole prompt is returned ...
    np.testing.assert_array_equal(out[30:], model.generate(prompt[-12:], 10, seed=2)[12:])  # ... its last block read


def test_prompt_forms(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    expected = model.generate(prompt, 5, seed=0)
    np.testing.assert_array_equal(model.generate(list(prompt), 5, seed=0), expected)
    np.testing.assert_array_equal(model.generate(mg.tensor(prompt), 5, seed=0), expected)
    np.testing.assert_array_equal(model.generate(prompt[None], 5, seed=0), expected[None])
    np.testing.assert_array_equal(model.generate(prompt, 0), prompt)
    assert model.generate(prompt[None], 0).shape == (1, 4)


def test_stream_yields_the_same_tokens_as_generate(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    stream = model.generate_stream(prompt, 15, seed=9, top_k=4)
    tokens = list(stream)
    assert all(isinstance(t, int) for t in tokens)
    np.testing.assert_array_equal(tokens, model.generate(prompt, 15, seed=9, top_k=4)[-15:])
    batch = list(model.generate_stream(np.stack([prompt, prompt]), 3, seed=9))
    assert all(t.shape == (2,) for t in batch)


def test_generation_restores_grad_mode_and_training_flags(rng):
    model = make(dropout=0.3)
    model.train()
    model.blocks[1].eval()
    stream = model.generate_stream(rng.integers(0, V, size=3), 5, seed=0)
    next(stream)
    assert mg.is_grad_enabled()  # between yields the caller's grad mode is untouched
    assert model.training and model.blocks[0].training and not model.blocks[1].training
    list(stream)
    assert model.training and not model.blocks[1].training
    # dropout is off while generating: the same seed gives the same tokens as an eval-mode model
    model.train()
    np.testing.assert_array_equal(model.generate([1, 2, 3], 8, seed=4), model.eval().generate([1, 2, 3], 8, seed=4))


# =============================================================================== sampling


def test_same_seed_same_tokens_different_seeds_differ(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    a = model.generate(prompt, 30, seed=11)
    np.testing.assert_array_equal(a, model.generate(prompt, 30, seed=11))
    assert not np.array_equal(a, model.generate(prompt, 30, seed=12))
    mg.manual_seed(5)
    b = model.generate(prompt, 30)  # seed=None draws from minigrad's generator
    mg.manual_seed(5)
    np.testing.assert_array_equal(b, model.generate(prompt, 30))


def _next_logits(model, prompt):
    return model(np.array([prompt])).data[0, -1].astype(np.float64)


def test_top_k_restricts_the_sampled_support(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    logits = _next_logits(model, prompt)
    allowed = set(np.argsort(-logits)[:3].tolist())
    drawn = {int(model.generate(prompt, 1, temperature=2.0, top_k=3, seed=s)[-1]) for s in range(200)}
    assert drawn == allowed  # every one of the top 3 is reachable, nothing else is
    assert {int(model.generate(prompt, 1, top_k=1, seed=s)[-1]) for s in range(20)} == {int(logits.argmax())}
    wide = {int(model.generate(prompt, 1, temperature=5.0, top_k=100, seed=s)[-1]) for s in range(300)}
    assert len(wide) > 3  # k larger than the vocabulary keeps everything


def test_top_p_restricts_the_sampled_support(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    model.tok_emb.weight.data *= 30.0  # a peaked next-token distribution
    logits = _next_logits(model, prompt)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    need = int(np.searchsorted(np.cumsum(probs[order]), 0.6) + 1)  # smallest prefix holding 60%
    nucleus = set(order[:need].tolist())
    assert 1 <= len(nucleus) < V
    drawn = {int(model.generate(prompt, 1, top_p=0.6, seed=s)[-1]) for s in range(200)}
    assert drawn <= nucleus and len(drawn) == len(nucleus)


def test_filter_logits_by_hand():
    logits = np.log(np.array([[0.5, 0.2, 0.15, 0.1, 0.05]]))
    keep = lambda out: np.isfinite(out[0]).nonzero()[0].tolist()  # noqa: E731
    assert keep(filter_logits(logits, top_k=2)) == [0, 1]
    assert keep(filter_logits(logits, top_p=0.5)) == [0]  # 0.5 alone reaches 0.5
    assert keep(filter_logits(logits, top_p=0.51)) == [0, 1]
    assert keep(filter_logits(logits, top_p=0.85)) == [0, 1, 2]
    assert keep(filter_logits(logits, top_p=0.01)) == [0]  # the most likely token always stays
    assert keep(filter_logits(logits, top_p=1.0)) == [0, 1, 2, 3, 4]
    assert keep(filter_logits(logits, top_k=4, top_p=0.9)) == [0, 1, 2, 3]
    assert keep(filter_logits(logits[:, ::-1], top_k=2)) == [3, 4]
    ties = np.array([[1.0, 2.0, 2.0, 0.0]])
    assert keep(filter_logits(ties, top_k=1)) == [1, 2]  # ties at the k-th value are all kept


def test_the_nucleus_always_keeps_the_most_likely_token():
    """A top_p below the rounding tolerance (1e-9) keeps the most likely token: an empty nucleus
    would leave only NaN probabilities (and then token 0)."""
    logits = np.log(np.array([[0.5, 0.2, 0.15, 0.1, 0.05], [0.05, 0.1, 0.15, 0.2, 0.5]]))
    for top_p in (1e-9, 1e-12, 5e-324):
        out = filter_logits(logits, top_p=top_p)
        assert [np.isfinite(row).nonzero()[0].tolist() for row in out] == [[0], [4]]


@pytest.mark.filterwarnings("error")  # and no NumPy RuntimeWarning on the way
@pytest.mark.parametrize("temperature, top_p", [(1.0, 1e-9), (1e-320, None), (1e-320, 1e-9), (1e-300, 0.5)])
def test_a_tiny_nucleus_or_temperature_samples_the_most_likely_allowed_token(temperature, top_p):
    logits = np.array([[5.0, 1.0, 3.0, 2.0], [0.0, 4.0, -1.0, 3.5]])
    logits[:, 0] = -np.inf  # a suppressed token, as generate passes it
    assert sample_next(logits, temperature, None, top_p, np.random.default_rng(0)).tolist() == [2, 1]


@pytest.mark.filterwarnings("error")
def test_generate_with_a_tiny_nucleus_is_greedy_over_the_allowed_tokens(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    specials = range(4)
    greedy = model.generate(prompt, 12, temperature=0, suppress_tokens=specials)
    np.testing.assert_array_equal(model.generate(prompt, 12, top_p=1e-9, seed=0, suppress_tokens=specials), greedy)
    assert not set(greedy[4:].tolist()) & set(specials)


def test_sample_next_frequencies_follow_temperature():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.7, 0.2, 0.1]] * 20000))
    counts = np.bincount(sample_next(logits, 1.0, None, None, rng), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.02)
    cold = np.bincount(sample_next(logits, 0.25, None, None, rng), minlength=3) / 20000
    assert cold[0] > 0.98  # p^4 normalised: 0.7^4 / (0.7^4 + 0.2^4 + 0.1^4) = 0.997
    assert (sample_next(logits[:3], 0, None, None, rng) == 0).all()


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-0.1), "temperature must be a finite number >= 0"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(top_k=0), "top_k must be None or an int >= 1"),
    (dict(top_k=2.5), "top_k"),
    (dict(top_p=0.0), r"top_p must be None or a number in \(0, 1\]"),
    (dict(top_p=1.5), "top_p"),
    (dict(seed=-1), "seed"),
])
def test_bad_sampling_arguments_raise_before_generating(kwargs, message):
    model = make()
    with pytest.raises(ValueError, match=message):
        model.generate_stream([1, 2], 3, **kwargs)  # checked at the call, not at the first token


def test_bad_prompts_and_lengths():
    model = make()
    with pytest.raises(ValueError, match="prompt is empty"):
        model.generate([], 3)
    with pytest.raises(ValueError, match=r"prompt token 11 is outside the vocabulary \[0, 11\)"):
        model.generate([1, 11], 3)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model.generate([-1], 3)
    with pytest.raises(TypeError, match="integer"):
        model.generate([1.5, 2.0], 3)
    with pytest.raises(ShapeError, match="1-D sequence"):
        model.generate(np.zeros((1, 1, 2), dtype=np.int64), 3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate([1], -1)
    check_sampling(0, None, None)  # greedy, nothing else: fine


def test_suppressed_tokens_are_never_sampled(rng):
    model = make()
    prompt = rng.integers(0, V, size=4)
    banned = [0, 1, 2, 3]
    for seed in range(30):
        new = model.generate(prompt, 10, temperature=3.0, seed=seed, suppress_tokens=banned)[4:]
        assert not set(new.tolist()) & set(banned)
    logits = _next_logits(model, prompt)
    logits[banned] = -np.inf
    assert model.generate(prompt, 1, temperature=0, suppress_tokens=banned)[-1] == logits.argmax()
    np.testing.assert_array_equal(model.generate(prompt, 12, seed=1, suppress_tokens=banned),
                                  model.generate(prompt, 12, seed=1, suppress_tokens=banned, use_cache=False))
    with pytest.raises(ValueError, match="leaves no token"):
        model.generate(prompt, 1, suppress_tokens=range(V))
    with pytest.raises(ValueError, match="suppress_tokens must be token ids"):
        model.generate(prompt, 1, suppress_tokens=[V])
