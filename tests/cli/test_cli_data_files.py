"""A file/text checkpoint and its data file: an edited file is refused, a moved one accepted
only with the same contents (the fingerprint in task.json), a checkpoint without a fingerprint
keeps working."""

from __future__ import annotations

import json
import os

import pytest

from minigrad.cli.main import cli
from minigrad.cli.train import main as train_main
from minigrad.models import checkpoint as ckpt
from testutils import assert_usage_error, edit_checkpoint_json, run

WORDS = ["cat", "dog", "bird", "fish", "frog", "mouse", "horse", "sheep", "goat", "duck", "crow", "owl"]
FILE_RUN = ["--task", "file", "--embed-dim", "8", "--hidden-dim", "16", "--steps", "2", "--batch-size", "4",
            "--eval-interval", "0", "--quiet"]
TEXT_RUN = ["--task", "text", "--block-size", "8", "--d-model", "8", "--num-heads", "2", "--ff-dim", "16",
            "--steps", "2", "--batch-size", "4", "--eval-interval", "0", "--quiet"]


def _train(runner, tmp_path, kind: str = "file"):
    """(checkpoint, data file) of a 2-step run of the file or text task."""
    data = tmp_path / ("pairs.tsv" if kind == "file" else "text.txt")
    if kind == "file":
        data.write_text("".join(f"{w}\t{w[::-1]}\n" for w in WORDS))
    else:
        data.write_text("the quick brown fox jumps over the lazy dog. " * 20)
    save = tmp_path / "ckpt"
    result = run(runner, train_main, (FILE_RUN if kind == "file" else TEXT_RUN) + ["--data", data, "--save", save])
    assert result.exit_code == 0, result.output
    return save, data


def _edit(path) -> None:
    """Change the file's contents, keeping its size and its vocabulary."""
    data = path.read_bytes()
    path.write_bytes(data[1:2] + data[:1] + data[2:])


@pytest.mark.parametrize("kind", ["file", "text"])
def test_eval_refuses_an_edited_data_file_and_accepts_it_with_data(runner, tmp_path, kind):
    save, data = _train(runner, tmp_path, kind)
    _edit(data)
    split = ["--split", "valid"]
    assert_usage_error(run(runner, cli, ["eval", save, *split]), str(data), "changed", "--data")
    assert run(runner, cli, ["eval", save, *split, "--data", data, "--json"]).exit_code == 0


def test_resume_refuses_an_edited_data_file(runner, tmp_path):
    save, data = _train(runner, tmp_path)
    before = (save / "state.json").read_bytes()
    _edit(data)
    assert_usage_error(run(runner, train_main, ["--resume", save, "--steps", "3", "--quiet"]), str(data), "changed")
    assert (save / "state.json").read_bytes() == before


def test_resume_accepts_a_moved_data_file_with_the_same_contents(runner, tmp_path):
    save, data = _train(runner, tmp_path)
    moved = tmp_path / "moved.tsv"
    data.rename(moved)
    result = run(runner, train_main, ["--resume", save, "--data", moved, "--steps", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads((save / "config.json").read_text())["task_options"]["path"] == str(moved)
    assert json.loads((save / "state.json").read_text())["step"] == 3
    assert run(runner, cli, ["eval", save, "--json"]).exit_code == 0  # the new place is stored


def test_resume_refuses_a_moved_data_file_with_other_contents(runner, tmp_path):
    save, data = _train(runner, tmp_path)
    other = tmp_path / "other.tsv"
    other.write_bytes(data.read_bytes())
    _edit(other)
    data.unlink()
    before = (save / "state.json").read_bytes()
    assert_usage_error(run(runner, train_main, ["--resume", save, "--data", other, "--steps", "3", "--quiet"]),
                       str(other), "changed")
    assert (save / "state.json").read_bytes() == before


def _forget_fingerprint(save) -> None:
    """Make ``save`` a checkpoint without a fingerprint: no "data" in task.json."""
    edit_checkpoint_json(save, ckpt.TASK_FILE, lambda task_state: task_state.pop("data"))


def test_a_checkpoint_without_a_fingerprint_keeps_working(runner, tmp_path):
    save, data = _train(runner, tmp_path)
    _forget_fingerprint(save)
    _edit(data)
    assert run(runner, cli, ["eval", save, "--json"]).exit_code == 0
    resumed = run(runner, train_main, ["--resume", save, "--steps", "3", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    # without a fingerprint a moved file cannot be checked, so it is still refused
    _forget_fingerprint(save)
    moved = tmp_path / "moved.tsv"
    data.rename(moved)
    assert_usage_error(run(runner, train_main, ["--resume", save, "--data", moved, "--steps", "4", "--quiet"]),
                       "fingerprint", str(moved))
    assert os.path.exists(moved)
