"""benchmarks/task_matrix.py without training: parsing results.json and CLI errors, the tables,
the RESULTS.md section replacement, and the subprocess plumbing against a fake minigrad-train."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("task_matrix", ROOT / "benchmarks" / "task_matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["task_matrix"] = module
    spec.loader.exec_module(module)
    return module


tm = _load()

ENCODER_DATES = ("the encoder model gives one output per source position, so it needs targets as long as their "
                 "sources (copy, reverse, sort); task 'dates' has a 18-token source with a 10-token target")


def fake_results(seq=0.987, tok=0.9991, steps=500, wall=12.34, with_steps=True):
    """A results.json document shaped like ``Results.to_json``."""
    metrics = {split: {"loss": 0.01, "token_accuracy": tok, "sequence_accuracy": seq} for split in ("train", "valid", "test")}
    doc = {
        "config": {"task": "copy", "model": "rnn", "steps": None, "seed": 0},
        "metrics": metrics,
        "history": [{"step": 100, "seconds": 2.0}, {"step": steps, "seconds": wall - 1}],
        "wall_seconds": wall,
        "train_seconds": wall - 1,
    }
    if with_steps:
        doc["steps"] = steps
    return doc


# -- parsing ---------------------------------------------------------------------------------


def test_parse_results_reads_test_metrics_steps_and_wall():
    numbers = tm.parse_results(fake_results())
    assert numbers == {"sequence_accuracy": 0.987, "token_accuracy": 0.9991, "steps": 500, "wall_seconds": 12.34}


def test_parse_results_falls_back_to_history_for_steps():
    assert tm.parse_results(fake_results(steps=300, with_steps=False))["steps"] == 300


def test_parse_results_without_test_metrics_is_an_error():
    doc = fake_results()
    del doc["metrics"]["test"]
    with pytest.raises(ValueError, match="metrics.test"):
        tm.parse_results(doc)


def test_error_line_takes_the_cli_error_without_prefix():
    stderr = "some warning\nError: " + ENCODER_DATES + "\n"
    assert tm.error_line(stderr) == ENCODER_DATES
    assert tm.error_line("Traceback ...\n  File x\nRuntimeError: boom\n\n") == "RuntimeError: boom"
    assert tm.error_line("") == "no error message"


def test_row_from_run_ok_na_and_failed(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(fake_results(seq=1.0, tok=1.0, wall=9.5)))
    ok = tm.row_from_run("encoder", "copy", 0, "", path, process_seconds=11.0)
    assert (ok.status, ok.sequence_accuracy, ok.token_accuracy, ok.steps, ok.wall_seconds) == ("ok", 1.0, 1.0, 500, 9.5)

    na = tm.row_from_run("encoder", "dates", 2, "Error: " + ENCODER_DATES + "\n", tmp_path / "missing.json")
    assert na.status == "n/a" and na.reason == ENCODER_DATES and na.sequence_accuracy is None

    diverged = tm.row_from_run("rnn", "sort", 1, "Error: the loss became nan at step 12\n", None)
    assert diverged.status == "failed" and "exit status 1" in diverged.reason and "nan" in diverged.reason

    missing = tm.row_from_run("rnn", "copy", 0, "", tmp_path / "missing.json")
    assert missing.status == "failed" and "unreadable results.json" in missing.reason

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert tm.row_from_run("rnn", "copy", 0, "", broken).status == "failed"


# -- the command and its environment -----------------------------------------------------------


def test_train_command_gives_no_hyper_parameter():
    argv = tm.train_command("/bin/minigrad-train", "rnn", "dates", 0, "out.json", nice=10)
    assert argv[:3] == ["nice", "-n", "10"]
    assert argv[3:] == ["/bin/minigrad-train", "--task", "dates", "--model", "rnn", "--seed", "0", "--quiet",
                        "--output", "out.json"]
    assert tm.train_command("m", "rnn", "copy", 3, "o", nice=0)[0] == "m"


def test_run_env_pins_threads_and_drops_the_seed_variable():
    env = tm.run_env(1, base={"MINIGRAD_SEED": "7", "OPENBLAS_NUM_THREADS": "4", "PATH": "/bin"})
    assert all(env[var] == "1" for var in tm.THREAD_VARS)
    assert "MINIGRAD_SEED" not in env and env["PATH"] == "/bin"


def test_reproduce_command_lists_only_non_default_options():
    everyone = ["rnn", "rnn-attn", "rnn-luong", "transformer", "encoder"]
    assert tm.reproduce_command(everyone, tm.TASKS, 0, 10, 1, everyone) == "python benchmarks/task_matrix.py --write"
    partial = tm.reproduce_command(["rnn"], ["copy", "dates"], 2, 0, 1, everyone)
    assert partial == "python benchmarks/task_matrix.py --models rnn --tasks copy,dates --seed 2 --nice 0 --write"


# -- tables and the section ------------------------------------------------------------------------


def _rows():
    return [
        tm.Row("rnn", "copy", "ok", 0.999, 0.99987, 500, 20.04),
        tm.Row("rnn", "dates", "ok", 0.412, 0.87, 500, 31.5),
        tm.Row("encoder", "copy", "ok", 1.0, 1.0, 500, 9.1),
        tm.Row("encoder", "dates", "n/a", reason=ENCODER_DATES),
    ]


def test_percentages_round_down_so_100_means_all():
    assert tm._pct(1.0) == "100.00%"
    assert tm._pct(0.99999) == "99.99%"
    assert tm._pct(0.999) == "99.90%"
    assert tm._pct(0.412) == "41.20%"
    assert tm._pct(None) == "-"


def test_results_table_has_every_pair_and_reports_na_with_its_reason():
    table = tm.results_table(_rows())
    table, notes = table.split("\n\n")
    assert notes == f"- [1] encoder on dates (n/a, the CLI exits with status 2): {ENCODER_DATES}"
    lines = table.splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == tm.HEADER
    assert len(lines) == 2 + 4
    assert len({len(line) for line in lines}) == 1  # padded: every line as wide
    cells = {(c[0], c[1]): c for c in ([x.strip() for x in line.split("|")[1:-1]] for line in lines[2:])}
    assert cells["rnn", "copy"][2:6] == ["99.90%", "99.98%", "500", "20.0"]
    assert cells["rnn", "dates"][6].startswith("weak")
    assert cells["encoder", "copy"][2:7] == ["100.00%", "100.00%", "500", "9.1", ""]
    assert cells["encoder", "dates"][2:6] == ["n/a"] * 4 and cells["encoder", "dates"][6] == "[1] refused by the CLI, see below"
    assert tm.cells(_rows()[3])[6] == ENCODER_DATES  # unnumbered: the reason in the cell
    failed = tm.results_table([tm.Row("rnn", "sort", "failed", reason="exit status 1: boom")] + _rows()[3:])
    assert "[1] run failed, see below" in failed and "- [1] rnn on sort (failed): exit status 1: boom" in failed
    assert "- [2] encoder on dates (n/a" in failed


def test_accuracy_grid_models_down_tasks_across():
    grid = tm.accuracy_grid(_rows()).splitlines()
    assert [c.strip() for c in grid[0].split("|")[1:-1]] == ["model", "copy", "dates"]
    assert [c.strip() for c in grid[2].split("|")[1:-1]] == ["rnn", "99.90%", "41.20%"]
    assert [c.strip() for c in grid[3].split("|")[1:-1]] == ["encoder", "100.00%", "n/a"]


def test_section_text_has_command_machine_load_tables_and_weak_pairs():
    info = tm.RunInfo(command="python benchmarks/task_matrix.py --write", machine=["- CPU: Test CPU, 2 logical cores"],
                      loads=[1.96, 3.04], load_after=(2.5, 2.0, 1.5), total_seconds=600.0, date="2026-01-01")
    text = tm.section_text(_rows(), info)
    assert text.startswith(tm.SECTION + "\n") and text.endswith("\n")
    assert "`python benchmarks/task_matrix.py --write`" in text
    assert "`minigrad-train --task T --model M --seed 0 --quiet --output FILE` under `nice -n 10`" in text
    assert "- CPU: Test CPU, 2 logical cores" in text
    assert "load average 2.0-3.0 at the start" in text and "2.5, 2.0, 1.5" in text and "10.0 min" in text
    assert "rnn on dates 41.20%" in text
    assert f"[1] encoder on dates (n/a, the CLI exits with status 2): {ENCODER_DATES}" in text
    assert tm.weak_pairs(_rows()) == [_rows()[1]]


def test_machine_description_names_versions():
    lines = tm.machine_description()
    assert lines[0].startswith("- CPU: ") and "logical cores" in lines[0]
    assert "NumPy" in lines[1] and "Numba" in lines[1] and "Python" in lines[1]


def test_replace_section_leaves_other_sections_untouched():
    before = "# Benchmark results\n\n## Kernels\n\nk table\n\n## Tasks x models\n\nold\nold\n\n## Language model\n\nlm\n"
    new = "## Tasks x models\n\nnew table\n"
    after = tm.replace_section(before, new)
    assert after == "# Benchmark results\n\n## Kernels\n\nk table\n\n## Tasks x models\n\nnew table\n\n## Language model\n\nlm\n"
    assert tm.replace_section(after, new) == after  # idempotent
    # last section of the file, and a file without the section
    assert tm.replace_section("# R\n\n## Tasks x models\n\nold\n", new) == "# R\n\n" + new
    assert tm.replace_section("# R\n\n## Kernels\n\nk\n", new) == "# R\n\n## Kernels\n\nk\n\n" + new
    # "### Tasks x models notes" or a heading that merely starts the same is not the section
    assert "## Tasks x models extra" in tm.replace_section("# R\n\n## Tasks x models extra\n\nx\n", new)


def test_save_and_load_run_round_trip(tmp_path):
    info = tm.RunInfo(command="c", loads=[1.0], load_after=(1.0, 2.0, 3.0), total_seconds=5.0)
    tm.save_run(tmp_path / "matrix.json", _rows(), info)
    rows, loaded = tm.load_run(tmp_path / "matrix.json")
    assert rows == _rows() and loaded == info


# -- end to end against a fake CLI (no training) ------------------------------------------------------


FAKE_CLI = """#!{python}
import json, os, sys
args = {{flag: sys.argv[i + 1] for i, flag in enumerate(sys.argv[:-1]) if flag.startswith("--") and flag != "--quiet"}}
assert "--quiet" in sys.argv and "--lr" not in sys.argv and "--steps" not in sys.argv
assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
if args["--model"] == "encoder" and args["--task"] == "dates":
    print("Error: {reason}", file=sys.stderr)
    sys.exit(2)
