"""Metrics on hand-computed cases and against a plain loop."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.tasks import EOS, PAD, AccuracyCounts, accuracy_counts, align_predictions, sequence_accuracy, token_accuracy

TARGET = np.array([[5, 6, EOS, PAD], [7, EOS, PAD, PAD], [4, 4, 4, EOS]])


def test_hand_computed_accuracies():
    pred = np.array([[5, 6, EOS, 9], [7, 8, PAD, PAD], [4, 9, 4, EOS]])
    # non-pad target positions: 3 + 2 + 4 = 9; right: 3 + 1 + 3 = 7
    assert token_accuracy(pred, TARGET) == pytest.approx(7 / 9)
    assert sequence_accuracy(pred, TARGET) == pytest.approx(1 / 3)


def test_pad_positions_are_ignored_whatever_is_predicted():
    pred = TARGET.copy()
    pred[TARGET == PAD] = 11
    assert token_accuracy(pred, TARGET) == 1.0 and sequence_accuracy(pred, TARGET) == 1.0


def test_custom_pad_id():
    target = np.array([[1, 9, 9]])
    pred = np.array([[1, 0, 0]])
    assert token_accuracy(pred, target, pad_id=9) == 1.0
    assert token_accuracy(pred, target, pad_id=0) == pytest.approx(1 / 3)


def test_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(3, 3\)"):
        token_accuracy(TARGET, TARGET[:, :3])


def test_no_real_tokens_is_nan():
    assert math.isnan(token_accuracy(np.zeros((2, 3), int), np.zeros((2, 3), int)))


def test_align_cuts_after_first_eos_and_pads_or_truncates():
    pred = [[5, 6, EOS, 7, EOS], [7], [4, 4, 4, 4, 4, 4]]
    out = align_predictions(pred, width=4)
    np.testing.assert_array_equal(out, [[5, 6, EOS, PAD], [7, PAD, PAD, PAD], [4, 4, 4, 4]])
    assert out.dtype == np.int64
    # the first row is right (stops at the right place), the second stops too early,
    # the third never stops
    assert sequence_accuracy(out, TARGET) == pytest.approx(1 / 3)


def test_counts_add_up_over_batches():
    pred = np.array([[5, 6, EOS, 9], [7, 8, PAD, PAD], [4, 9, 4, EOS]])
    total = accuracy_counts(pred[:1], TARGET[:1]) + accuracy_counts(pred[1:], TARGET[1:])
    assert total == accuracy_counts(pred, TARGET) == AccuracyCounts(7, 9, 1, 3)
    assert total.token_accuracy == pytest.approx(7 / 9)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.integers(0, 3)), st.data())
def test_against_a_plain_loop(target, data):
    pred = data.draw(hnp.arrays(np.int64, target.shape, elements=st.integers(0, 3)))
    right = total = rows_right = 0
    for p_row, t_row in zip(pred.tolist(), target.tolist()):
        ok = True
        for p, t in zip(p_row, t_row):
            if t != 0:
                total += 1
                right += p == t
                ok &= p == t
        rows_right += ok
    if total:
        assert token_accuracy(pred, target) == pytest.approx(right / total)
    assert sequence_accuracy(pred, target) == pytest.approx(rows_right / len(target))
