"""Training from the command line: round trip, results.json, precedence, determinism, resume, Ctrl-C."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from minigrad.cli.main import cli
from minigrad.cli.train import main as train_main
from testutils import TINY, TINY_MODEL, TINY_TASK, run, without

METRIC_KEYS = {"loss", "token_accuracy", "sequence_accuracy"}


def _weights(directory) -> dict[str, np.ndarray]:
    import safetensors.numpy

    return safetensors.numpy.load_file(str(directory / "model.safetensors"))


def _results(runner, tmp_path, args, name="r.json", env=None):
    output = tmp_path / name
    result = run(runner, train_main, list(args) + ["--output", output], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(output.read_text())


# -- the round trip -------------------------------------------------------------------------


def test_results_json_schema(trained):
    _, _, results = trained
    assert {"config", "metrics", "history", "wall_seconds"} <= set(results)
    assert set(results["metrics"]) == {"train", "valid", "test"}
    for split in results["metrics"].values():
        assert set(split) == METRIC_KEYS
        assert all(isinstance(v, float) for v in split.values())
    assert results["config"]["task"] == "copy" and results["config"]["model"] == "rnn-attn"
    assert results["config"]["model_options"] == {"embed_dim": 8, "hidden_dim": 16}
    assert [r["step"] for r in results["history"]] == [10, 20, 30]
    assert {"step", "train_loss", "valid_loss", "valid_token_accuracy", "valid_sequence_accuracy", "lr"} <= set(results["history"][0])
    assert results["wall_seconds"] > 0 and results["steps"] == 30


def test_checkpoint_layout(trained):
    directory = trained[0]
    for name in ("model.safetensors", "optimizer.safetensors", "config.json", "task.json", "state.json"):
        assert (directory / name).is_file(), name
    assert (directory / "best" / "model.safetensors").is_file()
    state = json.loads((directory / "state.json").read_text())
    assert state["step"] == 30 and len(state["history"]) == 3 and state["rng_state"]


def test_eval(runner, trained):
    result = run(runner, cli, ["eval", trained[0], "--split", "test"])
    assert result.exit_code == 0, result.output
    assert "test" in result.output and "exact-sequence accuracy" in result.output
    as_json = json.loads(run(runner, cli, ["eval", trained[0], "--split", "all", "--json"]).output)
    assert set(as_json) == {"train", "valid", "test"}
    # the saved model evaluates to what the run reported
    assert as_json["test"]["sequence_accuracy"] == pytest.approx(trained[2]["metrics"]["test"]["sequence_accuracy"])
    assert as_json["test"]["loss"] == pytest.approx(trained[2]["metrics"]["test"]["loss"], rel=1e-5)


def test_eval_with_beam_search(runner, trained):
    result = run(runner, cli, ["eval", trained[0], "--beam-size", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["test"]) >= METRIC_KEYS


def test_predict(runner, trained):
    result = run(runner, cli, ["predict", trained[0], "3 1 4", "0 2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert all(set(line.split()) <= set("01234") for line in lines)
    beam = run(runner, cli, ["predict", trained[0], "3 1 4", "--beam-size", "2"])
    assert beam.exit_code == 0 and len(beam.output.splitlines()) == 1


def test_attention_heatmap(runner, trained, tmp_path):
    png = tmp_path / "attention.png"
    result = run(runner, cli, ["attention", trained[0], "3 1 4 1", "--png", png])
    assert result.exit_code == 0, result.output
    assert "3 1 4 1 →" in result.output
    assert any(ch in result.output for ch in "░▒▓█")
    assert png.stat().st_size > 1000


def test_plot(runner, trained, tmp_path):
    png = tmp_path / "curves.png"
    result = run(runner, cli, ["plot", trained[1], "--png", png])
    assert result.exit_code == 0, result.output
    assert "valid loss" in result.output and "▁" in result.output or "█" in result.output
    assert png.stat().st_size > 1000
    from_checkpoint = run(runner, cli, ["plot", trained[0]])
    assert from_checkpoint.exit_code == 0 and "train loss" in from_checkpoint.output


def test_default_output_has_table_and_summary(runner, tmp_path):
    args = without(TINY, "--quiet")
    result = run(runner, cli, ["train"] + args)
    assert result.exit_code == 0, result.output
    for text in ("token accuracy", "exact-sequence accuracy", "test exact-sequence accuracy", "after 30 steps", "step    10"):
        assert text in result.output, text


def test_quiet_prints_nothing(runner):
    result = run(runner, train_main, TINY)
    assert result.exit_code == 0 and result.output == ""


def test_log_file(runner, tmp_path):
    log = tmp_path / "train.log"
    result = run(runner, train_main, TINY + ["--log-file", log])
    assert result.exit_code == 0
    text = log.read_text()
    assert "training rnn-attn on copy" in text and "final test" in text
    assert not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in logging.getLogger("minigrad").handlers)


# -- configuration precedence and determinism -----------------------------------------------


def test_config_file_supplies_defaults_and_options_override(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("steps: 12\nlr: 0.02\nhidden_dim: 12\neval-interval: 6\nseed: 5\n")
    base = without(TINY, "--steps", "--lr", "--hidden-dim", "--eval-interval")
    results = _results(runner, tmp_path, base + ["--config", config, "--steps", "6"])
    c = results["config"]
    assert c["steps"] == 6                                     # explicit option beats the file
    assert c["lr"] == 0.02 and c["model_options"]["hidden_dim"] == 12  # file beats the default
    assert c["seed"] == 5
    assert c["eval_interval"] == 6


def test_minigrad_seed_environment_variable(runner, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("seed: 5\n")
    short = without(TINY, "--steps") + ["--steps", "4"]
    assert _results(runner, tmp_path, short, env={"MINIGRAD_SEED": "7"})["config"]["seed"] == 7
    assert _results(runner, tmp_path, short + ["--config", config], env={"MINIGRAD_SEED": "7"})["config"]["seed"] == 7
    assert _results(runner, tmp_path, short + ["--seed", "3"], env={"MINIGRAD_SEED": "7"})["config"]["seed"] == 3
    assert _results(runner, tmp_path, short + ["--config", config])["config"]["seed"] == 5


def test_same_seed_same_numbers(runner, tmp_path):
    first = _results(runner, tmp_path, TINY + ["--seed", "1"], "a.json")
    second = _results(runner, tmp_path, TINY + ["--seed", "1"], "b.json")
    assert first["metrics"] == second["metrics"]
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_second")} for r in h]  # noqa: E731
    assert strip(first["history"]) == strip(second["history"])


def test_epochs(runner, tmp_path):
    results = _results(runner, tmp_path, without(TINY, "--steps") + ["--epochs", "1.5"])
    assert results["steps"] == 27  # 300 examples // batch 16 = 18 steps per epoch


def test_interactive_prompts(runner, tmp_path):
    output = tmp_path / "r.json"
    args = without(TINY, "--task", "--model")
    result = run(runner, train_main, args + ["--interactive", "--output", output], input="reverse\nrnn-attn\n8\n")
    assert result.exit_code == 0, result.output
    config = json.loads(output.read_text())["config"]
    assert (config["task"], config["model"], config["steps"]) == ("reverse", "rnn-attn", 8)


# -- resume and interrupts ------------------------------------------------------------------


def _history(directory) -> list[dict]:
    skip = ("seconds", "tokens_per_second", "train_loss")  # timing, and the loss window restarts on resume
    return [{k: v for k, v in r.items() if k not in skip} for r in json.loads((directory / "state.json").read_text())["history"]]


def test_extending_a_finished_run_matches_a_longer_run(runner, tmp_path):
    # With a length-independent schedule, 8 steps then --resume to 20 is the 20-step run.
    args = TINY_TASK + TINY_MODEL + ["--batch-size", "16", "--lr", "0.01", "--eval-interval", "8", "--quiet",
                                     "--teacher-forcing", "0.5", "--schedule", "constant"]
    assert run(runner, train_main, args + ["--steps", "20", "--save", tmp_path / "full"]).exit_code == 0
    assert run(runner, train_main, args + ["--steps", "8", "--save", tmp_path / "part"]).exit_code == 0
    assert json.loads((tmp_path / "part" / "state.json").read_text())["step"] == 8
    resumed = run(runner, train_main, ["--resume", tmp_path / "part", "--steps", "20", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    full, part = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert full.keys() == part.keys()
    for key in full:
        assert np.array_equal(full[key], part[key]), key
    assert _history(tmp_path / "full") == _history(tmp_path / "part")


def test_ctrl_c_saves_a_checkpoint_and_resume_is_bitwise_exact(runner, tmp_path, monkeypatch):
    from minigrad.models import training

    args = TINY + ["--teacher-forcing", "0.5", "--dropout", "0.1"]  # random draws must resume exactly too
    assert run(runner, train_main, args + ["--save", tmp_path / "full"]).exit_code == 0
    calls = {"n": 0}
    original = training.Trainer._loss

    def interrupt_on_the_seventeenth_step(self, batch):
        calls["n"] += 1
        if calls["n"] == 17:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(training.Trainer, "_loss", interrupt_on_the_seventeenth_step)
    save = tmp_path / "ckpt"
    result = run(runner, train_main, args + ["--save", save])
    assert result.exit_code == 130
    assert "Interrupted after step 16" in result.stderr and f"--resume {save}" in result.stderr
    assert json.loads((save / "state.json").read_text())["step"] == 16
    monkeypatch.setattr(training.Trainer, "_loss", original)
    resumed = run(runner, train_main, ["--resume", save, "--quiet"])
    assert resumed.exit_code == 0
    assert json.loads((save / "state.json").read_text())["step"] == 30
    full, part = _weights(tmp_path / "full"), _weights(save)
    for key in full:
        assert np.array_equal(full[key], part[key]), key
    assert _history(tmp_path / "full") == _history(save)


def test_file_task_round_trip(runner, tmp_path):
    data = tmp_path / "pairs.tsv"
    words = ["cat", "dog", "bird", "fish", "frog", "mouse", "horse", "sheep", "goat", "duck", "crow", "owl"]
    data.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words))
    save = tmp_path / "ckpt"
    args = ["--task", "file", "--data", data, "--embed-dim", "8", "--hidden-dim", "16", "--steps", "4", "--batch-size", "4",
            "--eval-interval", "2", "--quiet", "--save", save]
    result = run(runner, train_main, args)
    assert result.exit_code == 0, result.output
    predicted = run(runner, cli, ["predict", save, "cat"])
    assert predicted.exit_code == 0 and len(predicted.output.splitlines()) == 1


def test_resume_from_a_missing_checkpoint(runner, tmp_path):
    from testutils import assert_usage_error

    assert_usage_error(run(runner, train_main, ["--resume", tmp_path / "none", "--quiet"]), "none")


def test_text_task_trains_a_language_model(runner, tmp_path):
    data = tmp_path / "text.txt"
    data.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    save, output = tmp_path / "ckpt", tmp_path / "r.json"
    args = ["--task", "text", "--data", data, "--block-size", "16", "--d-model", "16", "--num-heads", "2",
            "--ff-dim", "32", "--steps", "6", "--batch-size", "8", "--eval-interval", "3", "--quiet",
            "--save", save, "--output", output]
    result = run(runner, train_main, args)
    assert result.exit_code == 0, result.output
    results = json.loads(output.read_text())
    assert results["config"]["model"] == "lm" and set(results["metrics"]) == {"train", "valid", "test"}
    assert results["metrics"]["valid"]["sequence_accuracy"] is None
    evaluated = run(runner, cli, ["eval", save, "--split", "valid", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["valid"]["loss"] == pytest.approx(results["metrics"]["valid"]["loss"], rel=1e-5)
    from testutils import assert_usage_error

    assert_usage_error(run(runner, cli, ["predict", save, "the"]), "language model")
