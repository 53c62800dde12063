"""copy / reverse / sort / add: encoded examples, correctness, determinism, splits, options."""

import itertools

import pytest

from minigrad import tasks
from minigrad.tasks import TaskError

SMALL = {"train_size": 300, "valid_size": 50, "test_size": 50}
SYMBOL_TASKS = ["copy", "reverse", "sort"]
ALL_SYNTHETIC = ["copy", "reverse", "sort", "add", "dates"]


def all_pairs(task):
    return task.train + task.valid + task.test


def test_names_are_sorted_and_complete():
    assert tasks.names() == ["add", "copy", "dates", "file", "reverse", "sort", "text"]


def test_unknown_task_lists_valid_names():
    with pytest.raises(TaskError) as err:
        tasks.get("cpy")
    msg = str(err.value)
    assert "'cpy'" in msg and "copy" in msg and "reverse" in msg and "text" in msg


@pytest.mark.parametrize("name", ALL_SYNTHETIC)
def test_unknown_option_is_named(name):
    with pytest.raises(TaskError, match="'colour'"):
        tasks.get(name, colour=3)


@pytest.mark.parametrize(
    "options, quoted",
    [
        ({"min_len": 0}, "0"),
        ({"min_len": 5, "max_len": 3}, "5"),
        ({"vocab_size": 1}, "1"),
        ({"max_len": 2.5}, "2.5"),
        ({"max_len": True}, "True"),
        ({"seed": -1}, "-1"),
        ({"train_size": 0}, "0"),
        ({"valid_size": -2}, "-2"),
    ],
)
def test_bad_option_values_are_quoted(options, quoted):
    with pytest.raises(TaskError) as err:
        tasks.get("copy", **options)
    assert quoted in str(err.value)


def test_none_means_default():
    t = tasks.get("copy", vocab_size=None, max_len=None, seed=None, **SMALL)
    assert t.options["vocab_size"] == 10 and t.options["max_len"] == 10 and t.options["seed"] == 0


def test_not_applicable_option_is_rejected():
    with pytest.raises(TaskError, match="vocab_size"):
        tasks.get("add", vocab_size=5)


@pytest.mark.parametrize(
    "name, src, tgt, src_ids, tgt_ids",
    [
        ("copy", "3 1 4", "3 1 4", [7, 5, 8], [7, 5, 8]),
        ("reverse", "3 1 4", "4 1 3", [7, 5, 8], [8, 5, 7]),
        ("sort", "3 1 4 1", "1 1 3 4", [7, 5, 8, 5], [5, 5, 7, 8]),
        ("add", "12+7", "19", [5, 6, 14, 11], [5, 13]),
    ],
)
def test_encoded_examples(name, src, tgt, src_ids, tgt_ids):
    t = tasks.get(name, **SMALL)
    assert t.encode_source(src) == src_ids
    assert t.reference(src_ids) == tgt_ids
    assert t.decode_target(tgt_ids + [tasks.EOS, 9]) == tgt


def test_sort_is_numeric_past_nine():
    t = tasks.get("sort", vocab_size=12, **SMALL)
    ids = t.encode_source("10 9 11 2")
    assert t.decode_target(t.reference(ids)) == "2 9 10 11"


def test_add_accepts_spaces_and_rejects_other_characters():
    t = tasks.get("add", **SMALL)
    assert t.encode_source(" 12 + 7 ") == [5, 6, 14, 11]
    with pytest.raises(TaskError, match="'x'"):
        t.encode_source("12x7")
    assert t.reference(t.encode_source("1++2")) is None


def test_encode_source_is_strict_and_rejects_empty():
    t = tasks.get("copy", **SMALL)
    with pytest.raises(TaskError) as err:
        t.encode_source("3 10")
    assert "'10'" in str(err.value) and str(err.value).startswith("copy:")
    with pytest.raises(TaskError, match="empty"):
        t.encode_source("   ")


@pytest.mark.parametrize("name", SYMBOL_TASKS)
def test_symbol_targets_and_lengths(name):
    t = tasks.get(name, vocab_size=6, min_len=2, max_len=7, **SMALL)
    expected = {"copy": list, "reverse": lambda s: s[::-1], "sort": sorted}[name]
    lengths = set()
    for src, tgt in all_pairs(t):
        assert tgt == expected(src)
        assert all(4 <= i < 10 for i in src)
        lengths.add(len(src))
    assert lengths == set(range(2, 8))  # uniform lengths reach every length
    assert t.src_vocab is t.tgt_vocab and len(t.src_vocab) == 10
    assert t.max_src_len == 7 and t.max_tgt_len == 8


def test_add_targets_are_sums_and_operands_have_allowed_digits():
    t = tasks.get("add", min_len=2, max_len=3, **SMALL)
    for src, tgt in all_pairs(t):
        a, b = t.decode_source(src).split("+")
        assert 2 <= len(a) <= 3 and 2 <= len(b) <= 3
        assert not a.startswith("0") and not b.startswith("0")
        assert t.decode_target(tgt) == str(int(a) + int(b))
        assert len(src) <= t.max_src_len and len(tgt) + 1 <= t.max_tgt_len
    assert (t.max_src_len, t.max_tgt_len) == (7, 5)


@pytest.mark.parametrize("name", ALL_SYNTHETIC)
def test_same_options_same_splits_other_seed_other_splits(name):
    a, b = tasks.get(name, seed=3, **SMALL), tasks.get(name, seed=3, **SMALL)
    assert (a.train, a.valid, a.test) == (b.train, b.valid, b.test)
    c = tasks.get(name, seed=4, **SMALL)
    assert a.train != c.train


@pytest.mark.parametrize("name", ALL_SYNTHETIC)
def test_splits_have_requested_sizes_and_never_share_a_source(name):
    t = tasks.get(name, **SMALL)
    assert (len(t.train), len(t.valid), len(t.test)) == (300, 50, 50)
    sources = [tuple(s) for s, _ in all_pairs(t)]
    assert len(set(sources)) == len(sources)


def test_default_sizes():
    t = tasks.get("copy")
    assert (t.options["train_size"], t.options["valid_size"], t.options["test_size"]) == (10000, 1000, 1000)


def test_small_space_is_clamped_and_fully_used():
    t = tasks.get("copy", vocab_size=2, min_len=1, max_len=3)
    assert t.options["train_size"] + t.options["valid_size"] + t.options["test_size"] == 14
    every = {tuple(p) for n in (1, 2, 3) for p in itertools.product([4, 5], repeat=n)}
    assert {tuple(s) for s, _ in all_pairs(t)} == every
    assert len(t.valid) == len(t.test) == 1


def test_explicit_sizes_beyond_the_space_raise_with_the_count():
    with pytest.raises(TaskError, match="only 14 distinct"):
        tasks.get("copy", vocab_size=2, max_len=3, train_size=10, valid_size=3, test_size=3)


def test_add_small_space_uses_all_pairs():
    t = tasks.get("add", min_len=1, max_len=1)
    assert len(all_pairs(t)) == 100
    assert {t.decode_source(s) for s, _ in all_pairs(t)} == {f"{a}+{b}" for a in range(10) for b in range(10)}


def test_generation_does_not_touch_global_numpy_state():
    import numpy as np

    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    tasks.get("reverse", **SMALL).train
    assert np.random.random() == before


def test_a_shared_vocabulary_is_also_task_vocab():
    for name in ("copy", "reverse", "sort", "add"):
        task = tasks.get(name)
        assert task.vocab is task.src_vocab and task.vocab == task.tgt_vocab
