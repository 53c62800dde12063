"""Task base classes, batches, option checking and the shared batching logic.

A seq2seq task holds three lists of ``(src_ids, tgt_ids)`` pairs (python int lists, no
BOS/EOS). ``Seq2SeqTask.batches`` turns one split into padded ``Batch``es for one epoch;
``sample_batches`` is the endless, resumable stream of train batches used for step-based
training.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from minigrad.tasks.errors import TaskError
from minigrad.tasks.vocab import BOS, EOS, PAD, Vocab

Pair = tuple[list[int], list[int]]
SPLITS = ("train", "valid", "test")
STATE_VERSION = 1


# -- batches ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Batch:
    """A padded batch of seq2seq pairs (all arrays int64).

    src:         (B, S) source ids padded with PAD; S = longest source in the batch.
    src_lengths: (B,) number of real tokens in each source row.
    tgt_in:      (B, T) BOS + target, padded with PAD; T = longest target in the batch + 1.
    tgt_out:     (B, T) target + EOS, padded with PAD (what the decoder should predict).
    tgt_lengths: (B,) len(target) + 1: the non-pad positions of ``tgt_in`` and ``tgt_out``.
    size:        B.
    """

    src: np.ndarray
    src_lengths: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_lengths: np.ndarray
    size: int


@dataclass(frozen=True, eq=False)
class LMBatch:
    """A batch of language-model windows (int64).

    x: (B, block) token ids; y: (B, block) the same window shifted left by one, so
    ``y[:, t]`` is the token following ``x[:, t]``. size: B.
    """

    x: np.ndarray
    y: np.ndarray
    size: int


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int = PAD, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``seqs`` into an int64 array (N, width) padded with ``pad_id``, plus lengths (N,).

    ``width`` defaults to the longest sequence (at least 1); longer sequences are an error.
    """
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    longest = int(lengths.max()) if len(seqs) else 0
    if width is None:
        width = max(longest, 1)
    elif longest > width:
        raise TaskError(f"pad_sequences: a sequence of length {longest} does not fit width {width}")
    out = np.full((len(seqs), width), pad_id, dtype=np.int64)
    for row, seq in zip(out, seqs):
        row[: len(seq)] = seq
    return out, lengths


def collate(pairs: Sequence[Pair]) -> Batch:
    """Build one ``Batch`` from ``(src_ids, tgt_ids)`` pairs (targets without BOS/EOS).

    Example: ``collate([([7, 5], [5, 7])])`` gives ``src [[7, 5]]``, ``tgt_in [[BOS, 5, 7]]``,
    ``tgt_out [[5, 7, EOS]]``, ``src_lengths [2]``, ``tgt_lengths [3]``.
    """
    src, src_lengths = pad_sequences([p[0] for p in pairs])
    tgt_in, tgt_lengths = pad_sequences([[BOS, *p[1]] for p in pairs])
    tgt_out, _ = pad_sequences([[*p[1], EOS] for p in pairs])
    return Batch(src, src_lengths, tgt_in, tgt_out, tgt_lengths, len(pairs))


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The permutation (n,) of example indices for ``epoch`` of a shuffled stream with ``seed``.

    Each epoch draws from its own generator ``default_rng([seed, epoch])``, so any epoch can
    be produced without replaying the ones before it.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


# -- options ------------------------------------------------------------------------------


