"""``minigrad plot`` on hand-written histories: values that cannot be plotted are skipped with one line."""

from __future__ import annotations

import json

import pytest

from minigrad.cli.main import cli
from testutils import assert_usage_error, run


def _results(tmp_path, bad: str, key: str = "train_loss"):
    """A results.json of three validations whose second ``key`` is the JSON text ``bad``."""
    columns = {"step": ["1", "2", "3"], "train_loss": ["1.0", "0.5", "0.25"], "valid_loss": ["2.0", "1.0", "0.5"],
               "valid_token_accuracy": ["0.25", "0.5", "0.75"]}
    columns[key][1] = bad
    records = ["{" + ", ".join(f'"{k}": {column[i]}' for k, column in columns.items()) + "}" for i in range(3)]
    path = tmp_path / "results.json"
    path.write_text('{"history": [' + ", ".join(records) + "]}")
    json.loads(path.read_text())  # the file itself is valid JSON
    return path


UNPLOTTABLE = ['"abc"', "1e308", "-1e308", "1e400", "Infinity", "NaN", "true", "[1]", "1" + "0" * 400]


@pytest.mark.parametrize("bad", UNPLOTTABLE)
def test_an_unplottable_value_is_skipped_with_one_line(runner, tmp_path, bad):
    result = run(runner, cli, ["plot", _results(tmp_path, bad)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [f"skipped 1 point of {tmp_path / 'results.json'} that is "
                                                  "not a number of magnitude at most 1e+100"]
    assert "train loss" in result.stdout and "valid loss" in result.stdout


@pytest.mark.parametrize("bad", ['"abc"', "1e308", "NaN"])
def test_a_png_skips_the_same_points(runner, tmp_path, bad, monkeypatch):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed: --png is not available")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    png = tmp_path / "curves.png"
    result = run(runner, cli, ["plot", _results(tmp_path, bad), "--png", png])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [f"skipped 1 point of {tmp_path / 'results.json'} that is "
                                                  "not a number of magnitude at most 1e+100"]
    assert png.stat().st_size > 0


def test_a_record_with_an_unplottable_step_is_skipped_whole(runner, tmp_path):
    result = run(runner, cli, ["plot", _results(tmp_path, '"two"', key="step")])
    assert result.exit_code == 0, result.output
    assert "skipped 3 points" in result.stderr and "step 1 → 3" in result.stdout


def test_none_is_a_gap_not_a_skipped_point(runner, tmp_path):
    """A diverged run writes null for a non-finite loss: that is a gap in the curve, not bad input."""
    result = run(runner, cli, ["plot", _results(tmp_path, "null")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_history_with_nothing_plottable_is_refused(runner, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"history": [{"step": 1, "train_loss": "abc"}, {"step": 2, "valid_loss": 1e308}]}))
    assert_usage_error(run(runner, cli, ["plot", path]), str(path), "nothing to plot",
                       "2 points", "not a number of magnitude at most 1e+100")
