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
This package never imports ``tasks`` or ``cli``.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Callable

from .attention import (
    BahdanauAttention, KVCache, LuongAttention, MultiHeadAttention, causal_mask, padding_mask,
    scaled_dot_product_attention,
)
from .base import Seq2Seq, check_int
from .lm import LanguageModel, LMConfig, lm_parameter_count
from .rnn import RNNConfig, RNNSeq2Seq, rnn_parameter_count
from .transformer import Transformer, TransformerConfig, TransformerEncoderModel, transformer_parameter_count

_Builder = Callable[..., Seq2Seq]


def _rnn(attention: str | None) -> _Builder:
    def make(src: int, tgt: int, config: RNNConfig, **ids: int) -> Seq2Seq:
        return RNNSeq2Seq(src, tgt, config, attention=attention, **ids)

    return make


def _lm(src: int, tgt: int, config: LMConfig, **ids: int) -> LanguageModel:
    if tgt != src:
        raise ValueError(f"model 'lm' has one vocabulary: build('lm', vocab_size), got {src} and {tgt}")
    return LanguageModel(src, config)  # no padding, BOS or EOS: the special ids do not apply


_REGISTRY: dict[str, tuple[type, _Builder]] = {
    "rnn": (RNNConfig, _rnn(None)),
    "rnn-attn": (RNNConfig, _rnn("bahdanau")),
    "rnn-luong": (RNNConfig, _rnn("luong")),
    "transformer": (TransformerConfig, Transformer),
    "encoder": (TransformerConfig, TransformerEncoderModel),
    "lm": (LMConfig, _lm),
}

# (config, src_vocab_size, tgt_vocab_size) -> the number of parameters the builder above would make.
_PARAMETER_COUNTS: dict[str, Callable[[Any, int, int], int]] = {
    "rnn": lambda config, src, tgt: rnn_parameter_count(config, src, tgt, None),
    "rnn-attn": lambda config, src, tgt: rnn_parameter_count(config, src, tgt, "bahdanau"),
    "rnn-luong": lambda config, src, tgt: rnn_parameter_count(config, src, tgt, "luong"),
    "transformer": lambda config, src, tgt: transformer_parameter_count(config, src, tgt, decoder=True),
    "encoder": lambda config, src, tgt: transformer_parameter_count(config, src, tgt, decoder=False),
    "lm": lambda config, src, tgt: lm_parameter_count(config, src),
}
# Training keeps four float32 numbers per parameter: the parameter, its gradient and Adam's two moments.
BYTES_PER_PARAMETER = 4
TRAINING_COPIES = 4


def names() -> list[str]:
    """The model names ``build`` accepts."""
    return list(_REGISTRY)


def _entry(name: str) -> tuple[type, _Builder]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def config_for(name: str) -> Any:
    """The hyper-parameter dataclass of model ``name``, holding the defaults (a fresh instance)."""
    return _entry(name)[0]()


def build(name: str, src_vocab_size: int | None = None, tgt_vocab_size: int | None = None, *, pad_id: int = 0,
          bos_id: int = 1, eos_id: int = 2, vocab_size: int | None = None, **hyper: Any) -> Seq2Seq | LanguageModel:
    """Build model ``name`` for the given vocabularies (``tgt_vocab_size`` defaults to the source's).

    ``lm`` has one vocabulary: ``build("lm", vocab_size, **hyper)`` or ``build("lm",
    vocab_size=V)``; ``vocab_size=V`` also means "source and target vocabularies of size V"
    for the seq2seq models.

    ``hyper`` overrides fields of ``config_for(name)``; an unknown one, or an inconsistent
    value (num_heads not dividing d_model, a non-positive size, a cell other than gru/lstm,
    ...), raises ValueError with one message naming it.
    """
    if vocab_size is not None:
        if src_vocab_size is not None:
            raise TypeError(f"build({name!r}): give the vocabulary size once, as vocab_size or positionally")
        src_vocab_size = vocab_size
    if src_vocab_size is None:
        raise TypeError(f"build({name!r}): the vocabulary size is missing: build({name!r}, vocab_size, ...)")
    config = _config(name, hyper)
    tgt_vocab_size = src_vocab_size if tgt_vocab_size is None else tgt_vocab_size
    return _entry(name)[1](src_vocab_size, tgt_vocab_size, config, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)


def _config(name: str, hyper: dict[str, Any]) -> Any:
    """``config_for(name)`` with ``hyper`` applied and validated; ValueError naming an unknown or bad field."""
    config_cls = _entry(name)[0]
    valid = [f.name for f in fields(config_cls)]
    unknown = [key for key in hyper if key not in valid]
    if unknown:
        raise ValueError(
            f"unknown hyper-parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for model {name!r}; "
            f"valid: {', '.join(valid)}"
        )
    return replace(config_cls(), **hyper).validate()


def parameter_count(name: str, src_vocab_size: int, tgt_vocab_size: int | None = None, **hyper: Any) -> int:
    """How many parameters ``build(name, src_vocab_size, tgt_vocab_size, **hyper)`` would have.

    Counted from the sizes, without building anything, so it answers at once for sizes no
    machine could allocate. ``hyper`` is checked as ``build`` checks it (ValueError); the
    checks that need the vocabularies together (one vocabulary for ``lm``, equal ones for a
    tied ``encoder``) are left to ``build``.
    """
    config = _config(name, hyper)
    for label, size in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size)):
        if size is not None:
            check_int(f"parameter_count({name!r})", label, size)
    tgt_vocab_size = src_vocab_size if tgt_vocab_size is None else tgt_vocab_size
    return _PARAMETER_COUNTS[name](config, src_vocab_size, tgt_vocab_size)


def training_memory(name: str, src_vocab_size: int, tgt_vocab_size: int | None = None, **hyper: Any) -> int:
    """Bytes that training ``build(name, ...)`` keeps for as long as it runs: each float32 parameter,
    its gradient and Adam's two moment buffers (activations come on top, and grow with the batch)."""
    count = parameter_count(name, src_vocab_size, tgt_vocab_size, **hyper)
    return TRAINING_COPIES * BYTES_PER_PARAMETER * count


def __getattr__(name: str) -> Any:
    """``models.training`` and ``models.checkpoint`` on first use (they import ``tasks``, which
    a plain ``import models`` does not)."""
    if name in ("training", "checkpoint"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "build", "names", "config_for", "parameter_count", "training_memory",
    "Seq2Seq", "RNNConfig", "RNNSeq2Seq", "TransformerConfig", "Transformer",
    "TransformerEncoderModel", "LMConfig", "LanguageModel", "MultiHeadAttention", "BahdanauAttention", "LuongAttention", "KVCache",
    "scaled_dot_product_attention", "causal_mask", "padding_mask",
]
