"""``models.build``, ``models.names``, ``models.config_for``: names, defaults, validation."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from minigrad import models
from minigrad.models import RNNSeq2Seq, Transformer, TransformerEncoderModel


SEQ2SEQ_NAMES = ["rnn", "rnn-attn", "rnn-luong", "transformer", "encoder"]


def test_names():
    assert models.names()[:5] == SEQ2SEQ_NAMES  # other families (the language model) may follow


def test_default_hyper_parameters_are_the_documented_ones():
    rnn = models.config_for("rnn-attn")
    assert (rnn.embed_dim, rnn.hidden_dim, rnn.num_layers, rnn.cell, rnn.bidirectional, rnn.dropout) == (
        64, 128, 1, "gru", False, 0.0)
    assert rnn.teacher_forcing_ratio == 1.0 and rnn.luong_score == "general"
    tf = models.config_for("transformer")
    assert (tf.d_model, tf.num_heads, tf.ff_dim, tf.num_layers, tf.dropout) == (64, 4, 256, 2, 0.0)
    assert models.config_for("encoder") == tf


@pytest.mark.parametrize("name", SEQ2SEQ_NAMES)
def test_every_hyper_parameter_has_a_default_and_can_be_set(name):
    config = models.config_for(name)
    assert dataclasses.is_dataclass(config)
    for field in dataclasses.fields(config):
        assert field.default is not dataclasses.MISSING, field.name
    config.validate()
    model = models.build(name, 9, 7, **dataclasses.asdict(config))
    assert model.config == config
    assert models.config_for(name) is not models.config_for(name)  # a fresh instance each time


def test_build_picks_the_family_and_attention():
    assert isinstance(models.build("rnn", 5), RNNSeq2Seq) and models.build("rnn", 5).attention_type is None
    assert models.build("rnn-attn", 5).attention_type == "bahdanau"
    assert models.build("rnn-luong", 5, luong_score="dot").attention.score == "dot"
    assert isinstance(models.build("transformer", 5, 6), Transformer)
    encoder = models.build("encoder", 5)
    assert isinstance(encoder, TransformerEncoderModel) and encoder.tgt_vocab_size == 5
    assert models.build("transformer", 5).tgt_vocab_size == 5  # tgt_vocab_size defaults to the source's
    special = models.build("rnn", 5, pad_id=4, bos_id=3, eos_id=0)
    assert (special.pad_id, special.bos_id, special.eos_id) == (4, 3, 0)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'gpt'.*rnn, rnn-attn, rnn-luong, transformer, encoder"):
        models.build("gpt", 5)
    with pytest.raises(ValueError, match="unknown model"):
        models.config_for("gpt")


def test_unknown_hyper_parameter_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown hyper-parameter 'd_model' for model 'rnn'; valid: embed_dim, hidden_dim"):
        models.build("rnn", 5, d_model=32)
    with pytest.raises(ValueError, match="'hidden_size'.*valid: d_model"):
        models.build("transformer", 5, hidden_size=32)


@pytest.mark.parametrize("name, hyper, message", [
    ("transformer", {"num_heads": 3}, r"num_heads \(3\) must divide d_model \(64\)"),
    ("encoder", {"d_model": -8}, "d_model must be an int >= 1, got -8"),
    ("transformer", {"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ("transformer", {"activation": "tanh"}, "activation must be one of relu, gelu"),
    ("rnn", {"cell": "rnn"}, "cell must be one of gru, lstm, got 'rnn'"),
    ("rnn", {"hidden_dim": 0}, "hidden_dim must be an int >= 1"),
    ("rnn-attn", {"num_layers": 1.5}, "num_layers must be an int"),
    ("rnn-attn", {"teacher_forcing_ratio": 2.0}, "teacher_forcing_ratio"),
    ("rnn-luong", {"luong_score": "cosine"}, "luong_score must be one of dot, general, concat"),
    ("rnn", {"bidirectional": "yes"}, "bidirectional must be True or False"),
])
def test_inconsistent_options_raise_one_clear_value_error(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        models.build(name, 5, **hyper)


def test_bad_vocabulary_size():
    with pytest.raises(ValueError, match="src_vocab_size"):
        models.build("rnn-attn", 0)


def test_models_never_imports_cli():
    code = ("import sys, minigrad.models; "
            "bad = [m for m in sys.modules if m.startswith('minigrad.cli')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples_run():
    import doctest

    import minigrad.models.attention
    import minigrad.models.base
    import minigrad.models.rnn
    import minigrad.models.transformer

    for module in (models, models.attention, models.base, models.rnn, models.transformer):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_vocab_size_by_keyword():
    lm = models.build("lm", vocab_size=50)
    assert lm.vocab_size == 50 and models.build("lm", 50).vocab_size == 50
    seq = models.build("rnn", vocab_size=12)
    assert seq.src_vocab_size == seq.tgt_vocab_size == 12
    with pytest.raises(TypeError, match="once"):
        models.build("lm", 50, vocab_size=50)
    with pytest.raises(TypeError, match="vocabulary size is missing"):
        models.build("lm")


def test_training_helpers_are_reachable_as_attributes():
    import subprocess
    import sys

    code = ("import minigrad.models as models; "
            "print(callable(models.training.evaluate), callable(models.checkpoint.save_checkpoint))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        models.nope  # noqa: B018
