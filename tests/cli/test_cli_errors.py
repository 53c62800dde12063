"""Bad input ends with one 'Error:' line, exit status 2 and no traceback; nothing saved is damaged."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from cli.main import cli
from cli.train import main as train_main
from cli_testutils import TINY, TINY_RUN, TINY_TASK, assert_usage_error, run


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
    assert_usage_error(run(runner, train_main, TINY + ["--min-len", "5"]), "min_len", "max_len")


def test_heads_must_divide_the_width(runner):
    result = run(runner, train_main, TINY_TASK + TINY_RUN + ["--model", "transformer", "--d-model", "30", "--num-heads", "4"])
    assert_usage_error(result, "30", "4")


def test_option_that_does_not_apply_to_the_model(runner):
    result = run(runner, train_main, TINY_TASK + TINY_RUN + ["--model", "transformer", "--cell", "lstm"])
    assert_usage_error(result, "--cell", "transformer")


def test_task_option_that_does_not_apply_to_the_task(runner):
    assert_usage_error(run(runner, train_main, TINY + ["--block-size", "8"]), "block_size")


def test_unknown_command(runner):
    assert_usage_error(run(runner, cli, ["trian"]), "trian")


# -- config files ---------------------------------------------------------------------------


def test_malformed_yaml_names_file_and_line(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("task: copy\nsteps: 10\nmodel: [rnn\n")
    line = assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), "malformed YAML")
    assert re.search(rf"{re.escape(str(config))}:[34]: ", line), line


def test_unknown_config_key_is_named_with_its_line(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("task: copy\nhiden-dim: 32\n")
    assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]),
                       f"{config}:2", "unknown config key 'hiden-dim'", "hidden-dim")


def test_bad_config_value_is_named(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("lr: fast\n")
    assert_usage_error(run(runner, train_main, ["--config", config, "--quiet"]), f"{config}:1", "'lr'")


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
    assert_usage_error(result, "hidden_dim", "cannot change")
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
