"""``minigrad attention CKPT TEXT --html FILE``: the attention page of a checkpoint."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from minigrad.cli.main import cli
from testutils import TINY_RUN, TINY_TASK, train_and_save


def _maps(path) -> list[dict]:
    return json.loads(re.search(r'id="minigrad-data">(.*?)</script>', path.read_text(), re.S).group(1))["maps"]


@pytest.fixture(scope="module")
def transformer(tmp_path_factory):
    model = ["--model", "transformer", "--d-model", "8", "--num-heads", "2", "--ff-dim", "16", "--num-layers", "1"]
    return train_and_save(tmp_path_factory.mktemp("transformer"), TINY_TASK + model + TINY_RUN)[0]


def test_a_transformer_page_has_every_layer_and_head(transformer, tmp_path):
    page = tmp_path / "attention.html"
    result = CliRunner().invoke(cli, ["attention", str(transformer), "3 1 4", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert f"wrote {page} (3 attention layers)" in result.output
    maps = _maps(page)
    assert [(m["name"], m["kind"], m["heads"]) for m in maps] == [
        ("encoder.layers.0.self_attn", "self", 2), ("decoder.layers.0.self_attn", "causal", 2),
        ("decoder.layers.0.cross_attn", "cross", 2)]
    assert maps[0]["queries"] == ["3", "1", "4"] and maps[2]["keys"] == ["3", "1", "4"]
    assert maps[2]["queries"][0] == "<bos>" and len(maps[2]["queries"]) == len(maps[1]["queries"])


def test_an_rnn_page_shows_the_alignment(trained, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    page = tmp_path / "alignment.html"
    result = CliRunner().invoke(cli, ["attention", str(trained[0]), "3 1 4", "--html", str(page), "--open"])
    assert result.exit_code == 0, result.output
    (layer,) = _maps(page)
    assert layer["kind"] == "alignment" and layer["keys"] == ["3", "1", "4"]
    assert opened == [page.resolve().as_uri()]


def test_open_without_html_is_one_line(trained):
    result = CliRunner().invoke(cli, ["attention", str(trained[0]), "3 1 4", "--open"])
    assert result.exit_code == 2 and "Error: --open opens the --html page: give --html FILE too" in result.output
