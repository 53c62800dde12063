"""file: a user's TSV of ``source<TAB>target`` lines, plus reading user text files safely.

Encoded example (tokenize="space", a train split holding "hello world<TAB>bonjour monde"):
src vocab ["<pad>", "<bos>", "<eos>", "<unk>", "hello", "world"], so src "hello world" ->
ids [4, 5]; tgt "bonjour monde" -> ids [4, 5]. With tokenize="char" every character
(spaces included) is a token and targets are decoded by concatenation.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from minigrad.tasks.base import Pair, Seq2SeqTask, check_choice, check_fraction, check_int, check_seed, resolve_options
from minigrad.tasks.errors import TaskError
from minigrad.tasks.vocab import Vocab

_SHOW = 60  # characters of a bad line quoted in an error


def read_text_file(task: str, path: str) -> str:
    """The UTF-8 text of ``path`` with newlines normalised to "\\n" (a leading BOM dropped).

    TaskError, naming the file, if it is missing, a directory, unreadable, binary (has a NUL
    byte) or not valid UTF-8.
    """
    if not os.path.exists(path):
        raise TaskError(f"{task}: no such file: {path}")
    if os.path.isdir(path):
        raise TaskError(f"{task}: {path} is a directory, not a file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise TaskError(f"{task}: cannot read {path}: {err.strerror or err}") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TaskError(f"{task}: {path} looks like a binary file (NUL byte at offset {nul}); expected UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TaskError(f"{task}: {path} is not UTF-8 text (invalid byte 0x{data[err.start]:02x} at offset {err.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _quote(line: str) -> str:
    return repr(line if len(line) <= _SHOW else line[:_SHOW] + "...")


def read_tsv(path: str, task: str = "file") -> list[tuple[str, str, int]]:
    """``(source, target, line_number)`` for each non-blank line of a UTF-8 TSV file.

    A line must hold exactly one TAB with a non-blank text on each side, else TaskError
    "PATH:LINE: expected source<TAB>target, got '...'". An empty file is an error too.
    """
    rows = []
    for number, line in enumerate(read_text_file(task, path).split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise TaskError(f"{path}:{number}: expected source<TAB>target, got {_quote(line)}")
        rows.append((parts[0], parts[1], number))
    if not rows:
        raise TaskError(f"{task}: {path} is empty; expected source<TAB>target lines")
    return rows


class FileTask(Seq2SeqTask):
    """file: seq2seq pairs read from a TSV file (one ``source<TAB>target`` per line).

    Options: ``path`` (required; alias ``data``), ``tokenize`` "char" (default) or "space"
    (alias "word"), ``seed`` (0), ``valid_fraction`` and ``test_fraction`` (0.1 each; a
    positive fraction gives at least one source), or ``valid_size``/``test_size`` to give
    counts instead. Blank lines are skipped and repeated pairs kept once. Splits are made
    over distinct sources (all pairs sharing a source go to the same split), drawn with
    ``default_rng(seed)``; each split keeps the file's order. Both vocabularies hold the
    TRAIN split's tokens in sorted order, so valid/test may contain UNK.

    A task restored with ``tasks.from_state`` keeps its vocabularies without the file;
    the file is read again (lazily) only when a split is accessed.
    """

    name = "file"
    DEFAULTS: dict[str, Any] = {"path": None, "tokenize": "char", "seed": 0, "valid_fraction": 0.1,
                                "test_fraction": 0.1, "valid_size": None, "test_size": None}
    ALIASES = {"data": "path"}

    def __init__(self, **options: Any) -> None:
        self.options = self._check(resolve_options(self.name, self.DEFAULTS, options, self.ALIASES))
        splits = self._read_splits()
        train = splits["train"]
        tokenizer = self._tokenizer()
        self.src_vocab = Vocab(sorted({t for src, _ in train for t in src}), tokenizer=tokenizer)
        self.tgt_vocab = Vocab(sorted({t for _, tgt in train for t in tgt}), tokenizer=tokenizer)
        self._raw: dict[str, list[tuple[list[str], list[str]]]] | None = splits
        self._splits = self._encode(splits)
        everything = [p for pairs in splits.values() for p in pairs]
        self.max_src_len = max(len(src) for src, _ in everything)
        self.max_tgt_len = max(len(tgt) for _, tgt in everything) + 1

    @classmethod
    def from_state(cls, state: dict[str, Any], path: str | None = None) -> "FileTask":
        """Rebuild from ``state()`` without reading the file (``path`` overrides the stored one)."""
        task = cls.__new__(cls)
        options = dict(state["options"])
        if path is not None:
            options["path"] = path
        task.options = task._check(resolve_options(cls.name, cls.DEFAULTS, options, cls.ALIASES))
        task.src_vocab = Vocab.from_dict(state["src_vocab"])
        task.tgt_vocab = Vocab.from_dict(state["tgt_vocab"])
        task.max_src_len = int(state["max_src_len"])
        task.max_tgt_len = int(state["max_tgt_len"])
        task._splits = None
        task._raw = None
        return task

    def _check(self, o: dict[str, Any]) -> dict[str, Any]:
        if o["path"] is None:
            raise TaskError("file: option 'path' is required (a TSV file of source<TAB>target lines)")
        try:
            o["path"] = os.fspath(o["path"])
        except TypeError:
            raise TaskError(f"file: path must be a file path, got {o['path']!r}") from None
        if not isinstance(o["path"], str):
            o["path"] = os.fsdecode(o["path"])
        o["tokenize"] = check_choice(self.name, "tokenize", o["tokenize"], ("char", "space"), {"word": "space"})
        o["seed"] = check_seed(self.name, o["seed"])
        o["valid_fraction"] = check_fraction(self.name, "valid_fraction", o["valid_fraction"])
        o["test_fraction"] = check_fraction(self.name, "test_fraction", o["test_fraction"])
        for key in ("valid_size", "test_size"):
            if o[key] is not None:
                o[key] = check_int(self.name, key, o[key], minimum=0)
        return o

    def _tokenizer(self) -> str:
        return self.options["tokenize"]

    def _read_splits(self) -> dict[str, list[tuple[list[str], list[str]]]]:
        """Token-string pairs of each split, read from the file."""
        o = self.options
        path = o["path"]
        tokenize = list if o["tokenize"] == "char" else str.split
        groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for src_text, tgt_text, _ in read_tsv(path, self.name):
            src, tgt = tuple(tokenize(src_text)), tuple(tokenize(tgt_text))
            targets = groups.setdefault(src, [])
            if tgt not in targets:
                targets.append(tgt)
        sources = list(groups)
        n = len(sources)
        if n < 2:
            raise TaskError(f"file: {path} has only {n} usable source<TAB>target pair; at least 2 are needed")
        n_valid = self._held_out(n, "valid")
        n_test = self._held_out(n, "test")
        if n - n_valid - n_test < 1:
            raise TaskError(
                f"file: {path} has {n} distinct sources, too few for train/valid/test "
                f"(valid {n_valid}, test {n_test}); add lines or lower valid/test sizes"
            )
        order = np.random.default_rng(o["seed"]).permutation(n)
        chosen = {"test": order[:n_test], "valid": order[n_test : n_test + n_valid], "train": order[n_test + n_valid :]}
        return {
            split: [(list(sources[i]), list(tgt)) for i in sorted(chosen[split].tolist()) for tgt in groups[sources[i]]]
            for split in ("train", "valid", "test")
        }

    def _held_out(self, n: int, split: str) -> int:
        size = self.options[f"{split}_size"]
        if size is not None:
            return size
        fraction = self.options[f"{split}_fraction"]
        return max(1, int(round(n * fraction))) if fraction > 0 else 0

    def _encode(self, splits: dict[str, list[tuple[list[str], list[str]]]]) -> dict[str, list[Pair]]:
        return {name: [(self.src_vocab.encode(s), self.tgt_vocab.encode(t)) for s, t in pairs] for name, pairs in splits.items()}

    def _load_splits(self) -> dict[str, list[Pair]]:
        path = self.options["path"]
        if not os.path.exists(path):
            raise TaskError(f"file: the data file {path} is not available; this task was restored without its data (pass path= to from_state)")
        self._raw = self._read_splits()
        return self._encode(self._raw)

    def raw_pairs(self, split: str) -> list[tuple[list[str], list[str]]]:
        """The token strings of each pair of ``split``, before encoding (tokens outside the
        train vocabulary are visible here, where the ids hold UNK); same order as the ids."""
        self.split(split)
        assert self._raw is not None  # set whenever the splits are loaded
        return self._raw[split]
