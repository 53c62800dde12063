"""Synthetic seq2seq tasks generated from a seed: copy, reverse, sort and add.

Every synthetic task draws ``train_size + valid_size + test_size`` distinct sources with
``numpy.random.default_rng(seed)`` and cuts them, in drawing order, into train, valid and
test, so the splits never share a source and the same options always give the same splits.

The work is bounded whatever the options: sequences hold at most ``MAX_SYMBOL_LEN`` symbols
of at most ``MAX_VOCAB_SIZE`` kinds, the splits at most ``MAX_SOURCE_TOKENS`` source tokens
in all, and the number of distinct sources is counted only up to ``SPACE_LIMIT``. Options
beyond these are refused with a TaskError naming them.
"""

from __future__ import annotations

import math
import re
from typing import Any, Hashable, Sequence

import numpy as np

from minigrad.tasks.base import Pair, Seq2SeqTask, check_int, check_seed, resolve_options
from minigrad.tasks.errors import TaskError
from minigrad.tasks.vocab import SPECIAL_TOKENS, Vocab

DEFAULT_SIZES = {"train_size": 10000, "valid_size": 1000, "test_size": 1000}
SIZE_OPTIONS = tuple(DEFAULT_SIZES)
# Generation holds (sources x longest source) int64 token ids at once, plus the pairs: 80 MB of ids here.
MAX_SOURCE_TOKENS = 10_000_000
# Longer sequences give attention matrices (T x T per head and layer) that no CPU run trains through.
MAX_SYMBOL_LEN = 1000
# Beyond it building the vocabulary dominates making the task, and most symbols occur in no training example.
MAX_VOCAB_SIZE = 100_000
# Distinct sources are counted up to here (it fits int64): the count is only compared with split
# sizes, which MAX_SOURCE_TOKENS keeps far below it, so a larger space behaves as this one.
SPACE_LIMIT = 2**62


