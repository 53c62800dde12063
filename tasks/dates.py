"""dates: human-written dates -> ISO "YYYY-MM-DD".

Dates are drawn uniformly from 1950-01-01 .. 2049-12-31. Two-digit years use the pivot 50:
"50".."99" mean 1950..1999 and "00".."49" mean 2000..2049, so every two-digit year in the
data is unambiguous. (Python's ``%y`` pivots at 69 instead; ``parse_date`` below uses 50.)

Each example picks one of ``FORMATS`` and one of three letter cases (lower, upper, title).
Numeric orders are fixed by the separator so no string is ambiguous: with "/" the month
comes first unless the year does ("03/04/21" is 4 March 2021, US style), with "." the day
comes first unless the year does ("04.03.2021" is 4 March 2021), and "-" is ISO or
"dd-mon-yyyy". Month and weekday names are English, independent of the locale.

Encoded example: src "3 march 2021" -> ids [12, 4, 52, 41, 56, 43, 48, 4, 11, 9, 11, 10]
(characters in ``SOURCE_ALPHABET`` order); tgt "2021-03-03" -> ids
[6, 4, 6, 5, 14, 4, 7, 14, 4, 7] ('0'..'9' -> 4..13, '-' -> 14).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Hashable, Sequence

import numpy as np

from minigrad.tasks.base import Pair
from minigrad.tasks.errors import TaskError
from minigrad.tasks.synthetic import SyntheticTask
from minigrad.tasks.vocab import Vocab

FIRST_DATE = dt.date(1950, 1, 1)
LAST_DATE = dt.date(2049, 12, 31)
YEAR_PIVOT = 50  # two-digit years >= 50 are 19xx, below are 20xx
MAX_EXAMPLES = 200_000

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Placeholders: {d} day, {dd} zero-padded day, {m} month, {mm} zero-padded month,
# {mon} 3-letter month, {month} month name, {yy} two-digit year, {yyyy} year,
# {wd} 3-letter weekday, {weekday} weekday name.
FORMATS = (
    "{d} {month} {yyyy}",            # 3 march 2021
    "{d} {mon} {yyyy}",              # 3 mar 2021
    "{dd} {month} {yyyy}",           # 03 march 2021
    "{d} {mon} {yy}",                # 3 mar 21
    "{month} {d}, {yyyy}",           # march 3, 2021
    "{mon} {d}, {yyyy}",             # mar 3, 2021
    "{mon} {d} {yyyy}",              # mar 3 2021
    "{weekday}, {d} {mon} {yyyy}",   # wednesday, 3 mar 2021
    "{weekday}, {month} {d}, {yyyy}",  # wednesday, march 3, 2021
    "{wd}, {d} {month} {yyyy}",      # wed, 3 march 2021
    "{wd} {mon} {d} {yyyy}",         # wed mar 3 2021
    "{wd} {mm}/{dd}/{yy}",           # wed 03/03/21
    "{mm}/{dd}/{yyyy}",              # 03/03/2021
    "{m}/{d}/{yy}",                  # 3/3/21
    "{yyyy}/{mm}/{dd}",              # 2021/03/03
    "{yyyy}.{mm}.{dd}",              # 2021.03.03
    "{dd}.{mm}.{yyyy}",              # 03.03.2021
    "{d}.{m}.{yyyy}",                # 3.3.2021
    "{dd}-{mon}-{yyyy}",             # 03-mar-2021
    "{yyyy}-{mm}-{dd}",              # 2021-03-03
)
CASES = ("lower", "upper", "title")

_LETTERS = sorted(set("".join(MONTHS + WEEKDAYS)))
SOURCE_ALPHABET = " ,-./0123456789" + "".join(c.upper() for c in _LETTERS) + "".join(_LETTERS)
TARGET_ALPHABET = "0123456789-"

_LONGEST = {"d": "29", "dd": "29", "m": "12", "mm": "12", "mon": "sep", "month": "september",
            "yy": "49", "yyyy": "2049", "wd": "wed", "weekday": "wednesday"}


def format_date(date: dt.date, fmt: str, case: str = "lower") -> str:
    """Write ``date`` in ``fmt`` (one of ``FORMATS``) and ``case`` (one of ``CASES``)."""
    fields = {
        "d": str(date.day), "dd": f"{date.day:02d}", "m": str(date.month), "mm": f"{date.month:02d}",
        "mon": MONTHS[date.month - 1][:3], "month": MONTHS[date.month - 1],
        "yy": f"{date.year % 100:02d}", "yyyy": str(date.year),
        "wd": WEEKDAYS[date.weekday()][:3], "weekday": WEEKDAYS[date.weekday()],
    }
    text = fmt.format(**fields)
    return text.upper() if case == "upper" else text.title() if case == "title" else text


def _format_regex(fmt: str) -> re.Pattern[str]:
    groups = {"d": r"(?P<d>\d{1,2})", "dd": r"(?P<d>\d{2})", "m": r"(?P<m>\d{1,2})", "mm": r"(?P<m>\d{2})",
              "mon": r"(?P<mon>[a-z]{3})", "month": r"(?P<month>[a-z]+)", "yy": r"(?P<yy>\d{2})",
              "yyyy": r"(?P<yyyy>\d{4})", "wd": r"(?P<wd>[a-z]{3})", "weekday": r"(?P<weekday>[a-z]+)"}
    parts = re.split(r"\{(\w+)\}", fmt)
    pattern = "".join(groups[p] if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"^{pattern}$")


_REGEXES = [_format_regex(f) for f in FORMATS]


def parse_date(text: str) -> dt.date | None:
    """The date written in ``text`` in any of ``FORMATS`` and any case, or None.

    Weekday names must match the date; two-digit years use the pivot 50.
    """
    text = text.strip().lower()
    for regex in _REGEXES:
        match = regex.match(text)
        if match is None:
            continue
        g = match.groupdict()
        if "month" in g:
            month = MONTHS.index(g["month"]) + 1 if g["month"] in MONTHS else 0
        elif "mon" in g:
            month = [m[:3] for m in MONTHS].index(g["mon"]) + 1 if g["mon"] in [m[:3] for m in MONTHS] else 0
        else:
            month = int(g["m"])
        if "yyyy" in g:
            year = int(g["yyyy"])
        else:
            year = int(g["yy"]) + (1900 if int(g["yy"]) >= YEAR_PIVOT else 2000)
        try:
            date = dt.date(year, month, int(g["d"]))
        except ValueError:
            continue
        weekday = WEEKDAYS[date.weekday()]
        if g.get("weekday", weekday) != weekday or g.get("wd", weekday[:3]) != weekday[:3]:
            continue
        return date
    return None


class DatesTask(SyntheticTask):
    """dates: a date written in one of 20 human formats x 3 letter cases -> "YYYY-MM-DD".

    Options: ``seed`` and the split sizes (at most 200,000 examples in all). Character-level
    vocabularies fixed by the format alphabet (``SOURCE_ALPHABET``, ``TARGET_ALPHABET``),
    independent of the sample. Sources are distinct strings; the same day may appear in
    several splits written differently. ``max_tgt_len = 11``.

    Encoded example: src "Mar 3, 2021" -> ids [30, 41, 56, 4, 12, 5, 4, 11, 9, 11, 10];
    tgt "2021-03-03" -> ids [6, 4, 6, 5, 14, 4, 7, 14, 4, 7].
    """

    name = "dates"
    DEFAULTS: dict[str, Any] = {}

    def _check(self, opts: dict[str, Any]) -> None:
        self.src_vocab = Vocab(SOURCE_ALPHABET, tokenizer="char")
        self.tgt_vocab = Vocab(TARGET_ALPHABET, tokenizer="char")
        self.max_src_len = max(len(f.format(**_LONGEST)) for f in FORMATS)
        self.max_tgt_len = len("YYYY-MM-DD") + 1

    def _resolve_sizes(self, opts: dict[str, Any]) -> None:
        super()._resolve_sizes(opts)
        total = opts["train_size"] + opts["valid_size"] + opts["test_size"]
        if total > MAX_EXAMPLES:
            raise TaskError(f"dates: train_size + valid_size + test_size = {total}; at most {MAX_EXAMPLES} are supported")

    def _describe_space(self) -> str:
        return f"dates {FIRST_DATE}..{LAST_DATE}"

    def _space_size(self) -> int:
        # An estimate well above MAX_EXAMPLES; the exact count of distinct strings is a
        # little lower (e.g. "may" is both the month name and its abbreviation).
        return ((LAST_DATE - FIRST_DATE).days + 1) * len(FORMATS) * len(CASES)

    def _sample(self, rng: np.random.Generator, n: int) -> list[Hashable]:
        days = rng.integers(0, (LAST_DATE - FIRST_DATE).days + 1, size=n).tolist()
        fmts = rng.integers(0, len(FORMATS), size=n).tolist()
        cases = rng.integers(0, len(CASES), size=n).tolist()
        return [format_date(FIRST_DATE + dt.timedelta(days=d), FORMATS[f], CASES[c]) for d, f, c in zip(days, fmts, cases)]

    def _make_pair(self, key: Hashable) -> Pair:
        date = parse_date(key)  # type: ignore[arg-type]
        if date is None:  # cannot happen for strings made by format_date
            raise TaskError(f"dates: internal error, cannot parse {key!r}")
        return self.src_vocab.encode(key), self.tgt_vocab.encode(date.isoformat())  # type: ignore[arg-type]

    def encode_source(self, text: str) -> list[int]:
        """Character ids of a written date (outer whitespace stripped; strict)."""
        return super().encode_source(text.strip())

    def reference(self, src_ids: Sequence[int]) -> list[int] | None:
        """Ids of the ISO date when ``src_ids`` spell a date in a known format, else None."""
        date = parse_date(self.src_vocab.decode_text(src_ids, strip_special=False))
        return None if date is None else self.tgt_vocab.encode(date.isoformat())
