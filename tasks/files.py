"""file: a user's TSV of ``source<TAB>target`` lines, plus reading user text files safely.

Encoded example (tokenize="space", a train split holding "hello world<TAB>bonjour monde"):
src vocab ["<pad>", "<bos>", "<eos>", "<unk>", "hello", "world"], so src "hello world" ->
ids [4, 5]; tgt "bonjour monde" -> ids [4, 5]. With tokenize="char" every character
(spaces included) is a token and targets are decoded by concatenation.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, TypeVar

import numpy as np

from minigrad.tasks.base import Pair, Seq2SeqTask, check_choice, check_fraction, check_int, check_seed, resolve_options
from minigrad.tasks.errors import DataFileChanged, TaskError
from minigrad.tasks.vocab import Vocab

_SHOW = 60  # characters of a bad line quoted in an error
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_text_file(task: str, path: str) -> str:
    """The UTF-8 text of ``path`` with newlines normalised to "\\n" (a leading BOM dropped).

    TaskError, naming the file, if it is missing, a directory, unreadable, binary (has a NUL
    byte) or not valid UTF-8.
    """
    return decode_text(task, path, read_file_bytes(task, path))


def read_file_bytes(task: str, path: str) -> bytes:
    """The bytes of ``path``; TaskError, naming the file, if it is missing, a directory or unreadable."""
    if not os.path.exists(path):
        raise TaskError(f"{task}: no such file: {path}")
    if os.path.isdir(path):
        raise TaskError(f"{task}: {path} is a directory, not a file")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise TaskError(f"{task}: cannot read {path}: {err.strerror or err}") from None


def decode_text(task: str, path: str, data: bytes) -> str:
    """``data`` read from ``path`` as text (see ``read_text_file``)."""
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
    return parse_tsv(read_text_file(task, path), path, task)


def parse_tsv(text: str, path: str, task: str = "file") -> list[tuple[str, str, int]]:
    """The rows of ``read_tsv`` from the ``text`` of ``path``."""
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise TaskError(f"{path}:{number}: expected source<TAB>target, got {_quote(line)}")
        rows.append((parts[0], parts[1], number))
    if not rows:
        raise TaskError(f"{task}: {path} is empty; expected source<TAB>target lines")
    return rows


def fingerprint(data: bytes) -> dict[str, Any]:
    """What a task's state records of its data file: ``{"bytes": size, "sha256": hex digest}``."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _check_fingerprint(task: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    ok = (isinstance(value, dict) and set(value) == {"bytes", "sha256"} and isinstance(value["bytes"], int)
          and not isinstance(value["bytes"], bool) and value["bytes"] >= 0
          and isinstance(value["sha256"], str) and _SHA256.fullmatch(value["sha256"]) is not None)
    if not ok:
        raise TaskError(f"{task}: the state's 'data' must be {{\"bytes\": size, \"sha256\": hex digest}}, got {value!r}"[:300])
    return dict(value)


def _shown(fp: dict[str, Any]) -> str:
    return f"{fp['bytes']} bytes, SHA-256 {fp['sha256'][:12]}"


_D = TypeVar("_D", bound="DataFile")


class DataFile:
    """What the file and text tasks share: their data file ``options["path"]`` (the option's
    check, the file's fingerprint, and a restore that reads the file only when it is needed).

    ``data_fingerprint`` is ``fingerprint()`` of the file as the task read it, or, until a
    restored task reads it, the one its state recorded (None when the state records none);
    ``state()`` stores it under ``"data"``. A task restored by ``from_state`` refuses a file
    with other contents (DataFileChanged naming the file), unless it was restored with
    ``accept_changed_data=True``. A subclass gives ``DEFAULTS``, ``ALIASES`` and
    ``_check(options)``, which calls ``_check_path``.
    """

    name: str
    options: dict[str, Any]
    DEFAULTS: dict[str, Any]
    ALIASES: dict[str, str]
    data_fingerprint: dict[str, Any] | None = None
    _verify_data = False

    @classmethod
    def _restored(cls: type[_D], state: dict[str, Any], path: str | None, accept_changed_data: bool) -> _D:
        """A task of this class with the options of ``state`` (``path`` overriding the stored one)
        and its recorded fingerprint, the file not read; ``from_state`` adds the vocabularies."""
        task = cls.__new__(cls)
        options = dict(state["options"])
        if path is not None:
            options["path"] = path
        task.options = task._check(resolve_options(cls.name, cls.DEFAULTS, options, cls.ALIASES))
        task.data_fingerprint = _check_fingerprint(cls.name, state.get("data"))
        task._verify_data = not accept_changed_data
        return task

    def _check_path(self, o: dict[str, Any], holding: str) -> None:
        """Set ``o["path"]`` to the str path of the data file; TaskError when it is missing or not a
        path (``holding`` says what the file holds, for the message)."""
        if o["path"] is None:
            raise TaskError(f"{self.name}: option 'path' is required ({holding})")
        try:
            o["path"] = os.fsdecode(os.fspath(o["path"]))
        except TypeError:
            raise TaskError(f"{self.name}: path must be a file path, got {o['path']!r}") from None

    def _require_data_file(self) -> None:
        """TaskError unless the data file exists (a restored task reads it when a split is needed)."""
        path = self.options["path"]
        if not os.path.exists(path):
            raise TaskError(f"{self.name}: the data file {path} is not available; this task was restored "
                            "without its data (pass path= to from_state)")

    def _read_data(self) -> str:
        """The text of the data file, checked against the recorded fingerprint."""
        path = self.options["path"]
        data = read_file_bytes(self.name, path)
        found = fingerprint(data)
        recorded = self.data_fingerprint
        if self._verify_data and recorded is not None and found != recorded:
            raise DataFileChanged(f"{self.name}: {path} changed since this task's state was saved "
                                  f"(now {_shown(found)}; recorded {_shown(recorded)})")
        self.data_fingerprint = found
        return decode_text(self.name, path, data)

    def _state_with_fingerprint(self, state: dict[str, Any]) -> dict[str, Any]:
        return state if self.data_fingerprint is None else {**state, "data": dict(self.data_fingerprint)}


