"""models: attention modules and sequence-to-sequence models built on minigrad, by name.

    >>> from minigrad import models
    >>> models.names()[:5]
    ['rnn', 'rnn-attn', 'rnn-luong', 'transformer', 'encoder']
    >>> model = models.build("rnn-attn", 14, 14, hidden_dim=64)
    >>> type(model).__name__, model.config.hidden_dim
    ('RNNSeq2Seq', 64)

Names: ``rnn`` (GRU/LSTM encoder-decoder, no attention; Sutskever et al. 2014),
``rnn-attn`` (Bahdanau attention), ``rnn-luong`` (Luong attention), ``transformer``
(Vaswani et al. 2017) and ``encoder`` (the Transformer encoder alone, one output per input
position). Every model shares the ``models.base.Seq2Seq`` interface: ``forward(src, tgt_in,
src_lengths=None) -> logits``, ``greedy_decode(src, max_len)``, ``beam_search(src, beam_size,
max_len)``. ``lm`` is the decoder-only language model (``models.lm``): one vocabulary,
``models.build("lm", vocab_size, **hyper)``, ``forward(idx) -> logits`` and ``generate``.

Hyper-parameters are the fields of ``config_for(name)`` (a dataclass holding the defaults);
the special token ids ``pad_id``, ``bos_id``, ``eos_id`` (0, 1, 2) are separate keyword
arguments of ``build``. ``parameter_count(name, src_vocab, tgt_vocab, **hyper)`` counts the
parameters ``build`` would make without building (``training_memory``: the bytes training
keeps for them), so a size no machine can hold is refused before anything is allocated.
``models.training`` holds the training loop and ``models.checkpoint`` the checkpoint
directories; both use ``tasks`` (the data layer). This package never imports ``cli``, and
``tasks`` never imports it.
"""

from __future__ import annotations

from .attention import (
    BahdanauAttention, KVCache, LuongAttention, MultiHeadAttention, causal_mask, padding_mask,
    scaled_dot_product_attention,
)
from .base import Seq2Seq
from .lm import LanguageModel, LMConfig
from .registry import BYTES_PER_PARAMETER, TRAINING_COPIES, build, config_for, names, parameter_count, training_memory
from .rnn import RNNConfig, RNNSeq2Seq
from .transformer import Transformer, TransformerConfig, TransformerEncoderModel

# The training loop and checkpoints use tasks (the data layer below models); tasks never imports models.
from . import checkpoint, training  # noqa: E402  (after the registry, which they use)

__all__ = [
    "build", "names", "config_for", "parameter_count", "training_memory",
    "Seq2Seq", "RNNConfig", "RNNSeq2Seq", "TransformerConfig", "Transformer",
    "TransformerEncoderModel", "LMConfig", "LanguageModel", "MultiHeadAttention", "BahdanauAttention", "LuongAttention", "KVCache",
    "scaled_dot_product_attention", "causal_mask", "padding_mask",
]
