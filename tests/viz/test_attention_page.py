"""The attention page: its data is the attention modules' own weights; in a browser, heads select and lines follow."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.models.lm import LanguageModel, LMConfig
from minigrad.models.transformer import Transformer, TransformerConfig

from test_graph_browser import _console_errors, _missing_browser, browser, shots  # noqa: F401 (fixtures)


def _transformer():
    mg.manual_seed(0)
    return Transformer(7, 7, TransformerConfig(d_model=8, num_heads=2, ff_dim=16, num_layers=2))


def test_every_transformer_layer_and_head_is_embedded_with_its_weights():
    model = _transformer()
    src, tgt = np.array([[4, 5, 6]]), np.array([[1, 4, 5, 6]])
    page = viz.attention(model, src, tgt, src_tokens=["a", "b", "c"], tgt_tokens=["<bos>", "a", "b", "c"])
    maps = {m["name"]: m for m in page.data["maps"]}
    assert list(maps) == ["encoder.layers.0.self_attn", "encoder.layers.1.self_attn", "decoder.layers.0.self_attn",
                          "decoder.layers.0.cross_attn", "decoder.layers.1.self_attn", "decoder.layers.1.cross_attn"]
    assert [maps[n]["kind"] for n in maps] == ["self", "self", "causal", "cross", "causal", "cross"]
    cross = maps["decoder.layers.1.cross_attn"]
    assert cross["queries"] == ["<bos>", "a", "b", "c"] and cross["keys"] == ["a", "b", "c"] and cross["heads"] == 2
    assert maps["encoder.layers.0.self_attn"]["queries"] == ["a", "b", "c"]
    model(src, tgt)  # the same forward again: the weights the modules keep are the page's
    expected = model.decoder.layers[1].cross_attn.last_weights[0]
    np.testing.assert_allclose(np.array(cross["weights"]), expected, rtol=1e-6)
    np.testing.assert_allclose(np.array(cross["weights"]).sum(axis=-1), 1.0, rtol=1e-5)


def test_a_language_models_causal_self_attention():
    mg.manual_seed(0)
    model = LanguageModel(9, LMConfig(d_model=8, num_heads=2, ff_dim=16, num_layers=1, block_size=8))
    model.train()
    page = viz.attention(model, np.array([3, 4, 5, 6]), src_tokens=list("abcd"))
    (layer,) = page.data["maps"]
    assert layer["kind"] == "causal" and layer["queries"] == list("abcd") and layer["keys"] == list("abcd")
    assert np.all(np.triu(np.array(layer["weights"])[0], k=1) == 0)
    assert model.training  # the training flags are put back


def test_an_alignment_matrix_and_the_errors():
    page = viz.alignment(np.array([[0.9, 0.1], [0.2, 0.8]]), ["x", "y"], ["a", "b"])
    (layer,) = page.data["maps"]
    assert layer["kind"] == "alignment" and layer["weights"] == [[[0.9, 0.1], [0.2, 0.8]]]
    with pytest.raises(ValueError, match=r"alignment matrix is \(output tokens, source tokens\)"):
        viz.alignment(np.ones(3), ["x"], ["a"])
    with pytest.raises(ValueError, match="kept no attention weights"):
        viz.attention(mg.nn.Linear(2, 2), np.array([1, 2]))


def test_the_attention_page_is_self_contained(tmp_path):
    text = viz.attention(_transformer(), [4, 5], [1, 4]).save(tmp_path / "a.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text) and "<link" not in text
    data = json.loads(re.search(r'id="minigrad-data">(.*?)</script>', text, re.S).group(1))
    assert len(data["maps"]) == 6


@pytest.mark.skipif(_missing_browser() is not None, reason=f"browser tests skipped: {_missing_browser()}")
def test_in_a_browser_heads_select_and_hovering_a_token_keeps_its_lines(browser, tmp_path, shots):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains

    page = viz.attention(_transformer(), [[4, 5, 6]], [[1, 4, 5, 6]], src_tokens=list("abc"),
                         tgt_tokens=["<bos>", "a", "b", "c"], title="attention of a tiny Transformer")
    path = page.save(tmp_path / "attention.html")
    browser.get(path.resolve().as_uri())
    browser.get_log("browser")
    heads = browser.find_elements("css selector", ".head")
    assert len(heads) == sum(m["heads"] for m in page.data["maps"]) == 12
    cross = next(i for i, m in enumerate(page.data["maps"]) if m["name"] == "decoder.layers.1.cross_attn")
    browser.find_element("css selector", f'.head[data-map="{cross}"][data-head="1"]').click()
    assert "decoder.layers.1.cross_attn, head 1" in browser.find_element("id", "selected").text
    weights = np.array(page.data["maps"][cross]["weights"][1])
    lines = browser.find_elements("css selector", "#lines line")
    assert len(lines) == weights.size
    shown = np.array([float(l.get_attribute("stroke-opacity")) for l in lines]).reshape(weights.shape)
    np.testing.assert_allclose(shown, weights, atol=1e-4)
    query = browser.find_elements("css selector", "#lines text.query")[2]
    ActionChains(browser).move_to_element(query).perform()
    dim = {(int(l.get_attribute("data-query")), int(l.get_attribute("data-key")))
           for l in browser.find_elements("css selector", "#lines line.dim")}
    assert dim == {(i, j) for i in range(weights.shape[0]) for j in range(weights.shape[1]) if i != 2}
    browser.save_screenshot(str(shots / "attention.png"))
    assert _console_errors(browser) == []
