"""state() / from_state(): JSON round trips that rebuild identical tasks."""

import json

import pytest

from minigrad import tasks
from minigrad.tasks import TaskError

SMALL = {"train_size": 200, "valid_size": 30, "test_size": 30}


@pytest.mark.parametrize("name, options", [
    ("copy", {"vocab_size": 5, "max_len": 6, "seed": 4}),
    ("reverse", {"min_len": 3}),
    ("sort", {"vocab_size": 20}),
    ("add", {"max_len": 4, "seed": 2}),
    ("dates", {"seed": 8}),
])
def test_synthetic_round_trip(name, options):
    t = tasks.get(name, **options, **SMALL)
    state = json.loads(json.dumps(t.state()))
    assert state["name"] == name and state["kind"] == "seq2seq"
    again = tasks.from_state(state)
    assert type(again) is type(t) and again.options == t.options
    assert (again.train, again.valid, again.test) == (t.train, t.valid, t.test)
    assert again.src_vocab == t.src_vocab and again.tgt_vocab == t.tgt_vocab
    assert (again.max_src_len, again.max_tgt_len) == (t.max_src_len, t.max_tgt_len)
    assert again.state() == state


def test_state_options_are_the_resolved_ones():
    state = tasks.get("copy", vocab_size=2, max_len=3).state()
    assert state["options"] == {"vocab_size": 2, "min_len": 1, "max_len": 3, "seed": 0,
                                "train_size": 12, "valid_size": 1, "test_size": 1}


def test_mismatched_vocab_is_refused():
    state = tasks.get("copy", **SMALL).state()
    state["src_vocab"]["tokens"] = state["src_vocab"]["tokens"][:-1]
    with pytest.raises(TaskError, match="src_vocab"):
        tasks.from_state(state)


@pytest.mark.parametrize("bad", [None, {}, {"name": "copy"}, {"name": "nope", "options": {}}])
def test_malformed_state(bad):
    with pytest.raises(TaskError):
        tasks.from_state(bad)


def test_defaults_lists_every_option():
    assert tasks.defaults("copy") == {"vocab_size": 10, "min_len": 1, "max_len": 10, "seed": 0,
                                      "train_size": None, "valid_size": None, "test_size": None}
    assert tasks.defaults("text")["block_size"] == 64
    with pytest.raises(TaskError, match="valid tasks"):
        tasks.defaults("nope")
