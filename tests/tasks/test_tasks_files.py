"""file: TSV reading, errors with file and line, splits, train-only vocabularies, restoring."""

import json

import pytest

from minigrad import tasks
from minigrad.tasks import UNK, TaskError

LINES = [f"w{i} x{i % 3}\tv{i} y{i % 3}" for i in range(40)]


def write(tmp_path, text, name="pairs.tsv", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def tsv(tmp_path):
    return write(tmp_path, "\n".join(LINES) + "\n")


def test_space_tokenized_pairs_round_trip(tsv):
    t = tasks.get("file", path=tsv, tokenize="space")
    assert (len(t.train), len(t.valid), len(t.test)) == (32, 4, 4)
    texts = {t.decode_source(s): t.decode_target(g) for s, g in t.train}
    for line in LINES:
        src, tgt = line.split("\t")
        if src in texts:
            assert texts[src] == tgt
    assert t.max_src_len == 2 and t.max_tgt_len == 3


def test_char_tokenize_and_data_alias(tmp_path):
    path = write(tmp_path, "ab\tba\nabc\tcba\ncab\tbac\nbb\tbb\n")
    t = tasks.get("file", data=path, tokenize="char", valid_fraction=0.25, test_fraction=0.25)
    assert t.options["path"] == path and t.src_vocab.tokenizer == "char"
    src, tgt = t.train[0]
    assert t.decode_target(tgt) == t.decode_source(src)[::-1]
    assert t.encode_source("ab") == [t.src_vocab.token_to_id("a"), t.src_vocab.token_to_id("b")]


def test_splits_are_deterministic_and_disjoint_by_source(tmp_path):
    lines = LINES + ["w1 x1\tother target", "w1 x1\tv1 y1", "w2 x2\tv2 y2"]  # shared source, repeated pair
    path = write(tmp_path, "\n".join(lines))
    a, b = tasks.get("file", path=path, tokenize="space"), tasks.get("file", path=path, tokenize="space")
    assert (a.train, a.valid, a.test) == (b.train, b.valid, b.test)
    per_split = [{tuple(s) for s, _ in a.raw_pairs(split)} for split in ("train", "valid", "test")]
    assert not (per_split[0] & per_split[1] or per_split[0] & per_split[2] or per_split[1] & per_split[2])
    assert sum(len(s) for s in per_split) == 40
    assert sum(len(split) for split in (a.train, a.valid, a.test)) == 41  # 40 pairs + 1 extra target
    w1 = [split for split in ("train", "valid", "test") for s, _ in a.raw_pairs(split) if s == ["w1", "x1"]]
    assert len(w1) == 2 and w1[0] == w1[1]  # both targets of "w1 x1" went to the same split
    for split in ("train", "valid", "test"):
        assert [a.src_vocab.encode(s) for s, _ in a.raw_pairs(split)] == [s for s, _ in a.split(split)]
    other = tasks.get("file", path=path, tokenize="space", seed=1)
    assert other.train != a.train


def test_vocabularies_come_from_train_only(tmp_path):
    path = write(tmp_path, "\n".join(LINES))
    t = tasks.get("file", path=path, tokenize="space")
    train_tokens = {tok for s, _ in t.train for tok in t.src_vocab.decode(s)}
    assert set(t.src_vocab.symbols) == train_tokens
    held_out = t.valid + t.test
    assert all(UNK in s for s, _ in held_out)  # w<i> of a held-out line never occurs in train
    assert t.src_vocab.symbols == sorted(t.src_vocab.symbols)


def test_sizes_instead_of_fractions(tsv):
    t = tasks.get("file", path=tsv, tokenize="space", valid_size=10, test_size=0)
    assert (len(t.train), len(t.valid), len(t.test)) == (30, 10, 0)


def test_blank_lines_and_crlf_are_fine(tmp_path):
    path = write(tmp_path, "\r\n".join(["a\tb", "", "  ", "c\td", "e\tf", ""]))
    t = tasks.get("file", path=path, tokenize="space", valid_size=1, test_size=1)
    assert len(t.train) == 1 and t.decode_target(t.train[0][1]) in {"b", "d", "f"}


@pytest.mark.parametrize(
    "text, line",
    [
        ("a\tb\nno tab here\nc\td\n", 2),
        ("a\tb\n\nc\td\te\n", 3),
        ("a\tb\n\t target only\n", 2),
        ("a\t   \n", 1),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(TaskError) as err:
        tasks.get("file", path=path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: expected source<TAB>target, got ")
    assert "\n" not in msg


def test_long_bad_line_is_abbreviated(tmp_path):
    path = write(tmp_path, "x" * 500 + "\n")
    with pytest.raises(TaskError) as err:
        tasks.get("file", path=path)
    assert len(str(err.value)) < 200


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("a\tb\n", "only 1"),
        ("a\tb\na\tc\n", "only 1"),
        ("a\tb\nc\td\n", "too few"),
    ],
)
def test_too_little_data(tmp_path, content, match):
    path = write(tmp_path, content)
    with pytest.raises(TaskError, match=match) as err:
        tasks.get("file", path=path)
    assert path in str(err.value)


def test_missing_directory_binary_and_non_utf8(tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        tasks.get("file", path=str(tmp_path / "nope.tsv"))
    with pytest.raises(TaskError, match="directory"):
        tasks.get("file", path=str(tmp_path))
    with pytest.raises(TaskError, match="binary"):
        tasks.get("file", path=write(tmp_path, b"a\tb\x00\n", "bin.tsv", "wb"))
    with pytest.raises(TaskError, match="not UTF-8.*0xff"):
        tasks.get("file", path=write(tmp_path, b"a\tb\n\xff\tc\n", "latin.tsv", "wb"))


def test_option_errors():
    with pytest.raises(TaskError, match="'path' is required"):
        tasks.get("file")
    with pytest.raises(TaskError, match="'bpe'"):
        tasks.get("file", path="x.tsv", tokenize="bpe")
    with pytest.raises(TaskError, match="1.5"):
        tasks.get("file", path="x.tsv", valid_fraction=1.5)


def test_state_round_trip_with_and_without_the_file(tsv, tmp_path):
    t = tasks.get("file", path=tsv, tokenize="space")
    state = json.loads(json.dumps(t.state()))
    again = tasks.from_state(state)
    assert again.src_vocab == t.src_vocab and again.tgt_vocab == t.tgt_vocab
    assert (again.train, again.valid, again.test) == (t.train, t.valid, t.test)
    assert again.state() == state

    gone = tasks.from_state(state, path=str(tmp_path / "moved.tsv"))
    src = t.decode_source(t.train[0][0])
    assert gone.encode_source(src) == t.train[0][0]
    assert gone.decode_target(t.train[0][1]) == t.decode_target(t.train[0][1])
    assert (gone.max_src_len, gone.max_tgt_len) == (t.max_src_len, t.max_tgt_len)
    with pytest.raises(TaskError, match="not available"):
        gone.train
    with pytest.raises(TaskError, match="'zzz'"):
        gone.encode_source("zzz")
