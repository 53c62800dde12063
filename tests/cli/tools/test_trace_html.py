"""``minigrad trace --html FILE [--open]``: the autodiff page from the command line."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from minigrad import graph
from minigrad.cli.commands import trace as trace_cmd
from minigrad.viz import demos


def _embedded(path) -> dict:
    text = path.read_text()
    return json.loads(re.search(r'id="minigrad-data">(.*?)</script>', text, re.S).group(1))


def test_trace_html_writes_the_page_of_the_demo_and_still_prints_the_steps(tmp_path):
    path = tmp_path / "scalar.html"
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "scalar", "--html", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert f"wrote {path} (7 nodes, laid out by " in result.output
    data = _embedded(path)
    assert [s["op"] for s in data["steps"]] == [s.op for s in graph.step_backward(demos.scalar())]
    assert "step 5/5" in result.output  # the terminal trace after the page
    assert "rule      dx = dy * (1 - y**2) = " in result.output  # the rule with the numbers


def test_trace_open_opens_the_page_in_a_browser(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    path = tmp_path / "mlp.html"
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp", "--html", str(path), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [path.resolve().as_uri()]


def test_trace_open_without_html_or_browser_is_one_line(tmp_path, monkeypatch):
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp", "--open"])
    assert result.exit_code == 2 and "Error: --open opens the --html page: give --html FILE too" in result.output
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    path = tmp_path / "page.html"
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp", "--html", str(path), "--open"])
    assert result.exit_code == 2 and "found no browser to open it" in result.output and path.is_file()


def test_trace_html_into_a_missing_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp", "--html", str(tmp_path / "no" / "page.html")])
    assert result.exit_code == 2 and result.output.startswith("Error: ") and "--html" in result.output
    assert "Traceback" not in result.output
