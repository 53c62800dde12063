"""Synthetic tasks bound their work: sizes that cannot work are refused at once, naming the option,
and the splits of sizes inside the bounds are pinned below: a bound changes no split it allows."""

from __future__ import annotations

import hashlib
import json

import pytest

from minigrad import tasks
from minigrad.tasks.synthetic import MAX_SOURCE_TOKENS, MAX_SYMBOL_LEN, MAX_VOCAB_SIZE, SPACE_LIMIT

# (task, options) -> the first 16 hex digits of sha256(json of {split: pairs}), and the split sizes.
# Pinned: options inside the bounds give exactly these splits, so a change to what a task generates fails here.
PINNED = [
    ("copy", {}, "2378796aea182d4d", [10000, 1000, 1000]),
    ("reverse", dict(vocab_size=3, min_len=1, max_len=4), "b42795438a1e07d9", [96, 12, 12]),
    ("sort", dict(vocab_size=5, max_len=6, seed=7, train_size=50, valid_size=10, test_size=10), "598bee20b01adf90",
     [50, 10, 10]),
    ("add", dict(min_len=1, max_len=2, seed=1), "dc0e31f8a7d258c2", [8000, 1000, 1000]),
    ("copy", dict(vocab_size=2, max_len=30, train_size=100, valid_size=5, test_size=5, seed=3), "a7bd56a6dde5f0b4",
     [100, 5, 5]),
    ("dates", dict(train_size=30, valid_size=5, test_size=5, seed=2), "5544c7418c086761", [30, 5, 5]),
]


@pytest.mark.parametrize("name, options, digest, sizes", PINNED)
def test_options_inside_the_bounds_give_the_pinned_splits(name, options, digest, sizes):
    task = tasks.get(name, **options)
    splits = {split: task.split(split) for split in ("train", "valid", "test")}
    assert [len(pairs) for pairs in splits.values()] == sizes
    assert hashlib.sha256(json.dumps(splits).encode()).hexdigest()[:16] == digest


def test_a_reverse_split_reads_as_its_source_reversed():
    """One pinned pair in the clear, so a change in the digest above has a readable neighbour."""
    task = tasks.get("reverse", vocab_size=3, min_len=1, max_len=4)
    assert task.split("train")[0] == ([4, 4, 4, 6], [6, 4, 4, 4])


@pytest.mark.parametrize("name", ["copy", "reverse", "sort"])
def test_a_max_len_beyond_the_limit_is_refused_at_once(name):
    with pytest.raises(tasks.TaskError, match=f"{name}: max_len must be <= {MAX_SYMBOL_LEN}, got 1000000"):
        tasks.get(name, max_len=1000000, train_size=100)


def test_a_vocabulary_beyond_the_limit_is_refused_at_once():
    with pytest.raises(tasks.TaskError, match=f"copy: vocab_size must be <= {MAX_VOCAB_SIZE}, got 10000000000"):
        tasks.get("copy", vocab_size=10**10)


def test_the_largest_space_is_counted_without_enumerating_it():
    """vocab_size**max_len at the limits has a million digits; the count stops at SPACE_LIMIT."""
    task = tasks.get("copy", vocab_size=MAX_VOCAB_SIZE, min_len=MAX_SYMBOL_LEN, max_len=MAX_SYMBOL_LEN, train_size=5,
                     valid_size=1, test_size=1)
    assert task._space_size() == SPACE_LIMIT
    assert len(task.split("train")) == 5 and len(task.split("train")[0][0]) == MAX_SYMBOL_LEN


def test_small_spaces_are_still_counted_exactly():
    assert tasks.get("copy", vocab_size=2, min_len=1, max_len=3)._space_size() == 2 + 4 + 8
    assert tasks.get("copy", vocab_size=2, min_len=62, max_len=62, train_size=1)._space_size() == SPACE_LIMIT
    assert tasks.get("copy", vocab_size=2, min_len=61, max_len=61, train_size=1)._space_size() == 2**61


@pytest.mark.parametrize("name, options", [
    ("copy", dict(max_len=MAX_SYMBOL_LEN)),  # the default 12,000 sources of up to 1000 symbols
    ("copy", dict(train_size=10**12)),
    ("add", dict(max_len=18, train_size=10**6)),
    ("copy", dict(vocab_size=2, max_len=3, train_size=10**30)),
])
def test_splits_of_more_source_tokens_than_the_budget_are_refused(name, options):
    with pytest.raises(tasks.TaskError, match=f"exceed {MAX_SOURCE_TOKENS:,} source tokens, the most a task generates") as err:
        tasks.get(name, **options)
    assert "train_size" in str(err.value) and "max_len" in str(err.value)


def test_a_crafted_task_state_is_refused_the_same_way():
    state = tasks.get("copy", max_len=5, train_size=10, valid_size=2, test_size=2).state()
    state["options"]["max_len"] = 10**6
    with pytest.raises(tasks.TaskError, match="max_len must be <="):
        tasks.from_state(state)
