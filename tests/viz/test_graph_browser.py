"""The autodiff page in a real browser: headless Chromium driven by Selenium, pages opened from file://.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (CI's ``.ci/run`` installs them) and the
``selenium`` package of the dev extra; without them these tests skip and say why. Screenshots go to
$MINIGRAD_SCREENSHOTS when set (``MINIGRAD_SCREENSHOTS=docs/images pytest tests/viz`` refreshes the
README's), else to pytest's temporary directory; the 500-node render time is written beside them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from minigrad import graph, viz
from minigrad.viz import demos

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900")


def _missing_browser() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "no chromium on PATH (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH (apt-get install chromium-driver)"
    return None


pytestmark = pytest.mark.skipif(_missing_browser() is not None, reason=f"browser tests skipped: {_missing_browser()}")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("MINIGRAD_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, page, tmp_path, name: str):
    path = page.save(tmp_path / f"{name}.html")
    browser.get(path.resolve().as_uri())
    browser.get_log("browser")  # what the previous page logged is not this page's
    return path


def _console_errors(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _shown_numbers(browser, selector: str) -> np.ndarray:
    text = browser.find_element("css selector", selector).text
    return np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)])


def _expected(array) -> np.ndarray:
    a = np.asarray(array, dtype=float)
    return a.reshape(-1) if a.size <= viz._data.VALUES_SHOWN else np.array([a.min(), a.mean(), a.max()])


def _gradient_of_scalar():
    """The graph the scalar demo's backward builds (``trace --order 2``), its ops framed by rule."""
    gg = graph.gradient_graph(demos.scalar())
    return gg.root, {id_: f"backward of {label}" for id_, label in gg.rule_of.items()}


# name -> a fresh (root, groups) each call
GRAPHS = {**{name: (lambda build=build: (build(), None)) for name, build in demos.DEMOS.items()},
          "scalar_order2": _gradient_of_scalar}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_next_steps_through_forward_then_the_engines_backward(browser, tmp_path, shots, name):
    root, groups = GRAPHS[name]()
    page = viz.graph(root, groups=groups)
    steps = list(graph.step_backward(GRAPHS[name]()[0]))  # the API's numbers
    _open(browser, page, tmp_path, name)
    data = page.data
    forward, backward = len(data["forward"]), len(data["steps"])
    label = {n["id"]: n["label"] for n in data["nodes"]}
    next_button = browser.find_element("id", "btn-next")
    for position in range(1, forward + backward + 1):
        next_button.click()
        current = browser.find_elements("css selector", ".node.current")
        assert [c.get_attribute("data-id") for c in current] == (
            [data["forward"][position - 1]] if position <= forward else data["steps"][position - forward - 1]["outputs"])
        if position <= forward:
            continue
        step = steps[position - forward - 1]
        assert browser.find_element("id", "step-node").text.startswith(step.output)
        assert label[current[0].get_attribute("data-id")] == step.output
        assert np.allclose(_shown_numbers(browser, "#grad-in .nums"), _expected(step.grad_output), rtol=1e-3, atol=1e-6)
        sends = browser.find_elements("css selector", "#sends li.send")
        for li, (input_label, g) in zip(sends, step.input_grads):
            assert input_label in li.text
            if g is not None:
                nums = li.find_element("css selector", ".nums").text
                shown = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", nums)])
                assert np.allclose(shown, _expected(g), rtol=1e-3, atol=1e-6)
        if step.formula:
            assert step.formula in browser.find_element("id", "rule").text
        reached = {data["steps"][position - forward - 1]["sends"][i]["to"] for i, (_, g) in enumerate(step.input_grads)
                   if g is not None}
        assert {e.get_attribute("data-id") for e in browser.find_elements("css selector", ".node.sent-to")} == reached
        if position == forward + 3:
            browser.save_screenshot(str(shots / f"graph_{name}.png"))
    assert next_button.get_attribute("disabled")  # the end: nothing further
    assert _console_errors(browser) == []


def test_arrow_keys_step_and_the_panel_shows_the_sum_of_two_gradients(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    page = viz.graph(demos.scalar())
    _open(browser, page, tmp_path, "keys")
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.END)
    assert body.get_attribute("data-position") == str(len(page.data["forward"]) + len(page.data["steps"]))
    body.send_keys(Keys.ARROW_LEFT)
    assert body.get_attribute("data-position") == str(len(page.data["forward"]) + len(page.data["steps"]) - 1)
    body.send_keys(Keys.HOME)
    assert body.get_attribute("data-position") == "0"
    # x is used twice (x*y and exp(x)): at the last step its .grad is shown as the sum of the two parts
    body.send_keys(Keys.END)
    sums = browser.find_elements("css selector", "#sends .leaf-sum")
    assert len(sums) == 1 and sums[0].text.strip().startswith("x.grad = ") and " + " in sums[0].text
    assert _console_errors(browser) == []


def test_a_module_group_folds_and_unfolds(browser, tmp_path):
    page = viz.graph(demos.mlp())
    _open(browser, page, tmp_path, "fold")
    group = page.data["groups"][0]
    frame = browser.find_element("css selector", f'.group[data-path="{group["path"]}"] text')
    member = browser.find_element("css selector", f'.node[data-id="{group["members"][0]}"]')
    assert member.is_displayed()
    frame.click()
    assert not member.is_displayed() and "▸" in frame.text
    frame.click()
    assert member.is_displayed()
    assert _console_errors(browser) == []


def test_a_500_node_graph_renders_and_reports_its_time(browser, tmp_path, shots):
    page = viz.graph(demos.deep_mlp())
    assert len(page.data["nodes"]) == 500
    path = _open(browser, page, tmp_path, "large")
    render_ms = browser.execute_script("return window.minigradGraph.renderMs")
    assert isinstance(render_ms, (int, float)) and render_ms > 0
    assert f"drawn in {render_ms:.0f} ms" in browser.find_element("id", "stats").text
    browser.find_element("id", "btn-last").click()  # every step, then a picture
    browser.save_screenshot(str(shots / "graph_500_nodes.png"))
    report = {"nodes": 500, "render_ms": round(render_ms, 1), "page_bytes": path.stat().st_size,
              "layout": page.data["layout"]}
    (shots / "render_times.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n500-node graph: {report}")
    assert _console_errors(browser) == []
