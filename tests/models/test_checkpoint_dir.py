"""Checkpoint directories: atomic replacement, crash recovery, corruption reported by file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from minigrad.errors import CheckpointError
from minigrad.models import checkpoint as ckpt


def _files(value: float = 1.0, step: int = 3) -> dict:
    return dict(
        model_state={"w": np.full((2, 3), value, dtype=np.float32)},
        optimizer_state={"optimizer": {"state": {0: {"step": step, "exp_avg": np.zeros((2, 3), np.float32)}},
                                       "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]},
                         "scheduler": {"last_epoch": step}},
        config={"task": "copy"},
        task_state={"name": "copy", "options": {}},
        state=ckpt.TrainingState(step=step, history=[{"step": step}], rng_state={"k": 2**100}),
    )


def test_save_and_read_round_trip(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files())
    assert sorted(os.listdir(directory)) == sorted(ckpt.DATA_FILES + (ckpt.STATE_FILE,))
    model_state, config, task_state, state = ckpt.read_checkpoint(directory)
    np.testing.assert_array_equal(model_state["w"], np.ones((2, 3), np.float32))
    assert config == {"task": "copy"} and task_state["name"] == "copy"
    assert state.step == 3 and state.history == [{"step": 3}] and state.rng_state == {"k": 2**100}
    tree = ckpt.read_optimizer(directory)
    assert tree["optimizer"]["state"][0]["step"] == 3
    assert tree["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert tree["scheduler"] == {"last_epoch": 3}


def test_replacing_keeps_best_and_leaves_no_temporaries(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(1.0, step=1))
    ckpt.save_best(directory, **_files(5.0, step=1))
    ckpt.save_checkpoint(directory, **_files(2.0, step=2))
    assert ckpt.read_checkpoint(directory)[3].step == 2
    best_state = ckpt.read_checkpoint(directory / "best")[0]
    assert best_state["w"][0, 0] == 5.0
    assert [e for e in os.listdir(tmp_path) if e != "run"] == []


def test_crash_between_renames_is_recovered(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(1.0, step=1))
    newer = tmp_path / "newer"
    ckpt.save_checkpoint(newer, **_files(2.0, step=2))
    # The state a crash leaves between "DIR -> .DIR.old-x" and ".DIR.tmp-y -> DIR":
    os.replace(directory, tmp_path / ".run.old-0001")
    os.replace(newer, tmp_path / ".run.tmp-0002")
    assert ckpt.read_checkpoint(directory)[3].step == 2  # the complete new copy wins
    assert os.path.isdir(directory)


def test_partial_temporary_is_ignored_and_cleaned(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(1.0, step=1))
    partial = tmp_path / ".run.tmp-dead"
    partial.mkdir()
    (partial / ckpt.MODEL_FILE).write_bytes(b"half")
    assert ckpt.read_checkpoint(directory)[3].step == 1
    ckpt.save_checkpoint(directory, **_files(2.0, step=2))
    assert not partial.exists()


def test_failed_save_leaves_the_old_checkpoint(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(1.0, step=1))
    bad = _files(2.0, step=2)
    bad["config"] = {"not json": object()}
    with pytest.raises(TypeError):
        ckpt.save_checkpoint(directory, **bad)
    assert ckpt.read_checkpoint(directory)[3].step == 1
    assert [e for e in os.listdir(tmp_path) if e != "run"] == []


def test_refuses_a_directory_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        ckpt.save_checkpoint(tmp_path / "docs", **_files())
    assert (tmp_path / "docs" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("filename", ckpt.DATA_FILES)
def test_a_changed_file_is_named(tmp_path, filename):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files())
    path = directory / filename
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(CheckpointError, match=filename):
        ckpt.read_checkpoint(directory)


def test_missing_pieces_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.read_checkpoint(tmp_path / "nowhere")
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files())
    os.remove(directory / ckpt.TASK_FILE)
    with pytest.raises(CheckpointError, match="task.json"):
        ckpt.read_checkpoint(directory)
    (directory / ckpt.STATE_FILE).write_text("{ not json")
    with pytest.raises(CheckpointError, match="state.json"):
        ckpt.read_checkpoint(directory)


def test_state_json_is_plain_json_with_a_manifest(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files())
    data = json.loads((directory / ckpt.STATE_FILE).read_text())
    assert data["format"] == ckpt.FORMAT and set(data["files"]) == set(ckpt.DATA_FILES)
    import safetensors.numpy

    assert set(safetensors.numpy.load_file(str(directory / ckpt.MODEL_FILE))) == {"w"}


def test_a_users_own_files_survive_a_save(tmp_path):
    path = tmp_path / "ck"
    ckpt.save_checkpoint(path, **_files(step=1))
    (path / "results.json").write_text('{"mine": 1}')
    ckpt.save_checkpoint(path, **_files(step=2))
    assert (path / "results.json").read_text() == '{"mine": 1}'
    assert ckpt.is_checkpoint(path)


# -- everything a save did not write is kept -------------------------------------------------------


def _users_entries(directory, outside) -> None:
    """One entry of each kind a user may leave in a checkpoint directory (``outside``: a symlink's target)."""
    (directory / "plots").mkdir()
    (directory / "plots" / "deep").mkdir()
    (directory / "plots" / "deep" / "loss.png").write_bytes(b"png")
    (directory / ".notes").write_text("hidden")
    (directory / ".gitignore").write_text("*\n")
    outside.write_text("the target")
    os.symlink(outside, directory / "link")
    os.mkfifo(directory / "pipe")


def _assert_users_entries(directory, outside) -> None:
    import stat

    assert (directory / "plots" / "deep" / "loss.png").read_bytes() == b"png"
    assert (directory / ".notes").read_text() == "hidden" and (directory / ".gitignore").read_text() == "*\n"
    assert os.path.islink(directory / "link") and os.readlink(directory / "link") == str(outside)
    assert outside.read_text() == "the target"
    assert stat.S_ISFIFO(os.lstat(directory / "pipe").st_mode)


@pytest.mark.parametrize("where", [".", "best"])
def test_a_save_keeps_every_entry_it_did_not_write(tmp_path, where):
    directory, outside = tmp_path / "run", tmp_path / "target.txt"
    ckpt.save_checkpoint(directory, **_files(step=1))
    ckpt.save_best(directory, **_files(step=1))
    _users_entries(directory / where, outside)
    ckpt.save_checkpoint(directory, **_files(step=2))
    ckpt.save_best(directory, **_files(step=2))
    ckpt.save_checkpoint(directory, **_files(step=3))
    _assert_users_entries(directory / where, outside)
    assert ckpt.read_checkpoint(directory)[3].step == 3 and ckpt.read_checkpoint(directory / "best")[3].step == 2
    assert sorted(os.listdir(tmp_path)) == ["run", "target.txt"]  # no temporary directory left behind


def test_a_failed_swap_puts_the_users_entries_back(tmp_path, monkeypatch):
    directory, outside = tmp_path / "run", tmp_path / "target.txt"
    ckpt.save_checkpoint(directory, **_files(step=1))
    _users_entries(directory, outside)
    real_replace = os.replace

    def replace(src, dst):
        if os.fspath(src) == str(directory):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(CheckpointError, match="Permission denied"):
        ckpt.save_checkpoint(directory, **_files(step=2))
    monkeypatch.setattr(os, "replace", real_replace)
    _assert_users_entries(directory, outside)
    assert ckpt.read_checkpoint(directory)[3].step == 1
    assert sorted(os.listdir(tmp_path)) == ["run", "target.txt"]


def test_entries_a_crash_left_in_a_temporary_are_moved_back(tmp_path):
    """A crash after a save moved the user's entries into its new copy, before the swap."""
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(step=1))
    stale = tmp_path / ".run.tmp-dead"
    ckpt.save_checkpoint(stale, **_files(step=2))
    (stale / "plots").mkdir()
    (stale / "plots" / "a.png").write_bytes(b"png")
    ckpt.save_checkpoint(directory, **_files(step=3))
    assert (directory / "plots" / "a.png").read_bytes() == b"png"
    assert not stale.exists() and ckpt.read_checkpoint(directory)[3].step == 3


def test_a_fresh_run_does_not_replace_a_best_holding_the_users_entries(tmp_path):
    directory = tmp_path / "run"
    ckpt.save_checkpoint(directory, **_files(step=1))
    ckpt.save_best(directory, **_files(step=1))
    (directory / "best" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"best.*notes\.txt"):
        ckpt.save_checkpoint(directory, keep_best=False, **_files(step=1))
    assert (directory / "best" / "notes.txt").read_text() == "mine"
    os.remove(directory / "best" / "notes.txt")
    ckpt.save_checkpoint(directory, keep_best=False, **_files(step=1))
    assert not (directory / "best").exists()
