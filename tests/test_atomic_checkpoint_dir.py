"""minigrad.checkpoint_dir with a layout of a user's own: the atomic save any training script can use.

(The checkpoint of minigrad-train, one such layout, is tested in tests/models/test_checkpoint_dir.py.)
"""

from __future__ import annotations

import os

import pytest

from minigrad import checkpoint_dir
from minigrad.errors import CheckpointError
from minigrad.serialization import load_json

LAYOUT = checkpoint_dir.Layout(files=("weights.txt", "state.json"), state_file="state.json", format="my-run")


def writer(text: str, step: int):
    def write(target: str) -> None:
        with open(os.path.join(target, "weights.txt"), "w") as f:
            f.write(text)
        checkpoint_dir.write_state(target, LAYOUT, {"step": step})

    return write


def test_a_save_replaces_the_files_it_writes_and_keeps_the_users(tmp_path):
    directory = tmp_path / "ck"
    checkpoint_dir.save(directory, writer("first", 1), LAYOUT)
    (directory / "notes.md").write_text("mine")
    checkpoint_dir.save(directory, writer("second", 2), LAYOUT)
    assert (directory / "weights.txt").read_text() == "second"
    assert (directory / "notes.md").read_text() == "mine"
    assert checkpoint_dir.users_entries(directory, LAYOUT) == ["notes.md"]
    state = checkpoint_dir.read_state(directory, LAYOUT)
    assert state["step"] == 2 and state["format"] == "my-run"
    checkpoint_dir.check_manifest(directory, state, LAYOUT)
    assert sorted(os.listdir(tmp_path)) == ["ck"]  # no temporary copy left behind


def test_a_file_changed_after_the_save_is_named(tmp_path):
    directory = tmp_path / "ck"
    checkpoint_dir.save(directory, writer("weights", 1), LAYOUT)
    (directory / "weights.txt").write_text("edited")
    with pytest.raises(CheckpointError, match="weights.txt is corrupt or was changed after saving"):
        checkpoint_dir.check_manifest(directory, load_json(directory / "state.json"), LAYOUT)


def test_a_directory_of_another_kind_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("1,2")
    with pytest.raises(CheckpointError, match="is not a minigrad checkpoint"):
        checkpoint_dir.save(tmp_path / "data", writer("w", 1), LAYOUT)
    assert os.listdir(tmp_path / "data") == ["table.csv"]


def test_a_failed_write_leaves_the_old_save(tmp_path):
    directory = tmp_path / "ck"
    checkpoint_dir.save(directory, writer("old", 1), LAYOUT)

    def failing(target: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(CheckpointError, match="No space left on device"):
        checkpoint_dir.save(directory, failing, LAYOUT)
    assert (directory / "weights.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["ck"]
