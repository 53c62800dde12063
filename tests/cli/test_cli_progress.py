"""What ``minigrad-train`` shows while it runs: the training bar, the validation lines, the
final evaluation's own progress, and which "train loss" is which."""

from __future__ import annotations

import re

from minigrad import tasks
from minigrad.cli.train import main as train_main
from minigrad.models.training import Callback, TrainConfig, build_model, evaluate, train
from testutils import TINY, run, without

WIDE = {"COLUMNS": "200"}  # CliRunner is not a terminal: Rich would otherwise lay out 80 columns
SHOWN = without(TINY, "--quiet")  # 30 steps, validation every 10; train 300, valid 24, test 24 examples


def _lines(output: str, start: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(start)]


def test_final_evaluation_has_its_own_progress_and_the_training_bar_keeps_its_numbers(runner):
    result = run(runner, train_main, SHOWN, env=WIDE)
    assert result.exit_code == 0, result.output
    [bar] = _lines(result.output, "train ")
    assert "30/30" in bar and "loss (EMA) " in bar and "tok/s" in bar, bar
    assert " took 0:" in bar and "ETA" not in bar, bar  # finished: how long it took, no estimate
    for split, examples in (("train", 300), ("valid", 24), ("test", 24)):
        [line] = _lines(result.output, f"eval {split} ")
        assert re.search(rf" {examples}/{examples} +examples ", line), line
        assert "loss" not in line and "tok/s" not in line, line  # not the training bar relabelled


class EvalProgress(Callback):
    def __init__(self) -> None:
        self.reports: list[tuple[str, int, int]] = []

    def on_eval_progress(self, trainer, split: str, done: int, total: int) -> None:
        self.reports.append((split, done, total))


def test_the_final_evaluation_reports_its_progress_to_callbacks():
    config = TrainConfig(task="copy", task_options={"vocab_size": 5, "min_len": 1, "max_len": 4, "train_size": 30,
                                                    "valid_size": 12, "test_size": 7},
                         model_options={"embed_dim": 8, "hidden_dim": 8}, batch_size=5, steps=2, eval_interval=0)
    progress = EvalProgress()
    train(config, callbacks=[progress])
    assert progress.reports == [("train", 0, 30), ("train", 5, 30), ("train", 10, 30), ("train", 15, 30),
                                ("train", 20, 30), ("train", 25, 30), ("train", 30, 30),
                                ("valid", 0, 12), ("valid", 5, 12), ("valid", 10, 12), ("valid", 12, 12),
                                ("test", 0, 7), ("test", 5, 7), ("test", 7, 7)]


def test_evaluate_of_a_language_model_reports_windows_done_of_total(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("abcdefgh" * 60, encoding="utf-8")  # 480 characters, valid and test 24 each
    task = tasks.get("text", path=str(path), block_size=4)
    config = TrainConfig(task="text", task_options={"path": str(path), "block_size": 4}, model="lm",
                         model_options={"d_model": 8, "num_heads": 2, "ff_dim": 8, "num_layers": 1})
    model = build_model(config, task)
    reports: list[tuple[int, int]] = []
    metrics = evaluate(model, task, "valid", batch_size=2, progress=lambda done, total: reports.append((done, total)))
    windows = metrics["examples"]
    assert windows == 5  # windows of 4 + 1 characters start at 0, 4, 8, 12, 16 of the 24
    assert reports == [(0, 5), (2, 5), (4, 5), (5, 5)]
    reports.clear()
    evaluate(model, task, "valid", batch_size=2, limit=3, progress=lambda done, total: reports.append((done, total)))
    assert reports == [(0, 3), (2, 3), (3, 3)]


def test_the_two_train_losses_are_labelled_apart_on_screen_and_in_the_log(runner, tmp_path):
    log = tmp_path / "train.log"
    args = without(SHOWN, "--steps") + ["--steps", "25", "--log-file", log]  # validations at 10, 20 and 25
    result = run(runner, train_main, args, env=WIDE)
    assert result.exit_code == 0, result.output
    [bar] = _lines(result.output, "train ")
    assert "loss (EMA) " in bar, bar
    validations = _lines(result.output, "step ")
    assert [re.match(r"step +\d+  (train loss \(.*?\)) ", line).group(1) for line in validations] == [
        "train loss (mean of last 10 steps)", "train loss (mean of last 10 steps)", "train loss (mean of last 5 steps)"]
    logged = [line for line in log.read_text().splitlines() if "valid loss" in line]
    assert len(logged) == 3 and "train loss (mean of last 5 steps)" in logged[-1], logged
