"""The benchmark harness runs: the worker modes of benchmarks/train_step.py and
benchmarks/time_to_accuracy.py report their JSON, RESULTS.md blocks are rewritten in place,
and ``minigrad bench`` validates its options and finds (or reports missing) the scripts.
No timing is asserted anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))


def _result(stdout: str) -> dict:
    line = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_train_step_worker_reports_a_step():
    proc = subprocess.run([sys.executable, str(BENCH / "train_step.py"), "--worker", "minigrad", "--models", "rnn",
                           "--sizes", "default", "--steps", "2", "--curve"], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = _result(proc.stdout)
    assert report["framework"] == "minigrad" and report["model"] == "rnn"
    assert report["first_step_s"] > 0 and report["median_step_ms"] > 0 and report["peak_rss_mb"] > 0
    assert [step for step, _ in report["curve"]] == [1, 2]


def test_train_step_worker_runs_the_language_model():
    proc = subprocess.run([sys.executable, str(BENCH / "train_step.py"), "--worker", "minigrad", "--models", "lm",
                           "--sizes", "len32", "--steps", "1"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = _result(proc.stdout)
    assert report["model"] == "lm" and report["median_step_ms"] > 0


def test_same_model_check_refuses_different_models():
    pytest.importorskip("torch", reason="PyTorch not installed")
    import _common

    data = _common.text_batch(4, 16)
    ours = _common.MinigradStep("lm", {"block_size": 16}, data)
    theirs = _common.TorchStep("lm", {"block_size": 16}, data)
    check = _common.same_model_check(ours, theirs)
    assert check["parameters"] == ours.num_parameters() and abs(check["loss"] - check["torch_loss"]) < 1e-4
    wider = _common.TorchStep("lm", {"block_size": 16, "d_model": 32}, data)
    with pytest.raises(RuntimeError, match="parameters"):
        _common.same_model_check(ours, wider)
    shifted = _common.TorchStep("lm", {"block_size": 16}, data)
    shifted.loss_of = lambda logits: _common.TorchStep.loss_of(shifted, logits) * 1.01
    with pytest.raises(RuntimeError, match="initial loss"):
        _common.same_model_check(ours, shifted)


def test_thread_table_divides_by_the_first_thread_count():
    import train_step

    def row(ms_ours, ms_theirs):
        return {"minigrad": {"wall": {"median_ms": ms_ours}}, "torch": {"wall": {"median_ms": ms_theirs}},
                "ratio": {"wall": ms_ours / ms_theirs}}

    lines = train_step.thread_table({("lm", "default"): {1: row(10.0, 20.0), 2: row(5.0, 30.0)}}, (1, 2))
    assert lines[-1] == "| lm | default | 10.0 | 5.0 | 0.50 | 20.0 | 30.0 | 1.50 | 0.50 | 0.17 |"


def test_time_to_accuracy_worker_reports_a_run():
    proc = subprocess.run([sys.executable, str(BENCH / "time_to_accuracy.py"), "--worker", "minigrad", "--models",
                           "rnn-attn", "--tasks", "copy", "--seeds", "0", "--eval-interval", "2", "--eval-size", "8",
                           "--max-steps", "2"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = _result(proc.stdout)
    assert report["task"] == "copy" and report["seed"] == 0
    assert len(report["history"]) == 1 and 0.0 <= report["history"][0][2] <= 1.0


def test_replace_block_keeps_the_rest_of_the_file(tmp_path):
    import _common

    path = tmp_path / "RESULTS.md"
    path.write_text("# R\n\n## Kernels\n\n```\n## not a heading\n```\n\n## Training step\n\nnotes\n\n## Other\n\nx\n")
    _common.replace_block("t", "Training step", "first", path)
    _common.replace_block("t", "Training step", "second", path)
    _common.replace_block("m", "Memory", "mem", path)
    text = path.read_text()
    assert "first" not in text and text.count("second") == 1
    assert text.index("## Training step") < text.index("second") < text.index("notes") < text.index("## Other")
    assert text.rstrip().endswith("<!-- m: end -->") and "## not a heading" in text


def test_summary_marks_runs_that_missed_the_target():
    import time_to_accuracy as tta

    runs = [{"framework": "minigrad", "model": "rnn", "task": "copy", "reached": None, "ms_per_step": 10.0,
             "peak_rss_mb": 100.0},
            {"framework": "minigrad", "model": "rnn", "task": "copy", "reached": {"step": 50, "train_s": 1.0},
             "ms_per_step": 12.0, "peak_rss_mb": 110.0}]
    row = tta.summary_rows(runs, ["rnn"], ["copy"])[2]
    assert "50 (1/2 not reached)" in row and "| - |" in row


def test_seeds_take_lists_and_ranges():
    import time_to_accuracy as tta

    assert tta.parse_seeds("0,1,2") == [0, 1, 2]
    assert tta.parse_seeds("0-3,10") == [0, 1, 2, 3, 10]
    for bad in ("x", "1-", "-2", ","):
        with pytest.raises(SystemExit, match="--seeds"):
            tta.parse_seeds(bad)


def test_paired_summary_counts_seeds_where_each_library_won():
    import time_to_accuracy as tta

    def run(fw, seed, step, seconds):
        return {"framework": fw, "model": "rnn-attn", "task": "copy", "seed": seed,
                "reached": {"step": step, "train_s": seconds} if step else None}

    runs = [run("minigrad", 0, 300, 6.0), run("torch", 0, 200, 7.0),   # more steps, less time
            run("minigrad", 1, 200, 4.0), run("torch", 1, 250, 8.0),   # fewer steps
            run("minigrad", 2, 250, 9.0), run("torch", 2, 250, 8.0),   # as many, more time
            run("minigrad", 3, None, 0.0), run("torch", 3, 100, 3.0)]  # not reached: left out
    (line,) = tta.paired_lines(runs, ["rnn-attn"], ["copy"])
    assert "(3 seeds)" in line and "more steps than PyTorch in 1, fewer in 1, as many in 1" in line
    assert "less training time in 2" in line


def test_bench_command_rejects_bad_names():
    from minigrad.cli.commands.bench import command

    result = CliRunner().invoke(command, ["--models", "lstm"])
    assert result.exit_code == 2 and "'lstm' is not a model" in result.output
    result = CliRunner().invoke(command, ["--sizes", "huge"])
    assert result.exit_code == 2 and "or 'all'" in result.output
    for bad in ("x", "1-", "0,,a"):
        result = CliRunner().invoke(command, ["--accuracy", "--seeds", bad])
        assert result.exit_code == 2 and "seeds" in result.output


def test_bench_command_without_the_scripts_says_where_they_live(tmp_path, monkeypatch):
    from minigrad.cli.commands import bench

    monkeypatch.setattr(bench, "benchmarks_dir", lambda: tmp_path)
    result = CliRunner().invoke(bench.command, [])
    assert result.exit_code == 2 and "source checkout" in result.output


@pytest.mark.slow
def test_bench_command_runs_the_step_benchmark():
    from minigrad.cli.commands.bench import command

    result = CliRunner().invoke(command, ["--models", "rnn", "--quick", "--no-torch"])
    assert result.exit_code == 0, result.output
