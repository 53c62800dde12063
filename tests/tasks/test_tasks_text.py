"""text: splits, windows, resumable sampling, errors, unigram baseline, restoring."""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import tasks
from minigrad.tasks import TaskError

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(40))


@pytest.fixture(scope="module")
def text_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def task(text_path):
    return tasks.get("text", path=text_path, block_size=16, valid_fraction=0.2, seed=1)


def test_vocab_and_contiguous_split(task):
    """train, valid (20% here) and test (5% by default) are contiguous parts of the file, in order."""
    assert task.kind == "lm" and task.src_vocab is task.vocab is task.tgt_vocab
    assert task.vocab.symbols == sorted(set(TEXT))
    assert task.splits == ("train", "valid", "test")
    n = len(TEXT)
    n_valid, n_test = round(n * 0.2), round(n * 0.05)
    n_train = n - n_valid - n_test
    assert task.train_ids.dtype == np.int64 and task.valid_ids.ndim == 1
    assert (len(task.train_ids), len(task.valid_ids), len(task.test_ids)) == (n_train, n_valid, n_test)
    assert task.decode_target(task.train_ids) == TEXT[:n_train]
    assert task.decode_target(task.valid_ids) == TEXT[n_train:n_train + n_valid]
    assert task.decode_target(task.test_ids) == TEXT[n_train + n_valid:]
    np.testing.assert_array_equal(task.split_ids("test"), task.test_ids)


def test_test_fraction_zero_leaves_no_test_split(text_path):
    t = tasks.get("text", path=text_path, block_size=16, valid_fraction=0.2, test_fraction=0)
    assert t.splits == ("train", "valid") and len(t.test_ids) == 0
    assert len(t.train_ids) + len(t.valid_ids) == len(TEXT)
    with pytest.raises(TaskError, match="valid splits: train, valid"):
        t.split_ids("test")


def test_encoded_example(tmp_path):
    path = tmp_path / "hello.txt"
    path.write_text("hello world\n" * 3)
    t = tasks.get("text", path=str(path), block_size=4, valid_fraction=0.3, test_fraction=0)
    assert t.vocab.symbols == ["\n", " ", "d", "e", "h", "l", "o", "r", "w"]
    assert t.encode_source("hello") == [8, 7, 9, 9, 10]


def test_valid_windows_are_deterministic_non_overlapping_and_shifted(task):
    batches = list(task.batches("valid", batch_size=3))
    x = np.concatenate([b.x for b in batches])
    y = np.concatenate([b.y for b in batches])
    v = task.valid_ids
    assert x.shape[1] == 16
    assert len(x) == (len(v) - 1) // 16
    np.testing.assert_array_equal(x.ravel(), v[: len(x) * 16])  # windows tile valid in order
    np.testing.assert_array_equal(y.ravel(), v[1 : len(x) * 16 + 1])
    again = np.concatenate([b.x for b in task.batches("valid", batch_size=3, shuffle=True, seed=4)])
    assert sorted(map(tuple, again)) == sorted(map(tuple, x))


def test_shuffled_train_epoch(task):
    a = np.concatenate([b.x for b in task.batches("train", 4, shuffle=True, seed=2)])
    b = np.concatenate([b.x for b in task.batches("train", 4, shuffle=True, seed=2)])
    c = np.concatenate([b.x for b in task.batches("train", 4, shuffle=False)])
    np.testing.assert_array_equal(a, b)
    assert a.shape[1] == 16 and not np.array_equal(a, c)
    np.testing.assert_array_equal(c.ravel(), task.train_ids[: c.size])


def test_sample_batches_are_train_windows_with_shifted_targets(task):
    t = task.train_ids
    text = task.decode_target(t)
    for batch in itertools.islice(task.sample_batches(8, seed=3), 5):
        assert batch.x.shape == batch.y.shape == (8, 16) and batch.size == 8
        for x, y in zip(batch.x, batch.y):
            np.testing.assert_array_equal(x[1:], y[:-1])
            window = task.decode_target(np.concatenate([x, y[-1:]]))
            assert window in text


@settings(max_examples=20, deadline=None)
@given(start=st.integers(0, 50), batch_size=st.integers(1, 9))
def test_start_step_resumes_exactly(task, start, batch_size):
    full = list(itertools.islice(task.sample_batches(batch_size, seed=7), start + 2))
    resumed = list(itertools.islice(task.sample_batches(batch_size, seed=7, start_step=start), 2))
    for a, b in zip(full[start:], resumed):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)


def test_unigram_loss_by_hand(tmp_path):
    path = tmp_path / "ab.txt"
    path.write_text("aaab" * 5)  # 20 chars, valid = last 4 = "aaab"
    t = tasks.get("text", path=str(path), block_size=3, valid_fraction=0.2, test_fraction=0)
    # train "aaab" * 4: a=12, b=4; add-one over a, b and UNK -> p(a)=13/19, p(b)=5/19
    expected = -(3 * math.log(13 / 19) + math.log(5 / 19)) / 4
    assert t.unigram_loss() == pytest.approx(expected)
    assert t.unigram_bits_per_token() == pytest.approx(expected / math.log(2))


def test_word_tokenize(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("the cat sat on the mat\n" * 40)
    t = tasks.get("text", path=str(path), tokenize="word", block_size=4)
    assert t.vocab.symbols == ["cat", "mat", "on", "sat", "the"]
    assert t.decode_target(t.encode_source("the cat sat")) == "the cat sat"
    with pytest.raises(TaskError, match="'dog'"):
        t.encode_source("the dog")


def test_strict_encode_names_characters(task):
    with pytest.raises(TaskError) as err:
        task.encode_source("the Zebra!")
    assert "'Z'" in str(err.value) and "'!'" in str(err.value)
    assert task.encode_source("") == []


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"hello\x00world" * 50, "binary"),
        (b"caf\xe9 " * 100, "not UTF-8"),
        (b"short text", "too short"),
    ],
)
def test_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(TaskError, match=match) as err:
        tasks.get("text", path=str(path))
    assert str(path) in str(err.value)


def test_bad_options(text_path):
    with pytest.raises(TaskError, match="'path' is required"):
        tasks.get("text")
    with pytest.raises(TaskError, match="block_size must be >= 1, got 0"):
        tasks.get("text", path=text_path, block_size=0)
    with pytest.raises(TaskError, match="valid_fraction"):
        tasks.get("text", path=text_path, valid_fraction=0)
    with pytest.raises(TaskError, match="test_fraction must leave some training text"):
        tasks.get("text", path=text_path, valid_fraction=0.5, test_fraction=0.5)
    with pytest.raises(TaskError, match="'dev'"):
        next(tasks.get("text", path=text_path, block_size=8).batches("dev", 2))


def test_state_round_trip_with_and_without_the_file(task, tmp_path):
    state = json.loads(json.dumps(task.state()))
    again = tasks.from_state(state)
    assert again.vocab == task.vocab and again.block_size == 16
    np.testing.assert_array_equal(again.valid_ids, task.valid_ids)
    gone = tasks.from_state(state, path=str(tmp_path / "missing.txt"))
    assert gone.encode_source("quick fox") == task.encode_source("quick fox")
    assert gone.decode_target(task.encode_source("lazy dog")) == "lazy dog"
    with pytest.raises(TaskError, match="not available"):
        gone.train_ids
