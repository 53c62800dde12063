"""Graph tools: tree, DOT and backward stepping, checked for content against a hand-computed case."""

from __future__ import annotations

import io

import numpy as np
import pytest

import minigrad as mg
from minigrad import graph


def _tiny():
    # f = sum((x * w) + b) with x = [1, 2], w = [3, 4], b = 0.5
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    x.name, w.name = "x", "w"
    f = (x * w + 0.5).sum()
    return x, w, f


def test_tree_names_ops_shapes_dtypes_and_saved_arrays():
    x, w, f = _tiny()
    text = graph.format_graph(f)
    lines = text.splitlines()
    assert lines[0].startswith("Sum#0  Sum  shape=() dtype=float32")
    assert any("Add#1  Add  shape=(2,) dtype=float32  inputs need grad: [yes, no]" in l for l in lines)
    assert any("Mul#2  Mul  shape=(2,)" in l and "saved: (2,), (2,)" in l for l in lines)
    assert any("x  leaf  shape=(2,) dtype=float32  requires_grad" in l for l in lines)
    assert any("w  leaf" in l for l in lines)
    assert any("constant float" in l for l in lines)


def test_shared_subgraph_is_shown_once():
    x = mg.tensor([1.0], requires_grad=True)
    x.name = "x"
    y = x * 2
    z = (y + y).sum()
    text = graph.format_graph(z)
    assert text.count("Mul#") == 2 and "(shown above)" in text


def _shared_below_a_sibling():
    # f = sum(2 e^x + e^x): Add's first input (Mul) reaches Exp, which is also Add's second input
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    e = mg.exp(x)
    return (e * 2 + e).sum()


def test_a_node_referred_to_as_shown_above_is_printed_in_full_above_it():
    lines = graph.format_graph(_shared_below_a_sibling()).splitlines()
    references = [i for i, line in enumerate(lines) if line.endswith("(shown above)")]
    assert references
    for i in references:
        label = lines[i].split()[-3]  # "│   └── Exp#3  (shown above)" -> "Exp#3"
        full = [j for j, line in enumerate(lines) if f"{label}  {label.split('#')[0]}  shape=" in line
                or f"{label}  leaf  shape=" in line]
        assert len(full) == 1 and full[0] < i, (label, lines)


def test_print_graph_off_a_terminal_keeps_each_node_on_one_line():
    from rich.console import Console

    mul = "Mul#2  Mul  shape=(2,) dtype=float32  inputs need grad: [yes, no]  saved: (2,), int  value [5.437, 14.78]"
    f = _shared_below_a_sibling()
    piped = io.StringIO()
    graph.print_graph(f, console=Console(file=piped, width=40))  # a file: not a terminal
    lines = piped.getvalue().splitlines()
    assert len(lines) == 7, lines  # Sum, Add, Mul, Exp, x, the constant 2, Exp again: one line each
    assert any(line.endswith(mul) for line in lines), lines
    terminal = io.StringIO()
    graph.print_graph(f, console=Console(file=terminal, width=40, force_terminal=True, color_system=None))
    assert max(len(line) for line in terminal.getvalue().splitlines()) <= 40  # a terminal: wrapped to its width


def test_dot_text_has_every_tensor_op_and_edge():
    x, w, f = _tiny()
    dot = graph.to_dot(f)
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    for op in ("Sum", "Add", "Mul"):
        assert f'label="{op}"' in dot
    assert 'label="x\\n(2,) float32"' in dot and 'label="w\\n(2,) float32"' in dot
    mul_out = f.grad_fn.parents[0].grad_fn.parents[0]
    assert f"t{id(x)} -> op{id(mul_out)};" in dot and f"t{id(w)} -> op{id(mul_out)};" in dot
    assert f"op{id(f)} -> t{id(f)};" in dot
    assert dot.count("->") == 8  # 3 op->output, x and w -> Mul, Mul and the constant -> Add, Add -> Sum


