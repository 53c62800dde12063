"""The model registry: names, their hyper-parameter dataclasses, ``build`` and the size counts.

``models.build``, ``models.names``, ``models.config_for``, ``models.parameter_count`` and
``models.training_memory`` are these functions (see the ``models`` package docstring).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Callable

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
