"""Bad input ends with one 'Error:' line, exit status 2 and no traceback; nothing saved is damaged."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from minigrad.cli.main import cli
from minigrad.cli.train import main as train_main
from testutils import TINY, TINY_RUN, TINY_TASK, assert_usage_error, run


def test_unknown_task_lists_the_valid_ones(runner):
    result = run(runner, train_main, ["--task", "cpy", "--quiet"])
    assert_usage_error(result, "unknown task 'cpy'", "copy", "reverse", "dates")


def test_unknown_model_lists_the_valid_ones(runner):
    result = run(runner, train_main, TINY_TASK + ["--model", "lstm9", "--quiet"])
    assert_usage_error(result, "unknown model 'lstm9'", "rnn-attn", "transformer")


@pytest.mark.parametrize("args, fragment", [
    (["--steps", "0"], "--steps"),
    (["--steps", "many"], "--steps"),
    (["--lr", "-1"], "--lr"),
    (["--dropout", "1.5"], "--dropout"),
    (["--optimizer", "adagrad"], "--optimizer"),
    (["--cell", "rnn"], "--cell"),
    (["--teacher-forcing", "2"], "--teacher-forcing"),
    (["--no-such-option"], "--no-such-option"),
])
def test_bad_option_values(runner, args, fragment):
    assert_usage_error(run(runner, train_main, args), fragment)


def test_steps_and_epochs_conflict(runner):
    assert_usage_error(run(runner, train_main, TINY + ["--epochs", "1"]), "--steps or --epochs")


def test_min_len_above_max_len(runner):
    assert_usage_error(run(runner, train_main, TINY + ["--min-len", "5"]), "--min-len (5)", "--max-len (4)")


def test_heads_must_divide_the_width(runner):
    result = run(runner, train_main, TINY_TASK + TINY_RUN + ["--model", "transformer", "--d-model", "30", "--num-heads", "4"])
    assert_usage_error(result, "30", "4")


def test_option_that_does_not_apply_to_the_model(runner):
    result = run(runner, train_main, TINY_TASK + TINY_RUN + ["--model", "transformer", "--cell", "lstm"])
    assert_usage_error(result, "--cell", "transformer")


def test_task_option_that_does_not_apply_to_the_task(runner):
    line = assert_usage_error(run(runner, train_main, TINY + ["--block-size", "8"]), "--block-size", "'copy'")
    assert "--max-len" in line and "block_size" not in line


def test_unknown_command(runner):
    assert_usage_error(run(runner, cli, ["trian"]), "trian")


# -- config files ---------------------------------------------------------------------------


def test_malformed_yaml_names_file_and_line(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("task: copy\nsteps: 10\nmodel: [rnn\n")
    line = assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), "malformed YAML")
    assert re.search(rf"{re.escape(str(config))}:[34]: ", line), line


@pytest.mark.parametrize("text, line, fragments", [
    ("task: copy\nhiden-dim: 32\n", 2, ["unknown config key 'hiden-dim'", "hidden-dim"]),  # with a suggestion
    ("lr: fast\n", 1, ["'lr'"]),
    ("task: copy\nsteps: 10\nlr: 0.01\nsteps: 20\n", 4, ["duplicate key 'steps'", "line 2"]),
    ("hidden-dim: 16\nhidden_dim: 32\n", 2, ["'hidden_dim'", "'hidden-dim' (line 1)"]),  # one option, two spellings
], ids=["unknown-key", "bad-value", "duplicate-key", "two-spellings"])
def test_a_bad_config_entry_is_named_with_its_line(runner, tmp_path, text, line, fragments):
    config = tmp_path / "run.yaml"
    config.write_text(text)
    assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), f"{config}:{line}", *fragments)


def test_config_that_is_not_a_mapping(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("- task\n- copy\n")
    assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), "mapping")


def test_missing_config_file(runner, tmp_path):
    assert_usage_error(run(runner, train_main, ["--config", tmp_path / "none.yaml", "--quiet"]), "none.yaml")


# -- data files -----------------------------------------------------------------------------


def test_broken_tsv_names_file_and_line(runner, tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("abc\tcba\nno tab here\nxy\tyx\n")
    result = run(runner, train_main, ["--task", "file", "--data", data, "--steps", "2", "--quiet"])
    assert_usage_error(result, f"{data}:2", "source<TAB>target")


def test_missing_data_file(runner, tmp_path):
    result = run(runner, train_main, ["--task", "file", "--data", tmp_path / "gone.tsv", "--quiet"])
    assert_usage_error(result, "gone.tsv")


# -- checkpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["eval", "predict", "attention"])
def test_missing_checkpoint(runner, tmp_path, command):
    args = [command, tmp_path / "nope"] + (["3 1"] if command != "eval" else [])
    assert_usage_error(run(runner, cli, args), "nope")


@pytest.mark.parametrize("filename", ["model.safetensors", "config.json", "task.json", "state.json"])
def test_corrupt_checkpoint_names_the_file(runner, tmp_path, trained, filename):
    copy = tmp_path / "ckpt"
    shutil.copytree(trained[0], copy)
    (copy / filename).write_bytes(b"\x00garbage")
    assert_usage_error(run(runner, cli, ["eval", copy]), filename)


def test_checkpoint_without_state_json(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_usage_error(run(runner, cli, ["predict", tmp_path / "empty", "1 2"]), "not a minigrad checkpoint")


def test_tokens_outside_the_vocabulary(runner, trained):
    assert_usage_error(run(runner, cli, ["predict", trained[0], "3 1 9"]), "'9'")
    assert_usage_error(run(runner, cli, ["attention", trained[0], "x y"]), "'x'")


def test_save_refuses_a_foreign_directory_before_training(runner, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert_usage_error(run(runner, train_main, TINY + ["--save", target]), "not a minigrad checkpoint")
    assert (target / "notes.txt").read_text() == "keep me"
    assert os.listdir(target) == ["notes.txt"]


def test_resume_cannot_change_the_model(runner, tmp_path, trained):
    copy = tmp_path / "ckpt"
    shutil.copytree(trained[0], copy)
    before = {name: (copy / name).read_bytes() for name in os.listdir(copy) if (copy / name).is_file()}
    result = run(runner, train_main, ["--resume", copy, "--hidden-dim", "32", "--quiet"])
    assert_usage_error(result, "--hidden-dim 16", "cannot change", "--hidden-dim 32")
    assert {name: (copy / name).read_bytes() for name in before} == before


def test_output_into_a_missing_directory_fails_before_training(runner, tmp_path):
    assert_usage_error(run(runner, train_main, TINY + ["--output", tmp_path / "no" / "r.json"]), "does not exist")


def test_png_without_matplotlib_says_how_to_install(runner, trained, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    line = assert_usage_error(run(runner, cli, ["plot", trained[1], "--png", tmp_path / "c.png"]))
    assert 'pip install "minigrad[plot]"' in line
    line = assert_usage_error(run(runner, cli, ["attention", trained[0], "1 2", "--png", tmp_path / "a.png"]))
    assert 'pip install "minigrad[plot]"' in line


@pytest.mark.parametrize("content, fragment", [("{", "not valid JSON"), ('{"metrics": {}}', "history")])
def test_plot_of_a_bad_results_file(runner, tmp_path, content, fragment):
    path = tmp_path / "results.json"
    path.write_text(content)
    assert_usage_error(run(runner, cli, ["plot", path]), fragment)


# -- output files ---------------------------------------------------------------------------


def test_png_into_a_missing_directory_is_named_before_any_work(runner, trained, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed: --png is not available")
    png = tmp_path / "no" / "x.png"
    for args in (["plot", trained[1], "--png", png], ["attention", trained[0], "1 2", "--png", png]):
        result = run(runner, cli, args)
        assert_usage_error(result, f"--png {png}", f"directory {png.parent} does not exist")
        assert result.stdout == ""  # no chart or heatmap first
        assert "Errno" not in result.stderr




# -- data files: flags in the messages, absolute paths in the checkpoint --------------------


@pytest.mark.parametrize("task, fragment", [("file", "source<TAB>target"), ("text", "UTF-8 text")])
def test_a_data_task_without_data_names_the_flag(runner, task, fragment):
    line = assert_usage_error(run(runner, train_main, ["--task", task, "--quiet"]), f"--task {task} needs --data FILE",
                              fragment)
    assert "'path'" not in line


def test_data_for_a_task_without_a_data_file_lists_its_flags(runner, tmp_path):
    line = assert_usage_error(run(runner, train_main, TINY + ["--data", tmp_path / "x.tsv"]),
                              "option --data does not apply to task 'copy'", "--max-len", "--vocab-size", "--data-seed")
    assert "path" not in line and "max_len" not in line


def _pairs(tmp_path):
    data = tmp_path / "pairs.tsv"
    words = ["cat", "dog", "bird", "fish", "frog", "mouse", "horse", "sheep", "goat", "duck", "crow", "owl"]
    data.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words))
    return data


FILE_RUN = ["--task", "file", "--embed-dim", "8", "--hidden-dim", "16", "--steps", "2", "--batch-size", "4",
            "--eval-interval", "0", "--quiet"]


def test_a_relative_data_path_is_stored_absolute_so_eval_works_from_elsewhere(runner, tmp_path, monkeypatch):
    _pairs(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run(runner, train_main, FILE_RUN + ["--data", "pairs.tsv", "--save", "ckpt"]).exit_code == 0
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["task_options"]["path"] == str(tmp_path / "pairs.tsv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run(runner, cli, ["eval", tmp_path / "ckpt", "--json"])
    assert result.exit_code == 0, result.output
    # the same file, given again relative to the new directory, does not count as a change on resume
    resumed = run(runner, train_main, ["--resume", tmp_path / "ckpt", "--data", "../pairs.tsv", "--steps", "3", "--quiet"])
    assert resumed.exit_code == 0, resumed.output


def test_eval_without_its_data_file_advises_data(runner, tmp_path):
    data = _pairs(tmp_path)
    assert run(runner, train_main, FILE_RUN + ["--data", data, "--save", tmp_path / "ckpt"]).exit_code == 0
    moved = tmp_path / "moved.tsv"
    data.rename(moved)
    line = assert_usage_error(run(runner, cli, ["eval", tmp_path / "ckpt"]), str(data), "--data FILE")
    assert "from_state" not in line and "path=" not in line
    assert_usage_error(run(runner, cli, ["eval", tmp_path / "ckpt", "--data", tmp_path / "gone.tsv"]),
                       f"--data {tmp_path / 'gone.tsv'}: no such file")
    assert run(runner, cli, ["eval", tmp_path / "ckpt", "--data", moved, "--json"]).exit_code == 0
    assert run(runner, cli, ["predict", tmp_path / "ckpt", "cat"]).exit_code == 0  # decoding needs no data file
    assert_usage_error(run(runner, train_main, ["--resume", tmp_path / "ckpt", "--steps", "3", "--quiet"]),
                       f"cannot resume {tmp_path / 'ckpt'}", f"reads {data}, which does not exist")


# -- predict inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["predict", "attention"])
def test_an_input_starting_with_a_dash_gets_a_hint(runner, trained, command):
    assert_usage_error(run(runner, cli, [command, trained[0], "-1 2"]), "No such option '-1'",
                       f" {command} [OPTIONS] -- CKPT")
    # after --, it is an input (here: not a token of the copy task)
    assert_usage_error(run(runner, cli, [command, trained[0], "--", "-1 2"]), "'-1'", "valid tokens")


@pytest.mark.parametrize("command", ["predict", "attention"])
def test_an_input_longer_than_the_model_was_trained_on_is_refused(runner, trained, command):
    # TINY trains on copy sources of 1..4 symbols
    assert_usage_error(run(runner, cli, [command, trained[0], "1 2 3 4 1"]), "'1 2 3 4 1' has 5 tokens",
                       "at most 4")
    assert run(runner, cli, [command, trained[0], "1 2 3 4"]).exit_code == 0


def test_a_bad_kernel_backend_variable_is_one_line_exit_2():
    """MINIGRAD_KERNELS is read when minigrad is first imported; a bad value must not end in a traceback."""
    import subprocess
    import sys

    env = {**os.environ, "MINIGRAD_KERNELS": "bogus"}
    proc = subprocess.run([sys.executable, "-c", "from minigrad.cli.train import main; main()", "--task", "copy", "--steps", "1"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MINIGRAD_KERNELS='bogus'" in lines[0] and "numba" in lines[0], proc.stderr