def test_step_backward_reports_each_node_and_matches_hand_computed_gradients():
    x, w, f = _tiny()
    steps = list(graph.step_backward(f))
    assert [s.op for s in steps] == ["Sum", "Add", "Mul"]
    assert [s.output for s in steps] == ["Sum#0", "Add#1", "Mul#2"]
    np.testing.assert_array_equal(steps[0].grad_output, 1.0)
    add_inputs = dict(steps[1].input_grads)
    np.testing.assert_array_equal(add_inputs["Mul#2"], [1, 1])
    assert add_inputs["constant"] is None
    mul = dict(steps[2].input_grads)
    np.testing.assert_array_equal(mul["x"], [3, 4])  # d f / d x = w
    np.testing.assert_array_equal(mul["w"], [1, 2])  # d f / d w = x
    np.testing.assert_array_equal(steps[2].leaf_grads["x"], [3, 4])
    np.testing.assert_array_equal(x.grad, [3, 4])  # the same as backward()


def test_step_backward_shows_accumulation_into_a_leaf_used_twice():
    x = mg.tensor([2.0], requires_grad=True)
    x.name = "x"
    f = (x * x + x).sum()  # df/dx = 2x + 1 = 5
    steps = list(graph.step_backward(f))
    assert "x" in steps[-1].leaf_grads
    np.testing.assert_array_equal(x.grad, [5.0])
    grads_to_x = [g for s in steps for label, g in s.input_grads if label == "x"]
    assert sorted(float(g[0]) for g in grads_to_x) == [1.0, 2.0, 2.0]


def test_summarize_and_render_errors(monkeypatch):
    assert graph.summarize(np.array([3.0, 4.0])) == "shape (2,) norm 5 [3, 4]"
    assert graph.summarize(None) == "none"
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz 'dot'"):
        graph.render_dot("digraph{}", "out.png")
    monkeypatch.setattr(graph.shutil, "which", lambda name: "/usr/bin/dot")
    with pytest.raises(ValueError, match="unsupported format 'gif'"):
        graph.render_dot("digraph{}", "out.gif")


def test_a_graphviz_failure_is_one_runtime_error_with_its_message(tmp_path):
    if graph.shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed: its failure message cannot be produced")
    with pytest.raises(RuntimeError, match=r"Graphviz could not write .*out\.png: .+") as err:
        graph.render_dot("digraph { a -> }", str(tmp_path / "out.png"))  # a syntax error
    assert "\n" not in str(err.value)


def test_dot_labels_are_escaped(tmp_path):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.name = 'my "x"\\ and\na newline'
    text = graph.to_dot((x * x).sum())
    assert 'label="my \\"x\\"\\\\ and\\na newline' in text
    if graph.shutil.which("dot") is not None:  # and Graphviz parses it
        graph.render_dot(text, str(tmp_path / "g.svg"))
        assert (tmp_path / "g.svg").stat().st_size > 0


def test_the_tree_shows_each_node_value():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    text = graph.format_graph((x * 3.0).sum(), width=200)
    assert "x  leaf  shape=(2,) dtype=float32  requires_grad  value [1, 2]" in text
    assert "Sum#0  Sum  shape=() dtype=float32  inputs need grad: [yes]  value 9" in text


def test_each_step_carries_the_op_tables_rule_with_the_numbers_for_scalars():
    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    y = mg.tanh(x)
    (step,) = graph.step_backward(y)
    assert step.formula == "dx = dy * (1 - y**2)"
    dx = 1 - np.tanh(0.5) ** 2
    assert step.numbers == f"dx = dy * (1 - y**2) = 1 * (1 - {np.tanh(0.5):.4g}**2) = {dx:.4g}"
    vector = mg.tensor([0.5, 1.0], requires_grad=True)
    _, step = graph.step_backward(mg.tanh(vector).sum())  # Sum, then Tanh
    assert step.formula == "dx = dy * (1 - y**2)" and step.numbers is None  # numbers only for scalars


def test_every_op_of_the_table_has_a_formula():
    from minigrad import optable

    assert set(optable.FORMULAS) == set(optable.ENTRIES)
    assert all(f.split("=")[0].strip().startswith("d") for f in optable.FORMULAS.values())
