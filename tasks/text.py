"""text: language modelling on a user's UTF-8 text file (for a decoder-only model).

The file is tokenized into characters (``tokenize="char"``, the default) or
whitespace-separated words (``tokenize="word"``; decoding joins words with single spaces,
so line breaks are not reproduced). The vocabulary holds every token of the whole file in
sorted order (as nanoGPT's character model does), so held-out text has no UNK. The file is
cut into three contiguous parts, in order: train, then validation (``valid_fraction`` of the
tokens, default 5%), then test (``test_fraction``, default 5%; 0 leaves no test split).

Encoded example (char, a file "hello world\\n"): vocab tokens after the specials are
["\\n", " ", "d", "e", "h", "l", "o", "r", "w"], so "hello" -> ids [8, 7, 9, 9, 10]. With
block_size=4 a window [8, 7, 9, 9, 10] gives x [8, 7, 9, 9] and y [7, 9, 9, 10].
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from minigrad.tasks.base import (
    STATE_VERSION,
    LMBatch,
    Task,
    check_batch_size,
    check_choice,
    check_fraction,
    check_int,
    check_seed,
    resolve_options,
)
from minigrad.tasks.errors import TaskError
from minigrad.tasks.files import DataFile
from minigrad.tasks.vocab import SPECIAL_TOKENS, UNK, Vocab

LM_SPLITS = ("train", "valid", "test")


class TextTask(DataFile, Task):
    """text: windows of ``block_size`` tokens from a text file, predicting the next token.

    Options: ``path`` (required; alias ``data``), ``tokenize`` "char" or "word" (alias
    "space"), ``block_size`` (64), ``valid_fraction`` (0.05, in (0, 1)), ``test_fraction``
    (0.05, in [0, 1); 0: no test split), ``seed`` (0). Every part must hold at least
    ``block_size + 1`` tokens.

    Attributes: ``vocab`` (also ``src_vocab``/``tgt_vocab``), ``train_ids``, ``valid_ids``
    and ``test_ids`` (1-D int64), ``splits`` (the split names this task has),
    ``block_size``. ``batches`` and ``sample_batches`` yield
    ``LMBatch(x (B, block_size), y (B, block_size))`` with ``y`` = ``x`` shifted by one.
    """

    name = "text"
    kind = "lm"
    DEFAULTS: dict[str, Any] = {"path": None, "tokenize": "char", "block_size": 64, "valid_fraction": 0.05,
                                "test_fraction": 0.05, "seed": 0}
    ALIASES = {"data": "path"}

    def __init__(self, **options: Any) -> None:
        self.options = self._check(resolve_options(self.name, self.DEFAULTS, options, self.ALIASES))
        tokens = self._read_tokens()
        self.vocab = Vocab(sorted(set(tokens)), tokenizer="char" if self.options["tokenize"] == "char" else "space")
        self._data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = self._split(tokens)

    @classmethod
    def from_state(cls, state: dict[str, Any], path: str | None = None, accept_changed_data: bool = False) -> "TextTask":
        """Rebuild from ``state()`` without reading the file (``path`` overrides the stored one;
        ``accept_changed_data``: read whatever it holds, see ``files.DataFile``)."""
        task = cls._restored(state, path, accept_changed_data)
        task.vocab = Vocab.from_dict(state["vocab"])
        task._data = None
        return task

    def _check(self, o: dict[str, Any]) -> dict[str, Any]:
        self._check_path(o, "a UTF-8 text file")
        o["tokenize"] = check_choice(self.name, "tokenize", o["tokenize"], ("char", "word"), {"space": "word"})
        o["block_size"] = check_int(self.name, "block_size", o["block_size"], minimum=1)
        o["valid_fraction"] = check_fraction(self.name, "valid_fraction", o["valid_fraction"], allow_zero=False)
        o["test_fraction"] = check_fraction(self.name, "test_fraction", o["test_fraction"], allow_zero=True)
        if o["valid_fraction"] + o["test_fraction"] >= 1:
            raise TaskError(f"text: valid_fraction + test_fraction must leave some training text, got "
                            f"{o['valid_fraction']} + {o['test_fraction']}")
        o["seed"] = check_seed(self.name, o["seed"])
        return o

    # -- data ---------------------------------------------------------------------------

    def _read_tokens(self) -> list[str]:
        path = self.options["path"]
        text = self._read_data()
        tokens = list(text) if self.options["tokenize"] == "char" else text.split()
        if not tokens:
            raise TaskError(f"text: {path} is empty")
        return tokens

    def _split(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.array(self.vocab.encode(tokens), dtype=np.int64)
        n = len(ids)
        n_valid = max(1, int(round(n * self.options["valid_fraction"])))
        n_test = int(round(n * self.options["test_fraction"]))
        if self.options["test_fraction"] > 0:
            n_test = max(1, n_test)
        n_train = n - n_valid - n_test
        need = self.block_size + 1
        sizes = {"train": n_train, "valid": n_valid, **({"test": n_test} if n_test else {})}
        if min(sizes.values()) < need:
            shown = ", ".join(f"{split} {size}" for split, size in sizes.items())
            raise TaskError(
                f"text: {self.options['path']} is too short: {n} tokens give {shown}, but each part needs at least "
                f"block_size + 1 = {need}; use a smaller block_size or a longer file"
            )
        return ids[:n_train], ids[n_train : n_train + n_valid], ids[n_train + n_valid :]

    @property
    def splits(self) -> tuple[str, ...]:
        """The split names of this task: train, valid and (unless ``test_fraction`` is 0) test."""
        return LM_SPLITS if self.options["test_fraction"] > 0 else LM_SPLITS[:2]

    def _loaded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._data is None:
            self._require_data_file()
            self._data = self._split(self._read_tokens())
        return self._data

    @property
    def src_vocab(self) -> Vocab:
        return self.vocab

    @property
    def tgt_vocab(self) -> Vocab:
        return self.vocab

    @property
    def block_size(self) -> int:
        return self.options["block_size"]

    @property
    def train_ids(self) -> np.ndarray:
        """(N_train,) int64 token ids: the file's first part."""
        return self._loaded()[0]

    @property
    def valid_ids(self) -> np.ndarray:
        """(N_valid,) int64 token ids: ``valid_fraction`` of the file, after the train part."""
        return self._loaded()[1]

    @property
    def test_ids(self) -> np.ndarray:
        """(N_test,) int64 token ids: the file's last ``test_fraction`` (empty when it is 0)."""
        return self._loaded()[2]

    def split_ids(self, split: str) -> np.ndarray:
        """The token ids of ``split`` ("train", "valid" or "test")."""
        if split not in self.splits:
            raise TaskError(f"text: unknown split {split!r}; valid splits: {', '.join(self.splits)}")
        return self._loaded()[LM_SPLITS.index(split)]

    # -- encode / decode ----------------------------------------------------------------

    def encode_source(self, text: str) -> list[int]:
        """Ids of a prompt (strict: tokens outside the vocabulary -> TaskError naming them).

        An empty prompt gives ``[]``.
        """
        return self._strict_encode(self.vocab, text)

    def decode_target(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text of ``ids`` (specials dropped, stops at EOS)."""
        return self.vocab.decode_text(ids)

    # -- batches ------------------------------------------------------------------------

    def _window_batch(self, ids: np.ndarray, starts: np.ndarray) -> LMBatch:
        block = self.block_size
        index = starts[:, None] + np.arange(block + 1)[None, :]  # (B, block + 1)
        windows = ids[index]
        return LMBatch(x=windows[:, :-1].copy(), y=windows[:, 1:].copy(), size=len(starts))

    def window_starts(self, split: str, offset: int = 0) -> np.ndarray:
        """Start positions (W,) of the non-overlapping windows of ``split`` from ``offset``."""
        n = len(self.split_ids(split))
        return np.arange(offset, n - self.block_size, self.block_size, dtype=np.int64)

    def batches(self, split: str, batch_size: int, shuffle: bool = False, seed: int | None = None, drop_last: bool = False) -> Iterator[LMBatch]:
        """One pass over the non-overlapping windows of ``split`` ("train", "valid" or "test").

        Without ``shuffle`` the windows start at 0, block_size, 2 * block_size, ... in
        order (always so for evaluation). With ``shuffle`` on train, the windows start at a
        random offset in [0, block_size) and come in random order; on valid and test only the order
        changes. ``seed`` defaults to the task's seed.
        """
        batch_size = check_batch_size(batch_size)
        ids = self.split_ids(split)
        offset = 0
        if shuffle:
            rng = np.random.default_rng([self.options["seed"] if seed is None else check_seed(self.name, seed), 0])
            if split == "train":
                offset = int(rng.integers(0, min(self.block_size, len(ids) - self.block_size - 1) + 1))
            starts = self.window_starts(split, offset)
            starts = starts[rng.permutation(len(starts))]
        else:
            starts = self.window_starts(split)
        stop = len(starts) - len(starts) % batch_size if drop_last else len(starts)
        for b in range(0, stop, batch_size):
            yield self._window_batch(ids, starts[b : b + batch_size])

    def sample_batches(self, batch_size: int, seed: int | None = None, start_step: int = 0) -> Iterator[LMBatch]:
        """Endless train batches of random windows; step k uses ``default_rng([seed, k])``.

        Each step's windows depend only on (seed, step), so ``start_step=k`` yields exactly
        what an uninterrupted stream yields from its k-th batch on.
        """
        batch_size = check_batch_size(batch_size)
        seed = self.options["seed"] if seed is None else check_seed(self.name, seed)
        step = check_int(self.name, "start_step", start_step, minimum=0)
        ids = self.train_ids
        while True:
            starts = np.random.default_rng([seed, step]).integers(0, len(ids) - self.block_size, size=batch_size)
            yield self._window_batch(ids, starts)
            step += 1

    # -- baseline -----------------------------------------------------------------------

    def unigram_loss(self) -> float:
        """Cross-entropy (nats per token) on valid of the train unigram distribution.

        Counts are add-one smoothed over the vocabulary's ordinary tokens and UNK, so a token seen
        only in the valid part has a finite cost. The baseline a model must beat.
        """
        counts = np.bincount(self.train_ids, minlength=len(self.vocab)).astype(np.float64)
        counts[: len(SPECIAL_TOKENS)] = 0.0
        counts[len(SPECIAL_TOKENS) :] += 1.0
        counts[UNK] += 1.0  # restored from a checkpoint, a changed file may hold UNK
        log_p = np.log(counts[self.valid_ids] / counts.sum())
        return float(-log_p.mean())

    def unigram_bits_per_token(self) -> float:
        """``unigram_loss()`` in bits per token."""
        return self.unigram_loss() / math.log(2)

    # -- state --------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state: name, kind, options, the vocabulary and the data file's fingerprint."""
        return self._state_with_fingerprint({"version": STATE_VERSION, "name": self.name, "kind": self.kind,
                                             "options": dict(self.options), "vocab": self.vocab.to_dict()})
