"""The data the autodiff page embeds is the engine's: graph.step_backward's steps, values and gradients."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import graph, viz
from minigrad.viz import demos


def _values(v: dict | None) -> np.ndarray | None:
    """The numbers of an embedded view: the value, or every value, or (min, mean, max) of a heatmap."""
    if v is None:
        return None
    if v["kind"] == "scalar":
        return np.array([v["v"]], dtype=float)
    if v["kind"] == "values":
        return np.array(v["v"], dtype=float)
    return np.array([v["min"], v["mean"], v["max"]], dtype=float)


def _expected(a: np.ndarray | None) -> np.ndarray | None:
    """What the page shows of an array: the same reduction as ``_values``."""
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    return a.reshape(-1) if a.size <= viz._data.VALUES_SHOWN else np.array([a.min(), a.mean(), a.max()])


def _close(view: dict | None, array: np.ndarray | None) -> bool:
    if view is None or array is None:
        return view is None and array is None
    return list(view["shape"]) == list(np.shape(array)) and np.allclose(_values(view), _expected(array), rtol=1e-6,
                                                                      atol=1e-12)


@pytest.mark.parametrize("name", sorted(demos.DEMOS))
def test_embedded_steps_are_step_backwards_steps(name):
    data = viz.graph(demos.DEMOS[name]()).data
    steps = list(graph.step_backward(demos.DEMOS[name]()))  # a fresh graph, same numbers (seeded)
    assert len(data["steps"]) == len(steps)
    for embedded, step in zip(data["steps"], steps):
        assert embedded["op"] == step.op and embedded["labels"] == [step.output]
        assert _close(embedded["grad_out"][0], step.grad_output)
        assert [s["label"] for s in embedded["sends"]] == [label for label, _ in step.input_grads]
        for send, (_, g) in zip(embedded["sends"], step.input_grads):
            assert _close(send["grad"], g)
        by_label = {n["id"]: n["label"] for n in data["nodes"]}
        assert {by_label[i]: _values(v).tolist() for i, v in embedded["leaf_totals"].items()} == \
            {k: _expected(v).tolist() for k, v in step.leaf_grads.items()}
        assert embedded["formula"] == step.formula and embedded["numbers"] == step.numbers


@pytest.mark.parametrize("name", sorted(demos.DEMOS))
def test_embedded_values_and_final_gradients_are_the_tensors(name):
    root = demos.DEMOS[name]()
    data = viz.graph(root).data
    tensors = viz._data._forward_order(root)
    assert [n["label"] for n in data["nodes"]] == [graph.labels(root)[id(t)] for t in tensors]
    for node, t in zip(data["nodes"], tensors):
        assert _close(node["value"], t.data) and node["dtype"] == str(t.dtype) and node["shape"] == list(t.shape)
    root.backward()
    for node, t in zip(data["nodes"], tensors):
        if t.grad_fn is None and t.requires_grad:
            assert _close(node["grad"], t.grad), node["label"]


def test_forward_order_puts_every_input_before_its_op():
    data = viz.graph(demos.attention()).data
    position = {node_id: i for i, node_id in enumerate(data["forward"])}
    assert all(position[e["src"]] < position[e["dst"]] for e in data["edges"])
    assert data["forward"][-1] == data["root"]


def test_a_tensor_used_twice_shows_the_two_gradients_it_sums():
    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    x.name = "x"
    e = mg.exp(x)
    e.name = "e"
    f = e * 3.0 + mg.tanh(e)  # e feeds Mul and Tanh
    data = viz.graph(f).data
    step = next(s for s in data["steps"] if s["labels"] == ["e"])
    parts = [p["grad"]["v"] for p in step["received"][0]]
    ev = np.exp(0.5)
    assert sorted(parts) == pytest.approx(sorted([3.0, 1 - np.tanh(ev) ** 2]))
    assert step["grad_out"][0]["v"] == pytest.approx(sum(parts))


def test_scalar_rules_show_the_numbers_put_in():
    data = viz.graph(demos.scalar()).data
    tanh = next(s for s in data["steps"] if s["op"] == "Tanh")
    assert tanh["formula"] == "dx = dy * (1 - y**2)"
    assert re.fullmatch(r"dx = dy \* \(1 - y\*\*2\) = [\d.]+ \* \(1 - \(-[\d.]+\)\*\*2\) = [\d.]+", tanh["numbers"])


def test_showing_a_graph_leaves_grads_and_graph_as_they_were():
    root = demos.scalar()
    leaves = [t for t in viz._data._forward_order(root) if t.grad_fn is None]
    viz.graph(root)
    assert all(t.grad is None for t in leaves)
    root.backward()  # the graph is still there to run backward on
    assert all(t.grad is not None for t in leaves)


def test_a_freed_graph_or_a_non_scalar_is_one_clear_error():
    root = demos.scalar()
    root.backward()
    with pytest.raises(ValueError, match="before calling backward"):
        viz.graph(root)
    with pytest.raises(ValueError, match="one-element Tensor that requires grad"):
        viz.graph(mg.tensor([1.0, 2.0], requires_grad=True) * 2)
    with pytest.raises(TypeError, match="needs a minigrad Tensor"):
        viz.graph(np.ones(2))


def test_nodes_are_grouped_by_the_module_that_made_them():
    data = viz.graph(demos.mlp()).data
    groups = {g["title"]: g["members"] for g in data["groups"]}
    assert list(groups) == ["0 (Linear)", "1 (Tanh)", "2 (Linear)"]
    label = {n["id"]: n["label"] for n in data["nodes"]}
    assert [label[i] for i in groups["1 (Tanh)"]] == ["Tanh#4"]
    assert all(n["group"] == "" for n in data["nodes"] if n["op"] in ("Sub", "Mean"))  # the loss: no module


def test_nested_modules_make_nested_groups():
    from minigrad import nn

    inner = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    model = nn.Sequential(inner, nn.Linear(2, 1))
    x = mg.tensor([[1.0, 2.0]])
    with viz.modules(model):
        out = model(x).sum()
    groups = {g["path"]: len(g["members"]) for g in viz.graph(out).data["groups"]}
    assert groups == {"0": 2, "1": 1, "0.0": 1, "0.1": 1}
    assert "forward" not in inner[0].__dict__  # the recording is undone


def test_the_page_is_one_file_that_fetches_nothing(tmp_path):
    page = viz.graph(demos.mlp())
    path = page.save(tmp_path / "graph.html")
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # no script, style or image from a network
    assert "<link" not in text and "@import" not in text
    data = json.loads(re.search(r'<script type="application/json" id="minigrad-data">(.*?)</script>', text,
                                re.S).group(1))
    assert data == json.loads(json.dumps(page.data))
    assert page._repr_html_().startswith("<iframe srcdoc=")


def test_both_layout_engines_place_every_node_without_overlap(tmp_path):
    import shutil

    engines = ["grandalf"] + (["dot"] if shutil.which("dot") else [])
    for engine in engines:
        nodes = viz.graph(demos.attention(), engine=engine).data["nodes"]
        for a in nodes:
            for b in nodes:
                if a is not b:
                    apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or
                             a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
                    assert apart, (engine, a["label"], b["label"])
    with pytest.raises(ValueError, match="layout engine"):
        viz.graph(demos.scalar(), engine="neato")
