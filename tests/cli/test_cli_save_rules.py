"""What --save and --resume refuse, and how a failed run ends: nothing already saved is lost.

- --save DIR holding another run's checkpoint: refused unless --resume DIR or --overwrite;
  a DIR that is not a checkpoint: always refused. The user's entries in a checkpoint
  directory are kept by every save.
- --resume with a run length that ends before the checkpoint's step: refused.
- MINIGRAD_SEED does not count as changing the seed of a resumed run; --seed does.
- A checkpoint write that fails (disk full) is one line naming the file, exit status 1.
- A diverging run is one line, without NumPy's overflow warnings before it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import warnings

import pytest

from minigrad.cli.train import main as train_main
from testutils import TINY, assert_usage_error, run, without


def _snapshot(directory) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            files[os.path.relpath(path, directory)] = open(path, "rb").read()
    return files


def _step(directory) -> int:
    return json.loads((directory / "state.json").read_text())["step"]


@pytest.fixture
def ckpt(tmp_path, trained):
    """A private copy of the session's 30-step checkpoint (rnn-attn on copy)."""
    copy = tmp_path / "ckpt"
    shutil.copytree(trained[0], copy)
    return copy


def short(steps: int) -> list[str]:
    return without(TINY, "--steps") + ["--steps", str(steps)]


# -- --save into a directory that already holds something -----------------------------------


def test_save_refuses_another_runs_checkpoint_and_says_how_to_proceed(runner, ckpt):
    before = _snapshot(ckpt)
    line = assert_usage_error(run(runner, train_main, short(4) + ["--save", ckpt]),
                              f"--save {ckpt} already holds a checkpoint", "step 30", "rnn-attn on copy",
                              f"--resume {ckpt}", "--overwrite")
    assert "Traceback" not in line
    assert _snapshot(ckpt) == before


