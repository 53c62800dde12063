"""dates: every format parses back to the right ISO date, checked with datetime.strptime."""

import datetime as dt
import re

import numpy as np
import pytest

from minigrad import tasks
from minigrad.tasks import UNK
from minigrad.tasks.dates import CASES, FIRST_DATE, FORMATS, LAST_DATE, format_date, parse_date

STRPTIME = {"d": "%d", "dd": "%d", "m": "%m", "mm": "%m", "mon": "%b", "month": "%B",
            "yy": "%y", "yyyy": "%Y", "wd": "%a", "weekday": "%A"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SMALL = {"train_size": 400, "valid_size": 50, "test_size": 50}


def strptime_pattern(fmt: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: STRPTIME[m.group(1)], fmt)


def strptime_date(text: str, fmt: str) -> dt.date:
    """datetime's reading of ``text``, moved to our 1950-2049 window (Python pivots %y at 69)."""
    date = dt.datetime.strptime(text, strptime_pattern(fmt)).date()
    return date.replace(year=date.year - 100) if date.year > LAST_DATE.year else date


def some_dates():
    rng = np.random.default_rng(0)
    span = (LAST_DATE - FIRST_DATE).days
    picked = [FIRST_DATE + dt.timedelta(days=int(d)) for d in rng.integers(0, span + 1, size=60)]
    edges = [FIRST_DATE, LAST_DATE, dt.date(2000, 2, 29), dt.date(1968, 7, 4), dt.date(1969, 1, 1),
             dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(2021, 3, 3), dt.date(2021, 9, 15)]
    return edges + picked


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_case_reads_back_with_strptime(fmt):
    for date in some_dates():
        for case in CASES:
            text = format_date(date, fmt, case)
            assert strptime_date(text, fmt) == date, text
            assert parse_date(text) == date, text
            for i, name in enumerate(WEEKDAYS):  # weekday names must be the right ones
                if "{weekday}" in fmt:
                    assert (name in text.lower()) == (i == date.weekday()), text
                elif "{wd}" in fmt:
                    assert (re.search(rf"\b{name[:3]}\b", text.lower()) is not None) == (i == date.weekday()), text


def test_examples_of_surface_forms():
    d = dt.date(2021, 3, 3)
    assert format_date(d, "{d} {month} {yyyy}") == "3 march 2021"
    assert format_date(d, "{wd} {mm}/{dd}/{yy}", "title") == "Wed 03/03/21"
    assert format_date(d, "{month} {d}, {yyyy}", "title") == "March 3, 2021"
    assert format_date(d, "{dd}-{mon}-{yyyy}", "upper") == "03-MAR-2021"
    assert format_date(d, "{weekday}, {d} {mon} {yyyy}") == "wednesday, 3 mar 2021"


def test_two_digit_year_pivot():
    assert parse_date("1 jan 50") == dt.date(1950, 1, 1)
    assert parse_date("31 dec 49") == dt.date(2049, 12, 31)
    assert parse_date("7/4/68") == dt.date(1968, 7, 4)


def test_slash_is_month_first_and_dot_is_day_first():
    assert parse_date("03/04/2021") == dt.date(2021, 3, 4)
    assert parse_date("03.04.2021") == dt.date(2021, 4, 3)


@pytest.mark.parametrize("text", ["31 feb 2021", "tue 03/03/21", "2021-13-01", "hello", "3 marchh 2021"])
def test_parse_rejects_invalid_dates(text):
    assert parse_date(text) is None  # 3 march 2021 was a Wednesday, not a Tuesday


def test_generated_pairs_are_unambiguous_and_right():
    t = tasks.get("dates", seed=2, **SMALL)
    cases = set()
    for src, tgt in t.train + t.valid + t.test:
        text, iso = t.decode_source(src), t.decode_target(tgt)
        assert UNK not in src
        readings = set()
        for fmt in FORMATS:
            try:
                readings.add(strptime_date(text, fmt))
            except ValueError:
                pass
        assert readings == {dt.date.fromisoformat(iso)}, text
        assert len(src) <= t.max_src_len and len(tgt) < t.max_tgt_len
        if text != text.lower():
            cases.add("upper" if text == text.upper() else "title")
    assert cases == {"upper", "title"}


def test_vocabularies_are_fixed_and_example_encodes():
    a, b = tasks.get("dates", seed=0, **SMALL), tasks.get("dates", seed=9, **SMALL)
    assert a.src_vocab == b.src_vocab and a.tgt_vocab == b.tgt_vocab
    assert a.tgt_vocab.symbols == list("0123456789-")
    assert a.encode_source("3 march 2021") == [12, 4, 52, 41, 56, 43, 48, 4, 11, 9, 11, 10]
    assert a.encode_source("Mar 3, 2021") == [30, 41, 56, 4, 12, 5, 4, 11, 9, 11, 10]
    ids = a.reference(a.encode_source("Mar 3, 2021"))
    assert ids == [6, 4, 6, 5, 14, 4, 7, 14, 4, 7] and a.decode_target(ids) == "2021-03-03"
    assert a.reference(a.encode_source("31 feb 2021")) is None
    with pytest.raises(tasks.TaskError, match="'q'"):
        a.encode_source("3 marq 2021")


def test_dates_rejects_length_options_and_huge_sizes():
    with pytest.raises(tasks.TaskError, match="max_len"):
        tasks.get("dates", max_len=5)
    with pytest.raises(tasks.TaskError, match="200000"):
        tasks.get("dates", train_size=300000)


def test_dates_has_two_vocabularies_and_says_so():
    import pytest

    with pytest.raises(AttributeError, match="src_vocab and tgt_vocab"):
        tasks.get("dates").vocab
