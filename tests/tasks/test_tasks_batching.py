"""Batches: shapes, padding, BOS/EOS placement, epochs, shuffling, resumable streams."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import tasks
from minigrad.tasks import BOS, EOS, PAD, TaskError

TASK = tasks.get("reverse", vocab_size=7, min_len=1, max_len=9, train_size=203, valid_size=40, test_size=30, seed=5)


def rows_of(batch):
    """The (src, tgt) pairs a batch encodes, recovered through its lengths."""
    out = []
    for i in range(batch.size):
        src = batch.src[i, : batch.src_lengths[i]].tolist()
        tgt = batch.tgt_out[i, : batch.tgt_lengths[i] - 1].tolist()
        out.append((src, tgt))
    return out


def test_collate_example():
    b = tasks.collate([([7, 5], [5, 7]), ([9], [9, 9, 9])])
    np.testing.assert_array_equal(b.src, [[7, 5], [9, PAD]])
    np.testing.assert_array_equal(b.tgt_in, [[BOS, 5, 7, PAD], [BOS, 9, 9, 9]])
    np.testing.assert_array_equal(b.tgt_out, [[5, 7, EOS, PAD], [9, 9, 9, EOS]])
    np.testing.assert_array_equal(b.src_lengths, [2, 1])
    np.testing.assert_array_equal(b.tgt_lengths, [3, 4])
    assert b.size == 2
    assert all(a.dtype == np.int64 for a in (b.src, b.src_lengths, b.tgt_in, b.tgt_out, b.tgt_lengths))


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_batch_layout(split):
    for batch in TASK.batches(split, batch_size=16, shuffle=True):
        B = batch.size
        assert batch.src.shape == (B, int(batch.src_lengths.max()))
        T = int(batch.tgt_lengths.max())
        assert batch.tgt_in.shape == batch.tgt_out.shape == (B, T)
        assert (batch.tgt_in[:, 0] == BOS).all()
        for i in range(B):
            n, m = batch.src_lengths[i], batch.tgt_lengths[i]
            assert (batch.src[i, :n] >= 4).all() and (batch.src[i, n:] == PAD).all()
            assert batch.tgt_out[i, m - 1] == EOS and (batch.tgt_out[i, : m - 1] >= 4).all()
            assert (batch.tgt_out[i, m:] == PAD).all() and (batch.tgt_in[i, m:] == PAD).all()
            np.testing.assert_array_equal(batch.tgt_in[i, 1:m], batch.tgt_out[i, : m - 1])  # shifted by one
            assert batch.tgt_out[i, : m - 1].tolist() == batch.src[i, :n].tolist()[::-1]


@pytest.mark.parametrize("shuffle", [False, True])
def test_one_epoch_covers_each_pair_once(shuffle):
    seen = [p for b in TASK.batches("train", 32, shuffle=shuffle) for p in rows_of(b)]
    assert sorted(seen) == sorted(TASK.train)
    if not shuffle:
        assert seen == TASK.train
    else:
        assert seen != TASK.train


def test_batch_sizes_and_drop_last():
    sizes = [b.size for b in TASK.batches("train", 50, shuffle=False)]
    assert sizes == [50, 50, 50, 50, 3]
    assert [b.size for b in TASK.batches("train", 50, shuffle=False, drop_last=True)] == [50] * 4


def test_shuffle_is_deterministic_per_seed():
    def order(seed):
        return [p for b in TASK.batches("train", 64, shuffle=True, seed=seed) for p in rows_of(b)]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert order(None) == order(TASK.options["seed"])


def test_bad_split_and_batch_size():
    with pytest.raises(TaskError, match="'dev'"):
        next(TASK.batches("dev", 8))
    with pytest.raises(TaskError, match="batch_size"):
        next(TASK.batches("train", 0))


def test_sample_batches_epochs_are_reshuffled_permutations():
    per_epoch = TASK.steps_per_epoch(50)
    assert per_epoch == 4
    stream = TASK.sample_batches(50, seed=9)
    epochs = [[p for _ in range(per_epoch) for p in rows_of(next(stream))] for _ in range(2)]
    for epoch in epochs:
        assert len(epoch) == 200 and len(set(map(repr, epoch))) == 200  # no repeats within an epoch
        assert all(p in TASK.train for p in epoch[:20])
    assert epochs[0] != epochs[1]


def test_sample_batches_same_seed_same_stream():
    a = list(itertools.islice(TASK.sample_batches(16, seed=3), 30))
    b = list(itertools.islice(TASK.sample_batches(16, seed=3), 30))
    c = list(itertools.islice(TASK.sample_batches(16, seed=4), 30))
    assert all(np.array_equal(x.src, y.src) and np.array_equal(x.tgt_out, y.tgt_out) for x, y in zip(a, b))
    assert not all(np.array_equal(x.src, y.src) for x, y in zip(a, c))


@settings(max_examples=25, deadline=None)
@given(batch_size=st.integers(1, 250), start=st.integers(0, 40))
def test_start_step_resumes_exactly(batch_size, start):
    full = list(itertools.islice(TASK.sample_batches(batch_size, seed=11), start + 3))
    resumed = list(itertools.islice(TASK.sample_batches(batch_size, seed=11, start_step=start), 3))
    for x, y in zip(full[start:], resumed):
        assert np.array_equal(x.src, y.src) and np.array_equal(x.tgt_in, y.tgt_in)
        assert x.size == y.size == min(batch_size, len(TASK.train))


def test_empty_split_yields_no_batches():
    t = tasks.get("copy", train_size=20, valid_size=0, test_size=5)
    assert list(t.batches("valid", 4)) == []
