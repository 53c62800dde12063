"""file and text tasks record their data file's fingerprint (size + SHA-256) in their state,
and a restored task refuses a file whose contents changed, unless told to accept it."""

import hashlib
import json
import os

import pytest

from minigrad import tasks
from minigrad.tasks import DataFileChanged, TaskError

PAIRS = "".join(f"w{i}\tv{i}\n" for i in range(30))
TEXT = "the quick brown fox jumps over the lazy dog. " * 20


def _make(kind: str, path) -> tasks.Task:
    if kind == "file":
        path.write_text(PAIRS)
        return tasks.get("file", path=str(path))
    path.write_text(TEXT)
    return tasks.get("text", path=str(path), block_size=8)


def _read(task: tasks.Task) -> None:
    """Make the task read its data file."""
    if task.kind == "lm":
        task.train_ids  # noqa: B018
    else:
        task.split("train")


@pytest.fixture(params=["file", "text"])
def saved(request, tmp_path):
    """(data path, JSON state of a task built from it)."""
    path = tmp_path / "data.txt"
    return path, json.loads(json.dumps(_make(request.param, path).state()))


def test_the_state_records_size_and_sha256_of_the_data_file(saved):
    path, state = saved
    data = path.read_bytes()
    assert state["data"] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@pytest.mark.parametrize("edit", ["append", "same-size"])
def test_a_restored_task_refuses_a_changed_file_naming_it(saved, edit):
    path, state = saved
    data = path.read_bytes()
    path.write_bytes(data + b"w99\tv99\n" if edit == "append" else b"x" + data[1:])
    again = tasks.from_state(state)
    with pytest.raises(DataFileChanged) as caught:
        _read(again)
    message = str(caught.value)
    assert isinstance(caught.value, TaskError) and "\n" not in message
    assert str(path) in message and f"{state['data']['bytes']} bytes" in message and "changed" in message


def test_accept_changed_data_reads_it_and_records_the_new_fingerprint(saved):
    path, state = saved
    path.write_bytes(b"x" + path.read_bytes()[1:])
    again = tasks.from_state(state, accept_changed_data=True)
    _read(again)
    assert again.state()["data"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_moved_file_with_the_same_contents_is_accepted_another_is_not(saved, tmp_path):
    path, state = saved
    moved = tmp_path / "moved.txt"
    os.rename(path, moved)
    again = tasks.from_state(state, path=str(moved))
    _read(again)
    assert again.state()["data"] == state["data"] and again.options["path"] == str(moved)
    moved.write_bytes(moved.read_bytes() + b"x\ty\n")
    with pytest.raises(DataFileChanged, match=str(moved)):
        _read(tasks.from_state(state, path=str(moved)))


def test_a_state_without_a_fingerprint_keeps_working(saved):
    """A state with no "data" fingerprint has nothing to check the file against: the file is read as
    it is, and the restored task records its fingerprint."""
    path, state = saved
    del state["data"]
    path.write_bytes(path.read_bytes() + b"w99\tv99\n")
    again = tasks.from_state(state)
    _read(again)
    assert again.state()["data"]["bytes"] == len(path.read_bytes())


@pytest.mark.parametrize("bad", ["abc", {"bytes": -1, "sha256": "0" * 64}, {"bytes": 3, "sha256": "xyz"}, {"bytes": 3}])
def test_a_malformed_fingerprint_is_a_task_error(saved, bad):
    _, state = saved
    with pytest.raises(TaskError, match="'data'"):
        tasks.from_state({**state, "data": bad})


@pytest.mark.parametrize("key, value", [("max_tgt_len", 10**9), ("max_src_len", 10**9), ("max_tgt_len", 0)])
def test_a_file_state_with_lengths_its_data_cannot_have_is_refused(tmp_path, key, value):
    """Decoders run up to max_tgt_len: a crafted state must not send them on for ever."""
    state = _make("file", tmp_path / "pairs.tsv").state()
    with pytest.raises(TaskError, match=key):
        tasks.from_state({**state, key: value})
