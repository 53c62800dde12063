"""``models.parameter_count`` and ``models.training_memory``: sizes counted from the config, nothing built."""

from __future__ import annotations

import pytest

from minigrad import models

RNN_SIZES = [
    dict(embed_dim=3, hidden_dim=5),
    dict(embed_dim=4, hidden_dim=6, num_layers=3, cell="lstm"),
    dict(embed_dim=2, hidden_dim=3, num_layers=2, bidirectional=True),
    dict(embed_dim=5, hidden_dim=4, num_layers=2, bidirectional=True, cell="lstm"),
]
LUONG_SIZES = [dict(embed_dim=3, hidden_dim=5, luong_score=score) for score in ("dot", "general", "concat")] + [
    dict(embed_dim=2, hidden_dim=3, num_layers=2, bidirectional=True, cell="lstm", luong_score="concat")]
TRANSFORMER_SIZES = [
    dict(d_model=8, num_heads=2, ff_dim=12, num_layers=1),
    dict(d_model=12, num_heads=3, ff_dim=5, num_layers=3, norm_first=False),
    dict(d_model=8, num_heads=4, ff_dim=16, num_layers=2, tie_embeddings=True),
]
LM_SIZES = [
    dict(d_model=8, num_heads=2, ff_dim=12, num_layers=1, block_size=5),
    dict(d_model=12, num_heads=3, ff_dim=20, num_layers=3, block_size=9, tie_embeddings=False),
]
CASES = ([("rnn", h) for h in RNN_SIZES] + [("rnn-attn", h) for h in RNN_SIZES]
         + [("rnn-luong", h) for h in RNN_SIZES[:1] + RNN_SIZES[3:] + LUONG_SIZES]
         + [("transformer", h) for h in TRANSFORMER_SIZES]
         + [("encoder", h) for h in TRANSFORMER_SIZES[:2]] + [("lm", h) for h in LM_SIZES])


def _vocabularies(name: str, hyper: dict) -> tuple[int, int]:
    """Different source and target sizes, except where the model needs one vocabulary."""
    one = name == "lm" or (name == "encoder" and hyper.get("tie_embeddings", False))
    return (13, 13) if one else (11, 7)


@pytest.mark.parametrize("name, hyper", CASES)
def test_the_count_equals_the_parameters_of_the_built_model(name, hyper):
    src, tgt = _vocabularies(name, hyper)
    model = models.build(name, src, tgt, **hyper)
    assert models.parameter_count(name, src, tgt, **hyper) == sum(p.size for p in model.parameters())


@pytest.mark.parametrize("name", models.names())
def test_every_model_is_counted_at_its_defaults(name):
    src = tgt = 9
    model = models.build(name, src, tgt)
    assert models.parameter_count(name, src, tgt) == sum(p.size for p in model.parameters())
    assert models.parameter_count(name, src) == models.parameter_count(name, src, src)  # tgt defaults to src


def test_training_memory_is_parameters_gradients_and_two_moments_in_float32():
    count = models.parameter_count("rnn-attn", 10, 10, hidden_dim=32)
    assert models.training_memory("rnn-attn", 10, 10, hidden_dim=32) == 4 * 4 * count


def test_a_size_that_cannot_be_allocated_is_counted_without_allocating():
    # hidden_dim 10**7: one recurrent weight alone has 3 * 10**14 entries (over a petabyte).
    count = models.parameter_count("rnn-attn", 10, 10, hidden_dim=10**7)
    assert count > 3 * 10**14
    assert models.parameter_count("lm", 50, block_size=10**12, d_model=64) > 64 * 10**12


def test_the_count_checks_hyper_parameters_as_build_does():
    with pytest.raises(ValueError, match="unknown hyper-parameter 'hiden_dim'"):
        models.parameter_count("rnn", 5, hiden_dim=8)
    with pytest.raises(ValueError, match="hidden_dim must be an int >= 1"):
        models.parameter_count("rnn", 5, hidden_dim=0)
    with pytest.raises(ValueError, match="unknown model 'gpt'"):
        models.parameter_count("gpt", 5)