class FileTask(DataFile, Seq2SeqTask):
    """file: seq2seq pairs read from a TSV file (one ``source<TAB>target`` per line).

    Options: ``path`` (required; alias ``data``), ``tokenize`` "char" (default) or "space"
    (alias "word"), ``seed`` (0), ``valid_fraction`` and ``test_fraction`` (0.1 each; a
    positive fraction gives at least one source), or ``valid_size``/``test_size`` to give
    counts instead. Blank lines are skipped and repeated pairs kept once. Splits are made
    over distinct sources (all pairs sharing a source go to the same split), drawn with
    ``default_rng(seed)``; each split keeps the file's order. Both vocabularies hold the
    TRAIN split's tokens in sorted order, so valid/test may contain UNK.

    A task restored with ``tasks.from_state`` keeps its vocabularies without the file;
    the file is read again (lazily) only when a split is accessed, and must hold the data
    the state recorded (see ``DataFile``).
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
    def from_state(cls, state: dict[str, Any], path: str | None = None, accept_changed_data: bool = False) -> "FileTask":
        """Rebuild from ``state()`` without reading the file (``path`` overrides the stored one;
        ``accept_changed_data``: read whatever it holds, see ``DataFile``)."""
        task = cls._restored(state, path, accept_changed_data)
        task.src_vocab = Vocab.from_dict(state["src_vocab"])
        task.tgt_vocab = Vocab.from_dict(state["tgt_vocab"])
        task.max_src_len, task.max_tgt_len = task._check_lengths(state)
        task._splits = None
        task._raw = None
        return task

    def _check_lengths(self, state: dict[str, Any]) -> tuple[int, int]:
        """The state's ``max_src_len`` and ``max_tgt_len`` (decoders run up to the latter): at
        least 1 and 2, and no longer than the recorded data file's bytes allow (a token is at
        least one byte), so a crafted state cannot send a decoder on for ever."""
        src = check_int(self.name, "max_src_len", state["max_src_len"], minimum=1)
        tgt = check_int(self.name, "max_tgt_len", state["max_tgt_len"], minimum=2)
        size = None if self.data_fingerprint is None else self.data_fingerprint["bytes"]
        if size is not None and max(src, tgt - 1) > size:
            raise TaskError(f"{self.name}: the state's max_src_len ({src}) and max_tgt_len ({tgt}) do not fit its "
                            f"{size}-byte data file")
        return src, tgt

    def _check(self, o: dict[str, Any]) -> dict[str, Any]:
        self._check_path(o, "a TSV file of source<TAB>target lines")
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
        for src_text, tgt_text, _ in parse_tsv(self._read_data(), path, self.name):
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
        self._require_data_file()
        self._raw = self._read_splits()
        return self._encode(self._raw)

    def state(self) -> dict[str, Any]:
        """``Seq2SeqTask.state()`` plus the data file's fingerprint (``"data"``)."""
        return self._state_with_fingerprint(super().state())

    def raw_pairs(self, split: str) -> list[tuple[list[str], list[str]]]:
        """The token strings of each pair of ``split``, before encoding (tokens outside the
        train vocabulary are visible here, where the ids hold UNK); same order as the ids."""
        self.split(split)
        assert self._raw is not None  # set whenever the splits are loaded
        return self._raw[split]
