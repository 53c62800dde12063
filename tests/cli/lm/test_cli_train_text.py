"""``minigrad-train --task text --model lm``: training a language model from the command line."""

from __future__ import annotations

import json
import math

import pytest

from minigrad.cli.train import main as train_main
from testutils import TINY_LM, assert_usage_error


def train(runner, args):
    return runner.invoke(train_main, [str(a) for a in args], catch_exceptions=False)


def test_results_report_loss_and_bits_per_token(lm_checkpoint):
    _, results = lm_checkpoint
    assert results["config"]["model"] == "lm" and results["config"]["task"] == "text"
    assert set(results["metrics"]) == {"train", "valid", "test"}  # the last 5% of the text is the test split
    assert results["metrics"]["test"]["loss"] > 0
    for split in ("train", "valid"):
        m = results["metrics"][split]
        assert m["loss"] > 0 and m["bits_per_token"] == pytest.approx(m["loss"] / math.log(2))
        assert 0 <= m["token_accuracy"] <= 1 and m["sequence_accuracy"] is None
    last = results["history"][-1]
    assert last["valid_bits_per_token"] == pytest.approx(last["valid_loss"] / math.log(2))


def test_text_task_defaults_to_the_lm_model(runner, text_file, tmp_path):
    out = tmp_path / "r.json"
    args = ["--task", "text", "--data", text_file, *[a for a in TINY_LM if a not in ("--model", "lm")],
            "--steps", "2", "--output", out]
    result = train(runner, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["config"]["model"] == "lm"


def test_model_block_size_follows_the_task(runner, text_file, tmp_path):
    """--block-size 100 is longer than the lm's default context (64): the model takes the task's."""
    out = tmp_path / "r.json"
    args = ["--task", "text", "--data", text_file, "--model", "lm", "--d-model", "8", "--num-heads", "2",
            "--num-layers", "1", "--block-size", "100", "--batch-size", "4", "--steps", "2", "--quiet", "--output", out]
    result = train(runner, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["metrics"]["valid"]["loss"] > 0


def test_same_seed_same_numbers(runner, text_file, tmp_path):
    outs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert train(runner, ["--task", "text", "--data", text_file, *TINY_LM, "--steps", "6", "--output", path]).exit_code == 0
        outs.append(json.loads(path.read_text())["metrics"])
    assert outs[0] == outs[1]


# =============================================================================== bad input


@pytest.mark.parametrize("name, content, why", [
    ("blob.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("empty.txt", b"", "empty"),
], ids=["binary", "empty"])
def test_a_file_with_no_text_is_one_line(runner, tmp_path, name, content, why):
    data = tmp_path / name
    data.write_bytes(content)
    assert_usage_error(train(runner, ["--task", "text", "--data", data, "--model", "lm", "--quiet"]), why, name)


def test_missing_file(runner, tmp_path):
    assert_usage_error(train(runner, ["--task", "text", "--data", tmp_path / "nope.txt", "--quiet"]), "nope.txt")


def test_seq2seq_model_on_text_is_refused(runner, text_file):
    result = train(runner, ["--task", "text", "--data", text_file, "--model", "transformer", "--quiet"])
    assert_usage_error(result, "'lm' model")


def test_lm_model_on_a_seq2seq_task_is_refused(runner):
    assert_usage_error(train(runner, ["--task", "copy", "--model", "lm", "--quiet"]), "'lm' model")


def test_option_the_lm_does_not_have(runner, text_file):
    result = train(runner, ["--task", "text", "--data", text_file, "--model", "lm", "--hidden-dim", "8", "--quiet"])
    assert_usage_error(result, "--hidden-dim", "lm")


def test_eval_of_a_language_model_defaults_to_its_test_split(lm_checkpoint):
    from click.testing import CliRunner

    from minigrad.cli.main import cli

    ckpt, trained = lm_checkpoint
    result = CliRunner().invoke(cli, ["eval", str(ckpt), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) == {"test"}
    assert doc["test"]["loss"] == pytest.approx(trained["metrics"]["test"]["loss"], rel=1e-5)
    every = json.loads(CliRunner().invoke(cli, ["eval", str(ckpt), "--split", "all", "--json"]).output)
    assert set(every) == {"train", "valid", "test"}


def test_result_tables_of_a_language_model_have_no_exact_sequence_column(runner, text_file, lm_checkpoint):
    from minigrad.cli.main import cli

    shown = train(runner, ["--task", "text", "--data", text_file, *[a for a in TINY_LM if a != "--quiet"], "--steps", "4"])
    assert shown.exit_code == 0, shown.output
    evaluated = runner.invoke(cli, ["eval", str(lm_checkpoint[0]), "--split", "all"], env={"COLUMNS": "200"})
    assert evaluated.exit_code == 0, evaluated.output
    for output in (shown.output, evaluated.output):
        table = output[output.index("┏"):output.index("└")]
        assert "bits/token" in table and "token accuracy" in table, output
        assert "exact-sequence" not in table and "—" not in table, output  # no column of empty cells