if args["--task"] == "sort":
    print("Traceback (most recent call last):\\nRuntimeError: boom", file=sys.stderr)
    sys.exit(1)
acc = 0.5 if args["--task"] == "dates" else 1.0
doc = {{"config": {{"seed": int(args["--seed"])}}, "steps": 500, "wall_seconds": 1.5, "history": [],
       "metrics": {{"test": {{"loss": 0.1, "token_accuracy": acc, "sequence_accuracy": acc}}}}}}
with open(args["--output"], "w") as f:
    json.dump(doc, f)
"""


@pytest.fixture()
def fake_cli(tmp_path):
    path = tmp_path / "minigrad-train"
    path.write_text(FAKE_CLI.format(python=sys.executable, reason=ENCODER_DATES))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_run_pair_through_a_fake_cli(fake_cli, tmp_path):
    ok = tm.run_pair(fake_cli, "rnn", "copy", 4, tmp_path, nice=0)
    assert ok.status == "ok" and ok.sequence_accuracy == 1.0 and ok.steps == 500 and ok.wall_seconds == 1.5
    assert json.loads((tmp_path / "rnn__copy__seed4.json").read_text())["config"]["seed"] == 4
    na = tm.run_pair(fake_cli, "encoder", "dates", 0, tmp_path, nice=0)
    assert na.status == "n/a" and na.reason == ENCODER_DATES
    failed = tm.run_pair(fake_cli, "rnn", "sort", 0, tmp_path, nice=0)
    assert failed.status == "failed" and "RuntimeError: boom" in failed.reason


def test_main_writes_only_its_section(fake_cli, tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Kernels\n\nkeep me\n\n## Tasks x models\n\nold\n\n## Language model\n\nkeep lm\n")
    rows = tm.main(["--cli", fake_cli, "--models", "rnn,encoder", "--tasks", "copy,dates", "--nice", "0", "--write",
                    "--results-dir", str(tmp_path / "runs"), "--results-file", str(results)])
    assert [(r.model, r.task, r.status) for r in rows] == [
        ("rnn", "copy", "ok"), ("rnn", "dates", "ok"), ("encoder", "copy", "ok"), ("encoder", "dates", "n/a")]
    text = results.read_text()
    assert "keep me" in text and "keep lm" in text and "old" not in text
    assert text.index("## Kernels") < text.index("## Tasks x models") < text.index("## Language model")
    assert "--models rnn,encoder --tasks copy,dates --nice 0 --write" in text
    assert "rnn on dates 50.00%" in text
    assert "## Tasks x models" in capsys.readouterr().out
    # the saved matrix renders the same section again without running anything
    again = tm.main(["--from-json", str(tmp_path / "runs" / "matrix.json"), "--write", "--results-file", str(results)])
    assert again == rows and results.read_text() == text


def test_section_replacement_ignores_headings_inside_code_fences():
    text = "# R\n\n## Language model\nold\n```\n## a generated line\n```\n\n## Tasks x models\nt\n"
    out = tm.replace_section(text, "## Language model\nnew\n", "## Language model")
    assert out == "# R\n\n## Language model\nnew\n\n## Tasks x models\nt\n"
