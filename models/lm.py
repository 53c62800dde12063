"""A decoder-only Transformer language model (GPT: Radford et al. 2018, 2019), after nanoGPT.

Read top-down: the config, the sampling helpers (temperature, top-k, top-p), then the model::

    idx (B, T) -> tok_emb(idx) + pos_emb(0..T-1) -> dropout
               -> num_layers blocks: x + attn(ln(x)) with causal_mask(T), x + ff(ln(x))
               -> ln_f -> lm_head, or the tied token embedding -> logits (B, T, V)

The blocks are ``models.transformer.EncoderLayer`` (pre-norm) run with ``causal_mask(T)``, so
position t sees positions 0..t only; the attention is ``models.attention.MultiHeadAttention``.
Positions are learned (``pos_emb``, one row per position up to ``block_size``), so a model
never reads more than ``block_size`` tokens at once.

Generation (``generate``, ``generate_stream``) keeps a ``KVCache`` per block: the prompt is
read in one pass, then each new token costs one position (its query attends to the cached
keys and values) instead of a re-run of the whole prefix. Context rules, the same with and
without the cache (``use_cache=False`` recomputes everything, for checking):

- the model reads the last ``block_size`` tokens (prompt and generated so far), as
  nanoGPT's ``generate`` does: a longer prompt is cropped to them;
- once more than ``block_size`` tokens exist, the window slides by one token per step.
  Absolute learned positions then shift under every token, so no cache can be reused: each
  such step reads the whole window in one pass (``block_size`` positions per token instead
  of one). Up to ``block_size`` tokens, each new token costs one position.

Encoded example (the ``text`` task on "hello world\\n", char vocabulary: ids 4.. are
"\\n", " ", "d", "e", "h", "l", "o", "r", "w"): the prompt "hell" is ``[8, 7, 9, 9]``;
``model.generate([8, 7, 9, 9], 2, temperature=0)`` returns the prompt and the two greedy next
ids, e.g. ``array([8, 7, 9, 9, 10, 5])`` ("hello ") for a trained model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.errors import ShapeError
from minigrad.functional import linear
from minigrad.nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, init
from minigrad.rng import default_generator

from .attention import KVCache, causal_mask
from .base import as_tokens, check_int, eval_mode, linear_parameters
from .transformer import EncoderLayer, block_parameters, check_block_config

TokensLike = Any  # a 1-D or 2-D integer ndarray, Tensor or list


@dataclass
class LMConfig:
    """Hyper-parameters of ``lm`` (``models.build("lm", vocab_size, **hyper)``)."""

    d_model: int = 64  # model width (embeddings, attention, residual stream)
    num_heads: int = 4  # attention heads; must divide d_model
    ff_dim: int = 256  # hidden width of each block's feed-forward (4 * d_model)
    num_layers: int = 2  # Transformer blocks
    block_size: int = 64  # longest context the model reads (rows of the position table); the text task's default
    dropout: float = 0.0  # after the embeddings, on attention weights, in the feed-forward, on residual branches
    activation: str = "gelu"  # feed-forward non-linearity: "gelu" (GPT-2) or "relu"
    tie_embeddings: bool = True  # the output layer is the token embedding matrix (Press & Wolf 2017)

    def validate(self) -> "LMConfig":
        """Raise ValueError naming the first inconsistent field; return self."""
        check_block_config(self, ints=("d_model", "num_heads", "ff_dim", "num_layers", "block_size"),
                           flags=("tie_embeddings",))
        return self


def lm_parameter_count(config: LMConfig, vocab_size: int) -> int:
    """How many parameters ``LanguageModel(vocab_size, config)`` has, counted from the sizes alone
    (nothing is allocated): the token and position tables, the blocks, ``ln_f`` and ``lm_head``."""
    d = config.d_model
    count = (vocab_size + config.block_size) * d + config.num_layers * block_parameters(d, config.ff_dim) + 2 * d
    return count + (0 if config.tie_embeddings else linear_parameters(d, vocab_size, bias=False))


# =============================================================================== sampling


def check_sampling(temperature: Any, top_k: Any, top_p: Any) -> None:
    """ValueError unless temperature >= 0 (finite), top_k is None or an int >= 1, top_p is None or in (0, 1]."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)) \
            or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"generate: temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"generate: top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.floating))
                              or not 0.0 < top_p <= 1.0):
        raise ValueError(f"generate: top_p must be None or a number in (0, 1], got {top_p!r}")


