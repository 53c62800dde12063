"""Vocab: special ids, encode/decode, strict encoding, serialisation."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import tasks
from minigrad.tasks import BOS, EOS, PAD, UNK, TaskError, Vocab


def digits_vocab() -> Vocab:
    return Vocab([str(i) for i in range(10)], tokenizer="space")


def test_special_ids_and_tokens():
    v = digits_vocab()
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert (v.pad_id, v.bos_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert v.tokens[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert len(v) == 14
    assert v.token_to_id("0") == 4 and v.token_to_id("9") == 13
    assert v.id_to_token(7) == "3"


def test_encode_example_and_unknown_becomes_unk():
    v = digits_vocab()
    assert v.encode("3 1 4") == [7, 5, 8]
    assert v.encode(["3", "1", "4"]) == [7, 5, 8]
    assert v.encode("3 x 4") == [7, UNK, 8]
    assert v.token_to_id("x") == UNK


def test_char_tokenizer_splits_every_character():
    v = Vocab(list("ab "), tokenizer="char")
    assert v.encode("ab a") == [4, 5, 6, 4]
    assert v.decode_text([4, 5, 6, 4]) == "ab a"


def test_duplicates_and_special_strings_are_skipped():
    v = Vocab(["a", "b", "a", "<pad>"])
    assert v.symbols == ["a", "b"]


def test_decode_stops_at_eos_and_drops_specials():
    v = digits_vocab()
    assert v.decode([BOS, 7, 5, PAD, 8, EOS, 9, 9]) == ["3", "1", "4"]
    assert v.decode([7, UNK, 8]) == ["3", "4"]
    assert v.decode([BOS, 7, EOS, PAD], strip_special=False) == ["<bos>", "3", "<eos>", "<pad>"]
    assert v.decode_text([7, 5, 8]) == "3 1 4"


def test_strict_encode_names_bad_tokens_and_lists_valid_ones():
    v = digits_vocab()
    with pytest.raises(TaskError) as err:
        v.strict_encode("3 12 x 12")
    msg = str(err.value)
    assert "'12'" in msg and "'x'" in msg and msg.count("'12'") == 1
    assert "0 1 2 3 4 5 6 7 8 9" in msg
    assert "\n" not in msg
    with pytest.raises(TaskError):
        v.encode("<pad> 3", strict=True)  # specials are not user input
    assert v.encode("3 1", strict=True) == [7, 5]


def test_strict_error_abbreviates_a_large_vocabulary():
    v = Vocab([f"w{i}" for i in range(500)], tokenizer="space")
    with pytest.raises(TaskError) as err:
        v.strict_encode("nope")
    assert "(500 in all)" in str(err.value) and "w499" not in str(err.value)


def test_id_to_token_out_of_range():
    with pytest.raises(TaskError, match="out of range"):
        digits_vocab().id_to_token(14)


def test_bad_tokenizer_is_rejected():
    with pytest.raises(TaskError, match="tokenizer"):
        Vocab(["a"], tokenizer="bpe")


def test_equality_depends_on_order_and_tokenizer():
    assert Vocab(["a", "b"]) == Vocab(["a", "b"])
    assert Vocab(["a", "b"]) != Vocab(["b", "a"])
    assert Vocab(["a", "b"], tokenizer="space") != Vocab(["a", "b"], tokenizer="char")


@given(st.lists(st.text(min_size=1, max_size=4), max_size=30), st.sampled_from(["char", "space"]))
def test_dict_round_trip_through_json(symbols, tokenizer):
    v = Vocab(symbols, tokenizer=tokenizer)
    w = Vocab.from_dict(json.loads(json.dumps(v.to_dict())))
    assert w == v and w.tokens == v.tokens
    ids = list(range(4, len(v)))
    assert w.encode(w.decode(ids)) == ids


@pytest.mark.parametrize("bad", [{}, {"tokens": ["a", "b"]}, {"tokens": ["<pad>", "<bos>", "<eos>", "<unk>", "a", "a"]}])
def test_from_dict_rejects_malformed_state(bad):
    with pytest.raises(TaskError):
        Vocab.from_dict(bad)


def test_task_error_is_a_value_error():
    assert issubclass(tasks.TaskError, ValueError)
