"""``minigrad attention LM_CKPT PROMPT --html FILE``: a language model's causal self-attention."""

from __future__ import annotations

import json
import re

import numpy as np
from click.testing import CliRunner

from minigrad.cli.main import cli


def test_the_page_shows_causal_attention_over_the_prompt_and_its_continuation(lm_checkpoint, tmp_path):
    page = tmp_path / "lm.html"
    result = CliRunner().invoke(cli, ["attention", str(lm_checkpoint[0]), "def ", "--html", str(page),
                                      "--new-tokens", "5"])
    assert result.exit_code == 0, result.output
    assert f"wrote {page} (2 attention layers over 9 tokens)" in result.output
    maps = json.loads(re.search(r'id="minigrad-data">(.*?)</script>', page.read_text(), re.S).group(1))["maps"]
    assert [m["name"] for m in maps] == ["blocks.0.self_attn", "blocks.1.self_attn"]
    assert all(m["kind"] == "causal" and m["heads"] == 2 for m in maps)
    assert maps[0]["queries"][:4] == list("def ") and len(maps[0]["queries"]) == 9
    assert np.all(np.triu(np.array(maps[1]["weights"]), k=1) == 0)


def test_a_language_model_needs_html(lm_checkpoint):
    result = CliRunner().invoke(cli, ["attention", str(lm_checkpoint[0]), "def "])
    assert result.exit_code == 2 and "Error: a language model's attention is shown as a page: give --html FILE" \
        in result.output