def filter_logits(logits: np.ndarray, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Logits (..., V) with every token outside the sampling support set to -inf (a new float64 array).

    ``top_k``: keep the k largest logits (ties at the k-th value are all kept; k > V keeps
    all). ``top_p`` (nucleus sampling, Holtzman et al. 2020): then keep the smallest set of
    most likely tokens whose probabilities sum to at least ``top_p``; the most likely token
    is always kept. Both given: top-k first, then top-p over what remains.
    """
    out = np.array(logits, dtype=np.float64)
    V = out.shape[-1]
    if top_k is not None and top_k < V:
        kth = np.partition(out, V - top_k, axis=-1)[..., V - top_k: V - top_k + 1]  # (..., 1) the k-th largest
        out[out < kth] = -np.inf
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-out, axis=-1, kind="stable")  # (..., V) most likely first
        sorted_logits = np.take_along_axis(out, order, axis=-1)
        probs = np.exp(sorted_logits - sorted_logits[..., :1])
        probs /= probs.sum(axis=-1, keepdims=True)
        before = np.cumsum(probs, axis=-1)
        before[..., 1:] = before[..., :-1].copy()  # mass of the tokens ranked above each one
        before[..., 0] = 0.0
        drop_sorted = before >= top_p - 1e-9  # enough mass without this token; 1e-9: rounding
        drop_sorted[..., 0] = False  # the most likely token stays, however small top_p is
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        out[drop] = -np.inf
    return out


def sample_next(logits: np.ndarray, temperature: float, top_k: int | None, top_p: float | None,
                rng: np.random.Generator) -> np.ndarray:
    """One token per row of ``logits`` (B, V) -> int64 (B,).

    ``temperature == 0`` is greedy (the argmax; top_k and top_p change nothing then and no
    random number is drawn). Otherwise tokens are drawn from softmax(logits / temperature)
    restricted to ``filter_logits(..., top_k, top_p)``, one uniform number per row from
    ``rng``, by inverting the cumulative distribution. Logits of -inf (suppressed tokens) are
    never drawn; a temperature so small that the others overflow samples the argmax.
    """
    if temperature == 0:
        return np.argmax(logits, axis=-1).astype(np.int64)
    logits = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):  # the largest is 0 before dividing: the others may go to -inf, never to NaN
        scaled = (logits - logits.max(axis=-1, keepdims=True)) / temperature  # (B, V)
    scaled = filter_logits(scaled, top_k, top_p)
    probs = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    cdf = np.cumsum(probs, axis=-1)  # (B, V), flat across tokens of probability 0
    u = rng.random(len(cdf)) * cdf[:, -1]  # (B,)
    tokens = (cdf <= u[:, None]).sum(axis=-1)  # first index whose cdf exceeds u
    return np.minimum(tokens, logits.shape[-1] - 1).astype(np.int64)


# =============================================================================== the model


class LanguageModel(Module):
    """Decoder-only causal Transformer: ``forward(idx (B, T)) -> logits (B, T, V)``.

    Submodules (state_dict prefixes): ``tok_emb`` Embedding(V, d), ``pos_emb``
    Embedding(block_size, d), ``drop``, ``blocks.{i}`` (``EncoderLayer``: ``self_attn``,
    ``ff``, ``norm1``, ``norm2``), ``ln_f`` LayerNorm(d), and ``lm_head`` Linear(d, V,
    bias=False) unless ``tie_embeddings`` (then logits = x @ tok_emb.weight^T and there is no
    ``lm_head``). Initialisation follows GPT-2: weights N(0, 0.02), biases 0, and the two
    projections that write into the residual stream (``self_attn.out_proj``, ``ff.linear2``)
    N(0, 0.02 / sqrt(2 * num_layers)).

    ``blocks[i].self_attn.last_weights`` holds the last call's attention (B, H, T, T_keys).
    """

    def __init__(self, vocab_size: int, config: LMConfig | None = None):
        super().__init__()
        cfg = (config or LMConfig()).validate()
        check_int("LanguageModel", "vocab_size", vocab_size)
        self.config = cfg
        self.vocab_size = int(vocab_size)
        self.tok_emb = Embedding(vocab_size, cfg.d_model)
        self.pos_emb = Embedding(cfg.block_size, cfg.d_model)
        self.drop = Dropout(cfg.dropout)
        self.blocks = ModuleList([
            EncoderLayer(cfg.d_model, cfg.num_heads, cfg.ff_dim, cfg.dropout, cfg.activation, norm_first=True)
            for _ in range(cfg.num_layers)
        ])
        self.ln_f = LayerNorm(cfg.d_model)
        self.lm_head = None if cfg.tie_embeddings else Linear(cfg.d_model, vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.config.num_layers)
        for name, module in self.named_modules():
            if isinstance(module, (Linear, Embedding)):
                std = residual_std if name.endswith(("self_attn.out_proj", "ff.linear2")) else 0.02
                init.normal_(module.weight, 0.0, std)
                if getattr(module, "bias", None) is not None:
                    init.zeros_(module.bias)

    # ------------------------------------------------------------------ forward

    def _run(self, idx: np.ndarray, caches: list[KVCache] | None = None) -> Tensor:
        """idx (B, T) -> logits (B, T, V), reading positions offset..offset+T-1.

        Without ``caches`` the offset is 0 and the mask is ``causal_mask(T)``. With caches
        (one per block) the offset is the number of cached positions; the new positions
        attend to the cache and causally to each other (mask (T, offset + T)).
        """
        B, T = idx.shape
        offset = 0 if caches is None else len(caches[0])
        if offset + T > self.config.block_size:
            raise ShapeError(
                f"LanguageModel: {offset + T} positions ({offset} cached + {T} new) exceed block_size "
                f"{self.config.block_size}; crop the input to the last {self.config.block_size} tokens"
            )
        pos = np.arange(offset, offset + T)  # (T,)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, d) + (T, d)
        mask = None if T == 1 else causal_mask(offset + T)[offset:]  # (T, offset + T); one new query sees everything
        for i, block in enumerate(self.blocks):
            x = block(x, mask, None if caches is None else caches[i])  # (B, T, d)
        x = self.ln_f(x)
        return linear(x, self.tok_emb.weight) if self.lm_head is None else self.lm_head(x)  # (B, T, V)

    def forward(self, idx: TokensLike) -> Tensor:
        """idx: integer tokens (B, T), T <= block_size -> logits (B, T, vocab_size).

        ``logits[:, t]`` scores the token at position t + 1 and depends on ``idx[:, :t+1]`` only.
        """
        return self._run(as_tokens(idx, "LanguageModel: idx"))

    # ------------------------------------------------------------------ generation

    def _prompt(self, prompt_tokens: TokensLike) -> tuple[np.ndarray, bool]:
        """(B, T) int64 prompt (checked, not cropped) and whether it was 1-D."""
        a = prompt_tokens.data if isinstance(prompt_tokens, Tensor) else np.asarray(prompt_tokens)
        if a.ndim == 1 and a.size == 0:
            raise ValueError("generate: the prompt is empty; give at least one token to start from")
        if a.ndim not in (1, 2):
            raise ShapeError(f"generate: prompt_tokens must be a 1-D sequence (T,) or a batch (B, T), got shape {a.shape}")
        single = a.ndim == 1
        prompt = as_tokens(a[None] if single else a, "generate: prompt_tokens")
        if prompt.shape[1] == 0:
            raise ValueError("generate: the prompt is empty; give at least one token to start from")
        if prompt.min() < 0 or prompt.max() >= self.vocab_size:
            bad = prompt[(prompt < 0) | (prompt >= self.vocab_size)][0]
            raise ValueError(f"generate: prompt token {bad} is outside the vocabulary [0, {self.vocab_size})")
        return prompt, single

    def _suppressed(self, suppress_tokens: Any) -> np.ndarray | None:
        """Bool (V,) of the tokens never to sample, or None."""
        if suppress_tokens is None:
            return None
        ids = np.asarray(list(suppress_tokens))
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"generate: suppress_tokens must be token ids in [0, {self.vocab_size}), got {ids.tolist()}")
        banned = np.zeros(self.vocab_size, dtype=np.bool_)
        banned[ids.astype(np.int64)] = True
        if banned.all():
            raise ValueError("generate: suppress_tokens leaves no token to sample")
        return banned

    def _start(self, prompt_tokens: TokensLike, max_new_tokens: int, temperature: float, top_k: int | None,
               top_p: float | None, seed: int | None, use_cache: bool,
               suppress_tokens: Any) -> tuple[Iterator[np.ndarray], bool, np.ndarray]:
        """Check the arguments now and return (the step generator, whether the prompt was 1-D, the (B, T) prompt)."""
        check_int("generate", "max_new_tokens", max_new_tokens, minimum=0)
        check_sampling(temperature, top_k, top_p)
        if seed is not None:
            check_int("generate", "seed", seed, minimum=0)
        banned = self._suppressed(suppress_tokens)
        prompt, single = self._prompt(prompt_tokens)
        rng = default_generator() if seed is None else np.random.default_rng(seed)
        context = prompt[:, -self.config.block_size:]  # the model never reads more than a block
        steps = self._steps(context, int(max_new_tokens), float(temperature), top_k, top_p, rng, bool(use_cache), banned)
        return steps, single, prompt

    def generate_stream(self, prompt_tokens: TokensLike, max_new_tokens: int, temperature: float = 1.0,
                        top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                        use_cache: bool = True, suppress_tokens: Any = None) -> Iterator[Any]:
        """Yield new tokens one at a time (arguments as ``generate``).

        Yields an ``int`` per step for a 1-D prompt, an int64 (B,) array for a (B, T) batch.
        Arguments are checked when this is called, before the first token. Each model call
        runs under ``no_grad`` in evaluation mode; between yields the caller's grad mode and
        the module's training flags are untouched.
        """
        steps, single, _ = self._start(prompt_tokens, max_new_tokens, temperature, top_k, top_p, seed, use_cache,
                                       suppress_tokens)
        return (int(tokens[0]) for tokens in steps) if single else steps

    def _steps(self, prompt: np.ndarray, max_new_tokens: int, temperature: float, top_k: int | None,
               top_p: float | None, rng: np.random.Generator, use_cache: bool,
               banned: np.ndarray | None) -> Iterator[np.ndarray]:
        block = self.config.block_size
        B, T0 = prompt.shape
        seq = np.empty((B, T0 + max_new_tokens), dtype=np.int64)  # every token so far
        seq[:, :T0] = prompt
        n, start = T0, 0  # tokens so far; the context is seq[:, start:n]
        caches: list[KVCache] | None = None
        for _ in range(max_new_tokens):
            with no_grad(), eval_mode(self):
                if not use_cache or (caches is None and n - start == block):
                    logits = self._run(seq[:, start:n])  # a full window: the next step slides it, no cache to keep
                elif caches is None:  # read the whole context in one pass
                    caches = [KVCache() for _ in self.blocks]
                    logits = self._run(seq[:, start:n], caches)
                else:  # read only the newest token
                    logits = self._run(seq[:, n - 1:n], caches)
            next_logits = logits.data[:, -1]  # (B, V)
            if banned is not None:
                next_logits = np.where(banned, -np.inf, next_logits)
            tokens = sample_next(next_logits, temperature, top_k, top_p, rng)  # (B,)
            seq[:, n] = tokens
            n += 1
            if n - start > block:  # slide the window; positions shift, so the cache is void
                start, caches = n - block, None
            yield tokens

    def generate(self, prompt_tokens: TokensLike, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                 use_cache: bool = True, suppress_tokens: Any = None) -> np.ndarray:
        """Sample ``max_new_tokens`` tokens after ``prompt_tokens``; returns prompt and new tokens.

        ``prompt_tokens``: token ids (T,) or a batch (B, T) (list, ndarray or integer Tensor),
        at least one token, each in [0, vocab_size). Each step reads the last ``block_size``
        tokens of prompt and output (see the module docstring). Returns int64 (T +
        max_new_tokens,) or (B, T + max_new_tokens): the whole prompt followed by the new
        tokens, as nanoGPT's ``generate`` (``out[..., -max_new_tokens:]`` are the new ones;
        ``generate_stream`` yields only those).

        ``temperature``: logits are divided by it; 0 means greedy decoding (argmax, no
        randomness). ``top_k``: sample among the k most likely tokens only. ``top_p``: sample
        from the smallest set of most likely tokens holding probability >= top_p (see
        ``filter_logits``). ``seed``: draw from ``numpy.random.default_rng(seed)``, so the
        same seed gives the same tokens; None draws from minigrad's generator (reproducible
        after ``minigrad.manual_seed``). ``use_cache=False`` recomputes the whole context at
        every step (same tokens, slower; for checking the cache). ``suppress_tokens``: ids
        never to sample (e.g. the special tokens, which never occur in a training text).

        ValueError for a bad argument (negative temperature, top_k < 1, top_p outside
        (0, 1], an empty prompt, a token outside the vocabulary, suppressing every token).
        """
        steps, single, prompt = self._start(prompt_tokens, max_new_tokens, temperature, top_k, top_p, seed, use_cache,
                                            suppress_tokens)
        new = [tokens[:, None] for tokens in steps]  # each (B, 1)
        out = np.concatenate([prompt, *new], axis=1)  # (B, T + max_new_tokens)
        return out[0] if single else out

    def extra_repr(self) -> str:
        c = self.config
        return (f"vocab_size={self.vocab_size}, d_model={c.d_model}, num_layers={c.num_layers}, "
                f"num_heads={c.num_heads}, block_size={c.block_size}, tie_embeddings={c.tie_embeddings}")