def test_overwrite_replaces_it(runner, ckpt):
    result = run(runner, train_main, short(4) + ["--save", ckpt, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert _step(ckpt) == 4


def test_resume_into_another_checkpoint_needs_overwrite(runner, ckpt, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(ckpt, other)
    before = _snapshot(other)
    assert_usage_error(run(runner, train_main, ["--resume", ckpt, "--steps", "32", "--save", other, "--quiet"]),
                       f"--save {other} already holds a checkpoint", "--overwrite")
    assert _snapshot(other) == before
    # resuming into the same directory, however it is spelled, is what --resume is for
    same = run(runner, train_main, ["--resume", ckpt, "--steps", "32", "--save", f"{ckpt}{os.sep}", "--quiet"])
    assert same.exit_code == 0, same.output
    assert _step(ckpt) == 32


@pytest.mark.parametrize("how", [["--resume", "{ckpt}", "--steps", "32"], ["--save", "{ckpt}", "--overwrite"]])
def test_entries_that_are_not_the_checkpoint_are_never_deleted(runner, ckpt, tmp_path, how):
    """A user's own files, subdirectories, hidden files, symlinks and FIFOs in a checkpoint
    directory survive every save (a symlink's target untouched)."""
    import stat

    target = tmp_path / "target.txt"
    target.write_text("the target")
    (ckpt / "notes.txt").write_text("keep me")
    (ckpt / "results.json").write_text("{}")
    (ckpt / "plots").mkdir()
    (ckpt / "plots" / "loss.png").write_bytes(b"png")
    (ckpt / ".notes").write_text("hidden")
    (ckpt / ".gitignore").write_text("*\n")
    os.symlink(target, ckpt / "link")
    os.mkfifo(ckpt / "pipe")
    args = [a.format(ckpt=ckpt) for a in how] + (short(4) if "--save" in how else ["--quiet"])
    result = run(runner, train_main, args)
    assert result.exit_code == 0, result.output
    assert (ckpt / "notes.txt").read_text() == "keep me" and (ckpt / "results.json").read_text() == "{}"
    assert (ckpt / "plots" / "loss.png").read_bytes() == b"png"
    assert (ckpt / ".notes").read_text() == "hidden" and (ckpt / ".gitignore").read_text() == "*\n"
    assert os.readlink(ckpt / "link") == str(target) and target.read_text() == "the target"
    assert stat.S_ISFIFO(os.lstat(ckpt / "pipe").st_mode)
    assert _step(ckpt) in (4, 32)


def test_a_subdirectory_made_during_the_run_is_kept(runner, tmp_path, monkeypatch):
    """The user makes DIR/plots/ after the first save; the saves after it keep it."""
    from minigrad.models import checkpoint

    save = tmp_path / "ck"
    original = checkpoint.save_checkpoint
    saves = []

    def save_then_make_plots(directory, **files):
        path = original(directory, **files)
        saves.append(path)
        if saves == [str(save)]:  # after the first save only
            (save / "plots").mkdir()
            (save / "plots" / "loss.png").write_bytes(b"png")
        return path

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_then_make_plots)
    result = run(runner, train_main, TINY + ["--save", save])  # saves at steps 10, 20 and 30
    assert result.exit_code == 0, result.output
    assert (save / "plots" / "loss.png").read_bytes() == b"png" and _step(save) == 30
    assert saves.count(str(save)) == 3


def test_overwrite_refuses_a_best_holding_the_users_files(runner, ckpt):
    """A fresh run replaces the other run's best/: refused before any work if it holds the user's files."""
    (ckpt / "best" / "notes.txt").write_text("mine")
    before = _snapshot(ckpt)
    assert_usage_error(run(runner, train_main, short(4) + ["--save", ckpt, "--overwrite"]),
                       "--overwrite", f"{ckpt}{os.sep}best", "notes.txt", "move them out first")
    assert _snapshot(ckpt) == before


def test_overwrite_cannot_come_from_a_config_file(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("overwrite: true\n")
    assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), f"{config}:1", "--overwrite",
                       "command line")


# -- resuming --------------------------------------------------------------------------------


@pytest.mark.parametrize("length, fragment", [
    (["--steps", "5"], "--steps must be larger to train further (got --steps 5)"),
    (["--steps", "30"], "(got --steps 30)"),
    (["--epochs", "0.5"], "--epochs must be larger to train further (got --epochs 0.5, which is 9 steps)"),
])
def test_resume_with_a_run_length_the_checkpoint_has_passed(runner, ckpt, length, fragment):
    before = _snapshot(ckpt)
    assert_usage_error(run(runner, train_main, ["--resume", ckpt, *length, "--quiet"]),
                       f"the checkpoint {ckpt} is already at step 30", fragment)
    assert _snapshot(ckpt) == before


def test_minigrad_seed_does_not_change_a_resumed_run(runner, ckpt, tmp_path):
    output = tmp_path / "r.json"
    result = run(runner, train_main, ["--resume", ckpt, "--steps", "32", "--output", output],
                 env={"MINIGRAD_SEED": "3"})
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["config"]["seed"] == 0 and _step(ckpt) == 32
    assert "MINIGRAD_SEED=3 is ignored" in result.stderr and len(result.stderr.splitlines()) == 1
    # an explicit --seed that differs is still refused, naming the flag
    assert_usage_error(run(runner, train_main, ["--resume", ckpt, "--steps", "34", "--seed", "3", "--quiet"],
                           env={"MINIGRAD_SEED": "3"}), "trained with --seed 0", "(got --seed 3)")


# -- failures while training -----------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch):
    """Every file write ends like one on a full disk (fsync of a file fails with ENOSPC)."""

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


def _one_line_exit_1(result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_a_failed_checkpoint_write_is_one_line_and_keeps_the_old_checkpoint(runner, ckpt, full_disk):
    before = _snapshot(ckpt)
    line = _one_line_exit_1(run(runner, train_main, ["--resume", ckpt, "--steps", "40", "--quiet"]))
    assert f"to {ckpt}" in line and "model.safetensors" in line and os.strerror(errno.ENOSPC) in line
    assert f"the checkpoint already in {ckpt} (step 30, rnn-attn on copy) is unchanged" in line
    assert _snapshot(ckpt) == before
    assert sorted(os.listdir(ckpt.parent)) == ["ckpt"]  # no temporary directory left behind


def test_a_failed_first_checkpoint_write_says_nothing_was_saved(runner, tmp_path, full_disk):
    line = _one_line_exit_1(run(runner, train_main, short(10) + ["--save", tmp_path / "new"]))
    assert f"nothing was saved to {tmp_path / 'new'}" in line
    assert os.listdir(tmp_path) == []


def test_divergence_is_one_line_without_numpy_warnings(runner):
    args = short(20) + ["--optimizer", "sgd", "--lr", "1e30", "--clip", "0"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(runner, train_main, args)
    line = _one_line_exit_1(result)
    assert "the loss became" in line and "lower learning rate" in line
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


# -- output files next to the checkpoint -------------------------------------------------------


@pytest.mark.parametrize("option, target", [("--output", "config.json"), ("--output", "model.safetensors"),
                                            ("--log-file", "best/state.json"), ("--output", "./state.json")])
def test_an_output_file_may_not_be_one_of_the_checkpoints_files(runner, ckpt, option, target):
    before = _snapshot(ckpt)
    path = f"{ckpt}{os.sep}{target}"
    assert_usage_error(run(runner, train_main, ["--resume", ckpt, "--steps", "32", option, path, "--quiet"]),
                       f"cannot write {option} {path}: it is part of the checkpoint")
    assert _snapshot(ckpt) == before


def test_results_may_go_into_the_checkpoint_directory_of_a_first_run(runner, tmp_path):
    save = tmp_path / "new"
    result = run(runner, train_main, short(4) + ["--save", save, "--output", save / "results.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((save / "results.json").read_text())["metrics"] and _step(save) == 4