def resolve_options(task: str, defaults: dict[str, Any], given: dict[str, Any], aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """Merge ``given`` options over ``defaults``; unknown names raise a TaskError naming them.

    A given value of ``None`` means "not given" (the default is used), so a caller such as
    the CLI may pass every option it has without knowing which ones a task takes.
    """
    aliases = aliases or {}
    for alias, name in aliases.items():
        if given.get(alias) is not None and given.get(name) is not None:
            raise TaskError(f"task '{task}': give either '{name}' or its alias '{alias}', not both")
    out = dict(defaults)
    for key, value in given.items():
        name = aliases.get(key, key)
        if name not in defaults:
            if value is None:
                continue
            valid = ", ".join(sorted(defaults))
            raise TaskError(f"task '{task}' has no option '{key}'; valid options: {valid}")
        if value is not None:
            out[name] = value
    return out


def check_int(task: str, name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a python int within [minimum, maximum]; TaskError quoting it otherwise."""
    if isinstance(value, bool):
        raise TaskError(f"{task}: {name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            number = int(value)
        else:
            raise TaskError(f"{task}: {name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise TaskError(f"{task}: {name} must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise TaskError(f"{task}: {name} must be <= {maximum}, got {number}")
    return int(number)


def check_fraction(task: str, name: str, value: Any, allow_zero: bool = True) -> float:
    """``value`` as a float in [0, 1) (or (0, 1) without ``allow_zero``); TaskError otherwise."""
    if isinstance(value, bool):
        raise TaskError(f"{task}: {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TaskError(f"{task}: {name} must be a number, got {value!r}") from None
    low_ok = number >= 0 if allow_zero else number > 0
    if not (low_ok and number < 1) or math.isnan(number):
        bound = "[0, 1)" if allow_zero else "(0, 1)"
        raise TaskError(f"{task}: {name} must be in {bound}, got {value!r}")
    return number


def check_choice(task: str, name: str, value: Any, choices: Sequence[str], aliases: dict[str, str] | None = None) -> str:
    """``value`` if it is one of ``choices`` (after ``aliases``); TaskError listing them otherwise."""
    value = (aliases or {}).get(value, value)
    if value not in choices:
        raise TaskError(f"{task}: {name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_batch_size(batch_size: Any) -> int:
    return check_int("batches", "batch_size", batch_size, minimum=1)


def check_seed(task: str, seed: Any) -> int:
    return check_int(task, "seed", seed, minimum=0)


# -- tasks --------------------------------------------------------------------------------


class Task:
    """What every task has: ``name``, ``kind`` ("seq2seq" or "lm"), resolved ``options``.

    ``state()`` is a JSON-serialisable dict from which ``tasks.from_state`` rebuilds the task.
    """

    name: str = ""
    kind: str = ""
    options: dict[str, Any]

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def encode_source(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode_target(self, ids: Sequence[int] | np.ndarray) -> str:
        raise NotImplementedError

    def _strict_encode(self, vocab: Vocab, symbols: str | Sequence[str]) -> list[int]:
        """``vocab.strict_encode(symbols)``, its TaskError prefixed with the task's name."""
        try:
            return vocab.strict_encode(symbols)
        except TaskError as err:
            raise TaskError(f"{self.name}: {err}") from None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"<{type(self).__name__} {self.name}: {shown}>"


class Seq2SeqTask(Task):
    """A task of ``(src_ids, tgt_ids)`` pairs with train/valid/test splits.

    Subclasses set ``name``, ``options``, ``src_vocab``, ``tgt_vocab``, ``max_src_len``,
    ``max_tgt_len`` and implement ``_load_splits()`` (called once, lazily, on first access
    to a split; it raises TaskError when the data is unavailable).
    """

    kind = "seq2seq"
    src_vocab: Vocab
    tgt_vocab: Vocab
    max_src_len: int
    max_tgt_len: int  # longest target + 1 (EOS): the max_len a decoder needs

    _splits: dict[str, list[Pair]] | None = None

    @property
    def vocab(self) -> Vocab:
        """The vocabulary, when source and target share one (copy, reverse, sort, add, ...).

        AttributeError naming ``src_vocab`` and ``tgt_vocab`` when the task has two different ones.
        """
        if self.src_vocab == self.tgt_vocab:
            return self.src_vocab
        raise AttributeError(f"{self.name}: source and target have different vocabularies; use src_vocab and tgt_vocab")

    def _load_splits(self) -> dict[str, list[Pair]]:
        raise NotImplementedError

    def split(self, name: str) -> list[Pair]:
        """The pairs of split ``name`` ("train", "valid" or "test")."""
        if name not in SPLITS:
            raise TaskError(f"{self.name}: unknown split {name!r}; valid splits: {', '.join(SPLITS)}")
        if self._splits is None:
            self._splits = self._load_splits()
        return self._splits[name]

    @property
    def train(self) -> list[Pair]:
        return self.split("train")

    @property
    def valid(self) -> list[Pair]:
        return self.split("valid")

    @property
    def test(self) -> list[Pair]:
        return self.split("test")

    def encode_source(self, text: str) -> list[int]:
        """Source ids of a user's string (strict: tokens outside the vocabulary -> TaskError)."""
        tokens = self.src_vocab.tokenize(text)
        if not tokens:
            raise TaskError(f"{self.name}: empty input; valid tokens: {self.src_vocab.preview()}")
        return self._strict_encode(self.src_vocab, tokens)

    def decode_target(self, ids: Sequence[int] | np.ndarray) -> str:
        """The surface string of target ids: stops at EOS, drops specials."""
        return self.tgt_vocab.decode_text(ids)

    def decode_source(self, ids: Sequence[int] | np.ndarray) -> str:
        """The surface string of source ids (PAD dropped)."""
        return self.src_vocab.decode_text(ids)

    def reference(self, src_ids: Sequence[int]) -> list[int] | None:
        """The true target ids of ``src_ids`` when the task can compute it, else None."""
        return None

    def batches(self, split: str, batch_size: int, shuffle: bool = False, seed: int | None = None, drop_last: bool = False) -> Iterator[Batch]:
        """One epoch over ``split`` as padded ``Batch``es of up to ``batch_size`` pairs.

        With ``shuffle`` the order is the permutation ``epoch_order(n, seed, 0)``; ``seed``
        defaults to the task's seed, so the same call always gives the same batches.
        ``drop_last`` drops a final batch smaller than ``batch_size``.
        """
        batch_size = check_batch_size(batch_size)
        pairs = self.split(split)
        if shuffle:
            seed = self.options["seed"] if seed is None else check_seed(self.name, seed)
            order = epoch_order(len(pairs), seed, 0)
        else:
            order = np.arange(len(pairs))
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        for start in range(0, stop, batch_size):
            yield collate([pairs[i] for i in order[start : start + batch_size]])

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches per epoch of ``sample_batches``: ``len(train) // batch_size`` (at least 1)."""
        return max(len(self.train) // check_batch_size(batch_size), 1)

    def sample_batches(self, batch_size: int, seed: int | None = None, start_step: int = 0) -> Iterator[Batch]:
        """Endless train batches; epoch ``e`` is shuffled by ``epoch_order(n, seed, e)``.

        Every batch has exactly ``batch_size`` pairs (the remainder of an epoch is dropped;
        a train split smaller than ``batch_size`` is one batch). Step ``k`` is batch
        ``k % steps_per_epoch`` of epoch ``k // steps_per_epoch``, so
        ``sample_batches(b, seed, start_step=k)`` yields exactly what an uninterrupted
        ``sample_batches(b, seed)`` yields from its k-th batch on: resume a run with the
        number of steps already taken. ``seed`` defaults to the task's seed.
        """
        batch_size = check_batch_size(batch_size)
        seed = self.options["seed"] if seed is None else check_seed(self.name, seed)
        start_step = check_int(self.name, "start_step", start_step, minimum=0)
        pairs = self.train
        if not pairs:
            raise TaskError(f"{self.name}: the train split is empty")
        per_epoch = self.steps_per_epoch(batch_size)
        size = min(batch_size, len(pairs))
        epoch, index = divmod(start_step, per_epoch)
        while True:
            order = epoch_order(len(pairs), seed, epoch)
            for b in range(index, per_epoch):
                yield collate([pairs[i] for i in order[b * size : (b + 1) * size]])
            epoch, index = epoch + 1, 0

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state: name, kind, options, vocabularies and length bounds."""
        return {
            "version": STATE_VERSION,
            "name": self.name,
            "kind": self.kind,
            "options": dict(self.options),
            "src_vocab": self.src_vocab.to_dict(),
            "tgt_vocab": self.tgt_vocab.to_dict(),
            "max_src_len": self.max_src_len,
            "max_tgt_len": self.max_tgt_len,
        }
