"""``minigrad bench``: bad --models/--sizes/--tasks/--seeds are one line naming the option, before anything runs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from minigrad.cli.commands import bench
from testutils import one_error_line


@pytest.fixture
def scripts_run(monkeypatch) -> list:
    """The benchmark scripts bench would start (none is started)."""
    calls: list = []
    monkeypatch.setattr(bench, "_run", lambda script, args: calls.append((script.name, args)))
    return calls


@pytest.mark.parametrize("args, fragments", [
    (["--models", "nope"], ["'--models'", "'nope'", "rnn-attn"]),
    (["--sizes", "huge"], ["'--sizes'", "'huge'", "width256"]),
    (["--accuracy", "--tasks", "copy,sing"], ["'--tasks'", "'sing'", "reverse"]),
    (["--accuracy", "--seeds", "a,b"], ["'--seeds'", "0-9"]),
    (["--accuracy", "--seeds", "5-2"], ["'--seeds'", "'5-2'", "2-5"]),
    (["--seeds", "0,7-3"], ["'--seeds'", "'7-3'"]),  # checked even without --accuracy
])
def test_bad_names_are_one_line_naming_the_option(scripts_run, args, fragments):
    one_error_line(CliRunner().invoke(bench.command, args), *fragments)  # no usage block
    assert scripts_run == []


def test_valid_names_and_ranges_reach_the_scripts(scripts_run):
    result = CliRunner().invoke(bench.command, ["--models", "rnn", "--sizes", "all", "--accuracy", "--tasks", "copy",
                                                "--seeds", "0-2,5", "--no-torch"])
    assert result.exit_code == 0, result.output
    assert [name for name, _ in scripts_run] == ["train_step.py", "time_to_accuracy.py"]
    assert scripts_run[1][1][scripts_run[1][1].index("--seeds") + 1] == "0-2,5"
