"""``minigrad trace --order 2`` and ``graph.gradient_graph``: the graph a ``create_graph=True``
backward builds, shown and stepped through, checked against closed-form second derivatives."""

from __future__ import annotations

import json
import math
import re
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import minigrad as mg
from minigrad import autograd, graph
from minigrad.cli.commands import trace as trace_cmd
from minigrad.viz import demos
from testutils import module_file, one_error_line

WIDE = {"COLUMNS": "250"}

# f(x) = x**3 at 0.7: f' = 3 x^2 = 1.47, f'' = 6 x = 4.2; g(x) = tanh(x) at 0.7: g'' = -2 tanh (1 - tanh^2)
FUNCTIONS = textwrap.dedent("""
    import minigrad as mg

    def cube():
        x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
        x.name = "x"
        return x ** 3

    def tanh():
        x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
        x.name = "x"
        return mg.tanh(x)

    def linear():
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        return (2 * x).sum()
""")


functions = module_file("second_order_fns.py", FUNCTIONS)


def run(args, env=WIDE):
    return CliRunner().invoke(trace_cmd.command, args, env=env)


def test_order_2_of_x_cubed_shows_the_rule_of_pow_and_steps_to_6x(functions):
    result = run([f"{functions}:cube", "--order", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  df/dx = shape () norm 1.47 [1.47]" in out  # the first backward: 3 x^2
    tree = out[out.index("graph of s = df/dx"):out.index("backward of df/dx")]
    # every op of the gradient's graph is one of Pow's backward rule (d(x^3) = dy * 3 * x^2), none forward
    assert "4 ops, 4 made by the backward rules" in tree
    assert tree.splitlines()[1].startswith("df/dx  Mul  (backward of Pow#0)  shape=() dtype=float64")
    assert "Pow#3  Pow  (backward of Pow#0)  shape=() dtype=float64  inputs need grad: [yes, no]" in tree
    assert "(forward)" not in tree and "x  leaf  shape=() dtype=float64  requires_grad  value 0.7" in tree
    assert "backward of df/dx: 4 nodes" in out
    assert "leaf x.grad = shape () norm 4.2 [4.2]" in out
    table = out[out.index("accumulated .grad of the leaves: d s / d leaf, the second derivative"):]
    assert "│ x    │ ()    │ shape () norm 4.2 [4.2] │" in table


def test_order_2_of_tanh_reads_the_forward_output_and_gives_the_closed_form(functions):
    t = math.tanh(0.7)
    second = -2 * t * (1 - t * t)
    result = run([f"{functions}:tanh", "--order", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"  df/dx = shape () norm {1 - t * t:.4g} [{1 - t * t:.4g}]" in out
    tree = out[out.index("graph of s = df/dx"):out.index("backward of df/dx")]
    assert f"Tanh#0  Tanh  (forward)  shape=() dtype=float64  inputs need grad: [yes]  saved: float64  value {t:.4g}" \
        in tree  # tanh's rule dy * (1 - y**2) reads the output y: the forward node is in the gradient's graph
    assert "Sub#" in tree and "(backward of Tanh#0)" in tree
    assert f"leaf x.grad = shape () norm {abs(second):.4g} [{second:.4g}]" in out


def test_order_2_of_the_scalar_demo_gives_the_hessian_times_ones():
    # f = tanh(x y + y) e^x; the hand-derived first derivatives, differentiated by central differences
    def first(x, y):
        c, d = math.tanh(x * y + y), math.exp(x)
        return np.array([y * (1 - c * c) * d + c * d, (1 + x) * (1 - c * c) * d])

    h = 1e-5
    hessian = np.stack([(first(0.5 + h, -1.25) - first(0.5 - h, -1.25)) / (2 * h),
                        (first(0.5, -1.25 + h) - first(0.5, -1.25 - h)) / (2 * h)])
    hv = hessian @ np.ones(2)
    result = run(["--demo", "scalar", "--order", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "graph of s = df/dx + df/dy, built by that backward: 17 ops, 8 made by the backward rules, " \
           "2 adding the gradients that reach one tensor, 1 combining them into s, " \
           "6 of the forward graph, which the rules read" in out
    assert "df/dx  Add  (sum of gradients)" in out  # x is used twice: the engine adds its two gradients
    assert "(backward of Exp#4)" in out and "(backward of Tanh#1)" in out and "Tanh#1  Tanh  (forward)" in out
    table = out[out.index("accumulated .grad of the leaves: d s / d leaf, H v"):]
    assert f"│ x    │ ()    │ shape () norm {abs(hv[0]):.4g} [{hv[0]:.4g}]" in table
    assert f"│ y    │ ()    │ shape () norm {abs(hv[1]):.4g} [{hv[1]:.4g}]" in table


def test_order_2_into_a_pipe_keeps_every_node_and_step_on_one_line():
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp", "--order", "2"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(len(line) > 80 for line in lines)
    tree = lines[lines.index(next(l for l in lines if l.startswith("graph of s = "))) + 1:
                 lines.index(next(l for l in lines if l.startswith("backward of s: ")))]
    described = [l for l in tree if l.strip() and not l.rstrip().endswith("(shown above)") and "constant " not in l]
    assert described and all("shape=" in l and "dtype=" in l for l in described), tree  # no line is a wrapped tail
    assert all(line.count("[") == line.count("]") for line in lines)
    assert any("MatMul  (backward of Linear#" in l for l in tree)


def test_order_2_html_writes_the_gradients_page_framed_by_rule(tmp_path):
    path = tmp_path / "second.html"
    result = run(["--demo", "scalar", "--order", "2", "--html", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {path} (" in result.output and "step 15/15" in result.output
    data = json.loads(re.search(r'id="minigrad-data">(.*?)</script>', path.read_text(), re.S).group(1))
    expected = graph.gradient_graph(demos.scalar())
    assert [s["op"] for s in data["steps"]] == [s.op for s in graph.step_backward(expected.root)]
    assert {n["label"] for n in data["nodes"]} >= {"s", "df/dx", "df/dy", "grad_output", "Tanh#1", "x", "y"}
    titles = {g["title"] for g in data["groups"]}
    assert {"backward of Tanh#1", "backward of Exp#4", "backward of Mul#0", "backward of Mul#3"} <= titles
    by_label = {n["label"]: n for n in data["nodes"]}
    assert by_label["Tanh#1"]["group"] == "" and by_label["Sub#8"]["group"] == "backward of Tanh#1"
    assert by_label["x"]["grad"]["v"] == pytest.approx(float(expected.leaves[0].grad), rel=1e-12)


def test_order_2_dot_text_is_the_gradients_graph(tmp_path):
    dot = tmp_path / "g.dot"
    assert run(["--demo", "scalar", "--order", "2", "--dot", str(dot)]).exit_code == 0
    text = dot.read_text()
    assert 'label="df/dx\\n() float64"' in text and 'label="grad_output\\n() float64"' in text


def test_order_2_errors_are_one_line_exit_2(functions):
    assert "Invalid value for '--order': 3 is not in the range 1<=x<=2" in one_error_line(
        run(["--demo", "scalar", "--order", "3"]))
    assert "Invalid value for '--order'" in one_error_line(run(["--demo", "scalar", "--order", "0"]))
    line = one_error_line(run([f"{functions}:linear", "--order", "2"]))
    assert "is linear in every input, so its gradient is a constant: --order 2 has no graph to trace" in line


def test_help_describes_order_2():
    out = CliRunner().invoke(trace_cmd.command, ["--help"], env={"COLUMNS": "100"}).output
    assert "--order INTEGER RANGE" in out and "create_graph=True" in out and "Hessian" in out


# ---------------------------------------------------------------- the library function


def test_gradient_graph_with_directions_is_a_hessian_vector_product():
    gen = np.random.default_rng(0)
    x = mg.tensor(gen.standard_normal(5), dtype=mg.float64, requires_grad=True)
    w = mg.tensor(gen.standard_normal(5), dtype=mg.float64, requires_grad=True)
    v = [gen.standard_normal(5), gen.standard_normal(5)]
    f = (x ** 3 * w).sum()  # H = [[diag(6 x w), diag(3 x^2)], [diag(3 x^2), 0]]
    gg = graph.gradient_graph(f, v)
    assert [t is s for t, s in zip(gg.leaves, (x, w))] == [True, True]
    assert gg.expression == "sum(df/dleaf0 * v_leaf0) + sum(df/dleaf1 * v_leaf1)"
    assert x.grad is None and w.grad is None  # building the graph changes no .grad
    np.testing.assert_allclose(gg.grads[0].data, 3 * x.data ** 2 * w.data, rtol=1e-12)
    for _ in graph.step_backward(gg.root):
        pass
    np.testing.assert_allclose(x.grad, 6 * x.data * w.data * v[0] + 3 * x.data ** 2 * v[1], rtol=1e-12)
    np.testing.assert_allclose(w.grad, 3 * x.data ** 2 * v[0], rtol=1e-12)


def test_gradient_graph_steps_give_what_autograd_grad_gives_for_every_demo():
    for name, build in demos.DEMOS.items():
        f = build()
        firsts = autograd.grad(f, graph.leaves(f), retain_graph=True)  # plain first-order gradients
        gg = graph.gradient_graph(f)
        for g, e in zip(gg.grads, firsts):  # mlp and attention are float32: the kernels round differently
            np.testing.assert_allclose(g.data, e.data, rtol=1e-5, atol=1e-7, err_msg=f"{name}: {g.name}")
        f2 = build()  # the same function again: double backward with autograd.grad, v = 1
        grads = autograd.grad(f2, graph.leaves(f2), create_graph=True)
        s = sum((g.sum() for g in grads if g.requires_grad), mg.tensor(0.0, dtype=f2.dtype))
        expected = autograd.grad(s, graph.leaves(f2), allow_unused=True)
        for _ in graph.step_backward(gg.root):
            pass
        for leaf, e in zip(gg.leaves, expected):
            np.testing.assert_allclose(leaf.grad, 0 if e is None else e.data, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{name}: {leaf.name}")
        assert set(gg.made_by.values()) >= {graph.FORWARD, graph.CONTRACTION}, name


def test_gradient_graph_rejects_what_it_cannot_trace():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="one-element Tensor that requires grad, got shape \\(2,\\)"):
        graph.gradient_graph(x * 2)
    with pytest.raises(ValueError, match="the gradient is a constant"):
        graph.gradient_graph((x * 2).sum())
    with pytest.raises(ValueError, match="1 directions for 2 leaves"):
        graph.gradient_graph((x * x).sum() + (x * x).sum() * mg.tensor(1.0, requires_grad=True), [np.ones(2)])
    with pytest.raises(ValueError, match="the direction of leaf0 has shape \\(3,\\), the leaf \\(2,\\)"):
        graph.gradient_graph((x * x).sum(), [np.ones(3)])
