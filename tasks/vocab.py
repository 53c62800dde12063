"""Vocabularies: token strings <-> integer ids, with four special tokens at ids 0..3.

Example (the ``copy`` task's vocabulary)::

    >>> v = Vocab([str(i) for i in range(10)], tokenizer="space")
    >>> v.encode("3 1 4")
    [7, 5, 8]
    >>> v.decode([7, 5, 8, EOS, PAD])
    ['3', '1', '4']
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

from minigrad.tasks.errors import TaskError

PAD = 0
BOS = 1
EOS = 2
UNK = 3
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
TOKENIZERS = ("char", "space")

_PREVIEW_TOKENS = 20


class Vocab:
    """An ordered set of token strings; ids 0..3 are ``<pad> <bos> <eos> <unk>``.

    ``symbols`` are the ordinary tokens in id order (ids 4, 5, ...). Duplicates and the
    special strings themselves are skipped. ``tokenizer`` says how a plain string is split
    into tokens: ``"char"`` (every character is a token, joined back with ``""``) or
    ``"space"`` (whitespace-separated, joined back with ``" "``).
    """

    pad_id = PAD
    bos_id = BOS
    eos_id = EOS
    unk_id = UNK

    def __init__(self, symbols: Iterable[str], tokenizer: str = "char") -> None:
        if tokenizer not in TOKENIZERS:
            raise TaskError(f"tokenizer must be one of {', '.join(TOKENIZERS)}; got {tokenizer!r}")
        self.tokenizer = tokenizer
        self._id_to_token: list[str] = list(SPECIAL_TOKENS)
        self._token_to_id: dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
        for symbol in symbols:
            if not isinstance(symbol, str):
                raise TaskError(f"vocabulary symbols must be strings; got {symbol!r}")
            if symbol == "":
                raise TaskError("vocabulary symbols must be non-empty strings")
            if symbol not in self._token_to_id:
                self._token_to_id[symbol] = len(self._id_to_token)
                self._id_to_token.append(symbol)

    # -- lookup -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._id_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self._token_to_id

    def __iter__(self) -> Iterator[str]:
        return iter(self._id_to_token)

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order, specials first."""
        return list(self._id_to_token)

    @property
    def symbols(self) -> list[str]:
        """The ordinary (non-special) tokens in id order."""
        return self._id_to_token[len(SPECIAL_TOKENS):]

    def token_to_id(self, token: str) -> int:
        """The id of ``token``; ``UNK`` if it is not in the vocabulary."""
        return self._token_to_id.get(token, UNK)

    def id_to_token(self, index: int) -> str:
        """The token string of id ``index``; TaskError if out of range."""
        i = int(index)
        if not 0 <= i < len(self._id_to_token):
            raise TaskError(f"token id {i} is out of range for a vocabulary of {len(self)} tokens")
        return self._id_to_token[i]

    # -- text <-> tokens ----------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into token strings with this vocabulary's tokenizer."""
        return list(text) if self.tokenizer == "char" else text.split()

    def join(self, tokens: Sequence[str]) -> str:
        """Inverse of ``tokenize``: ``""``-joined for char, ``" "``-joined for space."""
        return ("" if self.tokenizer == "char" else " ").join(tokens)

    # -- encode / decode ----------------------------------------------------------------

    def encode(self, symbols: str | Sequence[str], strict: bool = False) -> list[int]:
        """Token ids of ``symbols`` (a list of tokens, or a string split by ``tokenize``).

        Unknown tokens become ``UNK``; with ``strict=True`` they raise a TaskError naming
        them and listing the valid tokens. No BOS/EOS is added.
        """
        tokens = self.tokenize(symbols) if isinstance(symbols, str) else list(symbols)
        if strict:
            unknown = [t for t in tokens if t not in self._token_to_id or self._token_to_id[t] < len(SPECIAL_TOKENS)]
            if unknown:
                raise TaskError(self._unknown_message(unknown))
        return [self._token_to_id.get(t, UNK) for t in tokens]

    def strict_encode(self, symbols: str | Sequence[str]) -> list[int]:
        """``encode(symbols, strict=True)``: raise TaskError on tokens outside the vocabulary."""
        return self.encode(symbols, strict=True)

    def decode(self, ids: Iterable[int], strip_special: bool = True) -> list[str]:
        """Token strings of ``ids`` (any iterable of ints, e.g. a 1-D array).

        With ``strip_special`` (the default) decoding stops at the first EOS and the special
        tokens PAD, BOS and UNK are dropped; otherwise every id is rendered, specials as
        ``"<pad>"`` etc.
        """
        out = []
        for index in ids:
            i = int(index)
            if strip_special:
                if i == EOS:
                    break
                if i < len(SPECIAL_TOKENS):
                    continue
            out.append(self.id_to_token(i))
        return out

    def decode_text(self, ids: Iterable[int], strip_special: bool = True) -> str:
        """``join(decode(ids, strip_special))``: the surface string of ``ids``."""
        return self.join(self.decode(ids, strip_special))

    def _unknown_message(self, unknown: list[str]) -> str:
        distinct = list(dict.fromkeys(unknown))
        shown = ", ".join(repr(t) for t in distinct[:_PREVIEW_TOKENS])
        if len(distinct) > _PREVIEW_TOKENS:
            shown += f", ... ({len(distinct)} distinct)"
        noun = "token" if len(distinct) == 1 else "tokens"
        return f"unknown {noun} {shown}; valid tokens: {self.preview()}"

    def preview(self, limit: int = 40) -> str:
        """A short human-readable listing of the ordinary tokens (abbreviated past ``limit``)."""
        symbols = self.symbols
        head = symbols[:limit]
        if self.tokenizer == "char":
            text = repr("".join(head))
        else:
            text = " ".join(head)
        if len(symbols) > limit:
            text += f" ... ({len(symbols)} in all)"
        return text

    # -- serialisation ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description: ``{"tokens": [...all, specials first], "tokenizer": ...}``."""
        return {"tokens": list(self._id_to_token), "tokenizer": self.tokenizer}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Vocab":
        """Rebuild a vocabulary from ``to_dict()``'s output; TaskError if it is malformed."""
        if not isinstance(d, dict) or not isinstance(d.get("tokens"), list):
            raise TaskError("vocabulary state must be a dict with a 'tokens' list")
        tokens = d["tokens"]
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise TaskError(f"vocabulary state must start with the special tokens {list(SPECIAL_TOKENS)}")
        rest = tokens[len(SPECIAL_TOKENS):]
        if len(set(rest)) != len(rest) or set(rest) & set(SPECIAL_TOKENS):
            raise TaskError("vocabulary state has duplicate tokens")
        return cls(rest, tokenizer=d.get("tokenizer", "char"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._id_to_token == other._id_to_token and self.tokenizer == other.tokenizer

    def __hash__(self) -> int:
        return hash((tuple(self._id_to_token), self.tokenizer))

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens, tokenizer={self.tokenizer!r}: {self.preview(12)})"