class SyntheticTask(Seq2SeqTask):
    """Shared machinery: option checking, split sizes, distinct sampling, lazy generation.

    Subclasses define ``DEFAULTS`` (their options besides ``seed`` and the sizes),
    ``_check(options)`` (validate and set up vocabularies and length bounds),
    ``_space_size()`` (how many distinct sources exist, or ``SPACE_LIMIT`` when there are
    more; counted without enumerating them), ``_sample(rng, n)`` (n random
    source keys, repeats allowed), ``_subset(rng, k)`` (k distinct keys drawn uniformly from
    the whole space; used when the space is small) and ``_make_pair(key)``.

    Split sizes: when none is given and the space holds fewer than 12,000 distinct sources,
    valid and test get ``max(1, space // 10)`` each and train the rest. Sizes given
    explicitly must fit in the space, or a TaskError says how many sources there are; all
    sources together may hold at most ``MAX_SOURCE_TOKENS`` tokens (counting ``max_src_len``
    per source).
    """

    DEFAULTS: dict[str, Any] = {}

    def __init__(self, **options: Any) -> None:
        defaults = {**self.DEFAULTS, "seed": 0, **{k: None for k in SIZE_OPTIONS}}
        opts = resolve_options(self.name, defaults, options)
        opts["seed"] = check_seed(self.name, opts["seed"])
        self.options = opts
        self._check(opts)
        self._resolve_sizes(opts)

    # -- subclass hooks -------------------------------------------------------------------

    def _check(self, opts: dict[str, Any]) -> None:
        raise NotImplementedError

    def _space_size(self) -> int:
        raise NotImplementedError

    def _sample(self, rng: np.random.Generator, n: int) -> list[Hashable]:
        raise NotImplementedError

    def _subset(self, rng: np.random.Generator, k: int) -> list[Hashable]:
        raise NotImplementedError

    def _make_pair(self, key: Hashable) -> Pair:
        raise NotImplementedError

    def _describe_space(self) -> str:
        return ", ".join(f"{k}={self.options[k]}" for k in self.DEFAULTS)

    # -- sizes and generation -------------------------------------------------------------

    def _resolve_sizes(self, opts: dict[str, Any]) -> None:
        space = self._space_size()
        given = {k: opts[k] for k in SIZE_OPTIONS if opts[k] is not None}
        if not given and space < sum(DEFAULT_SIZES.values()):
            held_out = max(1, space // 10)
            sizes = {"train_size": space - 2 * held_out, "valid_size": held_out, "test_size": held_out}
        else:
            sizes = {k: opts[k] if opts[k] is not None else DEFAULT_SIZES[k] for k in SIZE_OPTIONS}
        for key in SIZE_OPTIONS:
            sizes[key] = check_int(self.name, key, sizes[key], minimum=1 if key == "train_size" else 0)
        total = sum(sizes.values())
        self._check_token_budget(sizes, total)
        if total > space:
            raise TaskError(
                f"{self.name}: only {space} distinct sources exist with {self._describe_space()}, "
                f"but train_size {sizes['train_size']} + valid_size {sizes['valid_size']} + test_size {sizes['test_size']} = {total}; "
                "lower the sizes or widen the task"
            )
        opts.update(sizes)

    def _check_token_budget(self, sizes: dict[str, int], total: int) -> None:
        """TaskError unless ``total`` sources of up to ``max_src_len`` tokens fit in MAX_SOURCE_TOKENS."""
        if total * self.max_src_len <= MAX_SOURCE_TOKENS:
            return
        has_max_len = "max_len" in self.options
        longest = f"max_len {self.options['max_len']}" if has_max_len else "the longest source"
        raise TaskError(
            f"{self.name}: train_size {sizes['train_size']} + valid_size {sizes['valid_size']} + test_size "
            f"{sizes['test_size']} = {total} sources of up to {self.max_src_len} tokens ({longest}) exceed "
            f"{MAX_SOURCE_TOKENS:,} source tokens, the most a task generates; lower the sizes"
            + (" or max_len" if has_max_len else "")
        )

    def _draw_distinct(self, rng: np.random.Generator, total: int) -> list[Hashable]:
        if 2 * total > self._space_size():
            return self._subset(rng, total)
        seen: dict[Hashable, None] = {}
        stalled = 0
        while len(seen) < total:
            need, before = total - len(seen), len(seen)
            for key in self._sample(rng, need + need // 4 + 16):
                if key not in seen:
                    seen[key] = None
                    if len(seen) == total:
                        break
            stalled = stalled + 1 if len(seen) == before else 0
            if stalled == 100:  # a guard: with total <= space / 2 new sources keep coming
                raise TaskError(f"{self.name}: could draw only {len(seen)} of {total} distinct sources; lower the sizes")
        return list(seen)

    def _load_splits(self) -> dict[str, list[Pair]]:
        o = self.options
        rng = np.random.default_rng(o["seed"])
        n_train, n_valid, n_test = o["train_size"], o["valid_size"], o["test_size"]
        pairs = [self._make_pair(key) for key in self._draw_distinct(rng, n_train + n_valid + n_test)]
        return {
            "train": pairs[:n_train],
            "valid": pairs[n_train : n_train + n_valid],
            "test": pairs[n_train + n_valid :],
        }


# -- copy, reverse, sort --------------------------------------------------------------------


class SymbolTask(SyntheticTask):
    """Sequences of the symbols "0".."vocab_size-1"; symbol s has id 4 + s.

    Source lengths are uniform in [min_len, max_len] and symbols uniform (when the splits
    would take more than half of all possible sequences, a uniform subset of all of them is
    taken instead). ``src_vocab is tgt_vocab``; on the command line symbols are written
    space-separated ("3 1 4"). ``max_src_len = max_len``, ``max_tgt_len = max_len + 1``.
    """

    DEFAULTS = {"vocab_size": 10, "min_len": 1, "max_len": 10}

    def _check(self, opts: dict[str, Any]) -> None:
        opts["vocab_size"] = check_int(self.name, "vocab_size", opts["vocab_size"], minimum=2, maximum=MAX_VOCAB_SIZE)
        opts["min_len"] = check_int(self.name, "min_len", opts["min_len"], minimum=1)
        opts["max_len"] = check_int(self.name, "max_len", opts["max_len"], minimum=1, maximum=MAX_SYMBOL_LEN)
        if opts["min_len"] > opts["max_len"]:
            raise TaskError(f"{self.name}: min_len ({opts['min_len']}) must be <= max_len ({opts['max_len']})")
        self.src_vocab = self.tgt_vocab = Vocab([str(i) for i in range(opts["vocab_size"])], tokenizer="space")
        self.max_src_len = opts["max_len"]
        self.max_tgt_len = opts["max_len"] + 1

    def _space_size(self) -> int:
        """Sum of vocab_size**n for n = min_len..max_len, or SPACE_LIMIT once it gets there."""
        o = self.options
        base, space = o["vocab_size"], 0
        for length in range(o["min_len"], o["max_len"] + 1):
            if length * math.log2(base) >= math.log2(SPACE_LIMIT):  # base**length alone reaches the limit
                return SPACE_LIMIT
            space += base**length
            if space >= SPACE_LIMIT:
                return SPACE_LIMIT
        return space

    def _sample(self, rng: np.random.Generator, n: int) -> list[Hashable]:
        o = self.options
        offset = len(SPECIAL_TOKENS)
        lengths = rng.integers(o["min_len"], o["max_len"] + 1, size=n)
        symbols = rng.integers(0, o["vocab_size"], size=(n, o["max_len"])) + offset
        return [tuple(row[:length].tolist()) for row, length in zip(symbols, lengths)]

    def _subset(self, rng: np.random.Generator, k: int) -> list[Hashable]:
        # Index i of the space enumerates sequences by length, then as base-V numbers.
        o = self.options
        base, offset = o["vocab_size"], len(SPECIAL_TOKENS)
        keys = []
        for index in rng.choice(self._space_size(), size=k, replace=False).tolist():
            length = o["min_len"]
            while index >= base**length:
                index -= base**length
                length += 1
            digits = []
            for _ in range(length):
                index, digit = divmod(index, base)
                digits.append(digit + offset)
            keys.append(tuple(digits))
        return keys

    def _make_pair(self, key: Hashable) -> Pair:
        src = list(key)  # type: ignore[arg-type]
        return src, self._target(src)

    def _target(self, src: list[int]) -> list[int]:
        raise NotImplementedError

    def reference(self, src_ids: Sequence[int]) -> list[int] | None:
        """The true target of ``src_ids`` (None if they contain a special id)."""
        src = [int(i) for i in src_ids]
        if any(not len(SPECIAL_TOKENS) <= i < len(self.src_vocab) for i in src):
            return None
        return self._target(src)


class CopyTask(SymbolTask):
    """copy: the target is the source.

    Encoded example (vocab_size=10): src "3 1 4" -> ids [7, 5, 8]; tgt "3 1 4" -> ids
    [7, 5, 8]; in a Batch, tgt_in [BOS, 7, 5, 8] = [1, 7, 5, 8] and tgt_out [7, 5, 8, EOS]
    = [7, 5, 8, 2].
    """

    name = "copy"

    def _target(self, src: list[int]) -> list[int]:
        return list(src)


class ReverseTask(SymbolTask):
    """reverse: the target is the source reversed.

    Encoded example: src "3 1 4" -> ids [7, 5, 8]; tgt "4 1 3" -> ids [8, 5, 7].
    """

    name = "reverse"

    def _target(self, src: list[int]) -> list[int]:
        return src[::-1]


class SortTask(SymbolTask):
    """sort: the target is the source in ascending numeric order (ties kept).

    Encoded example: src "3 1 4 1" -> ids [7, 5, 8, 5]; tgt "1 1 3 4" -> ids [5, 5, 7, 8].
    (Ids are 4 + symbol, so sorting ids sorts the numbers, also past "9".)
    """

    name = "sort"

    def _target(self, src: list[int]) -> list[int]:
        return sorted(src)


# -- add --------------------------------------------------------------------------------------

_SUM = re.compile(r"^([0-9]+)\+([0-9]+)$")
MAX_ADD_DIGITS = 18  # operands stay below 10**18, inside int64


class AddTask(SyntheticTask):
    """add: source "a+b" as characters, target the decimal digits of a + b.

    Each operand's digit count is uniform in [min_len, max_len] (defaults 1..3) and the
    operand uniform among numbers with that many digits (one digit includes 0; no leading
    zeros). One character vocabulary "0123456789+" serves source and target
    ('0'..'9' -> 4..13, '+' -> 14). ``max_src_len = 2 * max_len + 1``, ``max_tgt_len =
    max_len + 2`` (a carry digit and EOS).

    Encoded example: src "12+7" -> ids [5, 6, 14, 11]; tgt "19" -> ids [5, 13].
    """

    name = "add"
    DEFAULTS = {"min_len": 1, "max_len": 3}

    def _check(self, opts: dict[str, Any]) -> None:
        opts["min_len"] = check_int(self.name, "min_len", opts["min_len"], minimum=1)
        opts["max_len"] = check_int(self.name, "max_len", opts["max_len"], minimum=1, maximum=MAX_ADD_DIGITS)
        if opts["min_len"] > opts["max_len"]:
            raise TaskError(f"{self.name}: min_len ({opts['min_len']}) must be <= max_len ({opts['max_len']})")
        self.src_vocab = self.tgt_vocab = Vocab(list("0123456789+"), tokenizer="char")
        self.max_src_len = 2 * opts["max_len"] + 1
        self.max_tgt_len = opts["max_len"] + 2

    def _operand_range(self) -> tuple[int, int]:
        """[low, high) of the operands: all numbers with min_len..max_len digits."""
        low = 0 if self.options["min_len"] == 1 else 10 ** (self.options["min_len"] - 1)
        return low, 10 ** self.options["max_len"]

    def _space_size(self) -> int:
        low, high = self._operand_range()
        return (high - low) ** 2

    def _operands(self, rng: np.random.Generator, n: int) -> np.ndarray:
        digits = rng.integers(self.options["min_len"], self.options["max_len"] + 1, size=n)
        low = np.where(digits == 1, 0, 10 ** (digits - 1))
        return rng.integers(low, 10**digits)

    def _sample(self, rng: np.random.Generator, n: int) -> list[Hashable]:
        a = self._operands(rng, n).tolist()
        b = self._operands(rng, n).tolist()
        return list(zip(a, b))

    def _subset(self, rng: np.random.Generator, k: int) -> list[Hashable]:
        low, high = self._operand_range()
        count = high - low
        return [(low + i // count, low + i % count) for i in rng.choice(count * count, size=k, replace=False).tolist()]

    def _make_pair(self, key: Hashable) -> Pair:
        a, b = key  # type: ignore[misc]
        return self.src_vocab.encode(f"{a}+{b}"), self.tgt_vocab.encode(str(a + b))

    def encode_source(self, text: str) -> list[int]:
        """Ids of "a+b" (whitespace is ignored: "12 + 7" works too)."""
        return super().encode_source("".join(text.split()))

    def reference(self, src_ids: Sequence[int]) -> list[int] | None:
        """Digits of a + b when ``src_ids`` spell "a+b", else None."""
        match = _SUM.match(self.src_vocab.decode_text(src_ids, strip_special=False))
        if match is None:
            return None
        return self.tgt_vocab.encode(str(int(match.group(1)) + int(match.group(2))))
