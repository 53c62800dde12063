"""``minigrad trace`` and ``minigrad gradcheck`` through CliRunner, checked for content:
node names, shapes and gradient values against hand-computed cases."""

from __future__ import annotations

import dataclasses
import math
import shutil
import textwrap
import uuid

import numpy as np
import pytest
from click.testing import CliRunner

from minigrad.cli.commands import gradcheck as gradcheck_cmd
from minigrad.cli.commands import trace as trace_cmd
from minigrad import optable
from minigrad.ops.elementwise import Mul, Tanh
from minigrad.viz import demos
from testutils import module_file, one_error_line

WIDE = {"COLUMNS": "200"}


def run(command, args, **kw):
    return CliRunner().invoke(command, args, env=WIDE, **kw)


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


# f = sum(x * w + 0.5), x = [1, 2], w = [3, 4]: df/dx = w = [3, 4], df/dw = x = [1, 2]
TINY = textwrap.dedent("""
    import minigrad as mg

    def loss():
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        w = mg.tensor([3.0, 4.0], requires_grad=True)
        x.name, w.name = "x", "w"
        return (x * w + 0.5).sum()

    def vector():
        return mg.tensor([1.0, 2.0], requires_grad=True) * 2

    def constant():
        return mg.tensor(3.0)

    def not_a_tensor():
        return 3.0

    def broken():
        return 1 / 0

    NUMBER = 5
""")


target_file = module_file("tiny_graph.py", TINY)


# ---------------------------------------------------------------- trace


def test_trace_of_a_user_file_shows_tree_steps_and_hand_computed_gradients(target_file):
    result = run(trace_cmd.command, [f"{target_file}:loss"])
    assert result.exit_code == 0, result.output
    out = lines_of(result.output)
    assert out[0] == f"graph of {target_file}:loss  value 12"  # 1*3 + 2*4 + 2*0.5
    assert out[1] == "Sum#0  Sum  shape=() dtype=float32  inputs need grad: [yes]  value 12"
    assert any("Add#1  Add  shape=(2,) dtype=float32  inputs need grad: [yes, no]" in l for l in out)
    mul = "Mul#2  Mul  shape=(2,) dtype=float32  inputs need grad: [yes, yes]  saved: (2,), (2,)"
    assert any(mul in l for l in out)
    assert any(l.endswith("x  leaf  shape=(2,) dtype=float32  requires_grad  value [1, 2]") for l in out)
    assert "backward of " in result.output and ": 3 nodes, from the output to the leaves" in result.output

    steps = result.output[result.output.index("step 1/3"):]
    first, second, third = steps.split("step ")[1:4]
    assert first.startswith("1/3  Sum#0  (Sum.backward)")
    assert "grad in   shape () norm 1 [1]" in first
    assert "→ Add#1  shape (2,) norm 1.414 [1, 1]" in first
    assert second.startswith("2/3  Add#1  (Add.backward)")
    assert "→ Mul#2  shape (2,) norm 1.414 [1, 1]" in second and "→ constant  none" in second
    assert third.startswith("3/3  Mul#2  (Mul.backward)")
    assert "→ x  shape (2,) norm 5 [3, 4]" in third  # df/dx = w
    assert "→ w  shape (2,) norm 2.236 [1, 2]" in third  # df/dw = x
    assert "leaf x.grad = shape (2,) norm 5 [3, 4]" in third
    table = result.output[result.output.index("accumulated .grad of the leaves"):]
    assert any("│ x " in l and "│ (2,)" in l and "norm 5 [3, 4]" in l for l in lines_of(table))
    assert any("│ w " in l and "norm 2.236 [1, 2]" in l for l in lines_of(table))


def test_trace_into_a_pipe_prints_each_node_of_the_tree_on_one_line(target_file):
    # CliRunner's output is not a terminal: an 80-column width must not split a node's description
    result = CliRunner().invoke(trace_cmd.command, [f"{target_file}:loss"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    tree = lines_of(result.output[: result.output.index("backward of ")])[1:-1]
    mul = "Mul#2  Mul  shape=(2,) dtype=float32  inputs need grad: [yes, yes]  saved: (2,), (2,)  value [3, 8]"
    assert any(line.endswith(mul) for line in tree), tree
    assert len(tree) == 6, tree  # Sum, Add, Mul, x, w, the constant 0.5


def test_trace_into_a_pipe_never_splits_a_list_in_the_backward_steps_or_the_leaf_table():
    result = CliRunner().invoke(trace_cmd.command, ["--demo", "mlp"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    steps = lines_of(result.output[result.output.index("backward of "):])
    assert steps and all(line.count("[") == line.count("]") for line in steps), steps  # no list split at 80 columns
    assert any(len(line) > 80 for line in steps)


def test_trace_scalar_demo_matches_the_chain_rule_by_hand():
    x, y = 0.5, -1.25
    c, d = math.tanh(x * y + y), math.exp(x)
    df_dx = y * (1 - c * c) * d + c * d
    df_dy = (1 + x) * (1 - c * c) * d
    result = run(trace_cmd.command, ["--demo", "scalar"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"value {c * d:.6g}" in out.splitlines()[0]
    assert "Tanh#1  Tanh  shape=() dtype=float64" in out and "Exp#4  Exp  shape=() dtype=float64" in out
    assert "5 nodes" in out
    # x gets two contributions: through x*y (y * dtanh) and through exp(x) (c * e^x)
    last = out[out.index("step 5/5"):]
    assert f"leaf x.grad = shape () norm {abs(df_dx):.4g} [{df_dx:.4g}]" in last
    assert f"│ y    │ ()    │ shape () norm {abs(df_dy):.4g} [{df_dy:.4g}]" in out


def test_trace_mlp_demo_lists_linear_layers_and_parameter_gradients():
    result = run(trace_cmd.command, ["--demo", "mlp", "--values", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Linear#3  Linear  shape=(2, 1) dtype=float32  inputs need grad: [yes, yes, yes]" in out
    assert "Linear#5  Linear  shape=(2, 4) dtype=float32  inputs need grad: [no, yes, yes]" in out
    assert "0.weight  leaf  shape=(4, 3) dtype=float32  requires_grad" in out
    assert "x  leaf  shape=(2, 3) dtype=float32  constant" in out
    assert "6 nodes" in out and "→ x  none" in out
    for name, shape in (("0.weight", "(4, 3)"), ("0.bias", "(4,)"), ("2.weight", "(1, 4)"), ("2.bias", "(1,)")):
        assert f"leaf {name}.grad = shape {shape} norm" in out
    assert "[-1.081]" in out  # d mse / d 2.bias = mean(2 (pred - target)) over the batch of two


def test_trace_attention_demo_shows_the_head_inside():
    result = run(trace_cmd.command, ["--demo", "attention"])
    assert result.exit_code == 0, result.output
    out = result.output
    for node in ("Softmax#3  Softmax  shape=(3, 3)", "MaskedFill#4  MaskedFill  shape=(3, 3)",
                 "Transpose#8  Transpose  shape=(4, 3)", "Wq  leaf  shape=(4, 4)", "Wk  leaf", "Wv  leaf"):
        assert node in out
    assert "11 nodes" in out
    # the causal mask blocks the future: the gradient reaching the scores above the diagonal is 0
    lines = out[out.index("(MaskedFill.backward)"):].split("\n")
    assert lines[2].strip() == "├── rule      dx = dy * ~mask"
    masked = lines[3]
    assert masked.strip().startswith("├── → Mul#5  shape (3, 3)") and "[0, 0, 0," in masked.replace("-0", "0")


def test_trace_module_target_from_the_current_directory(tmp_path, monkeypatch):
    name = f"trace_target_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    result = run(trace_cmd.command, [f"{name}:loss"])
    assert result.exit_code == 0, result.output
    assert "→ x  shape (2,) norm 5 [3, 4]" in result.output


def test_trace_writes_dot_text_with_every_node(target_file, tmp_path):
    dot = tmp_path / "graph.dot"
    result = run(trace_cmd.command, [f"{target_file}:loss", "--dot", str(dot)])
    assert result.exit_code == 0, result.output
    assert f"wrote {dot}" in result.output
    text = dot.read_text()
    assert text.startswith("digraph minigrad {")
    for label in ('label="Sum"', 'label="Add"', 'label="Mul"', 'label="x\\n(2,) float32"', 'label="w\\n(2,) float32"',
                  'label="const ()"'):
        assert label in text
    assert text.count("->") == 8


def test_trace_png_without_graphviz_is_one_line_exit_2(target_file, tmp_path, monkeypatch):
    monkeypatch.setattr(trace_cmd.shutil, "which", lambda name: None)
    line = one_error_line(run(trace_cmd.command, [f"{target_file}:loss", "--png", str(tmp_path / "g.png")]))
    assert "Graphviz 'dot'" in line
    assert not (tmp_path / "g.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_trace_renders_svg_with_graphviz(target_file, tmp_path):
    svg = tmp_path / "g.svg"
    result = run(trace_cmd.command, [f"{target_file}:loss", "--svg", str(svg)])
    assert result.exit_code == 0, result.output
    text = svg.read_text()
    assert "<svg" in text and ">Mul<" in text and ">Sum<" in text


@pytest.mark.parametrize("option", ["--dot", pytest.param("--png", marks=pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz 'dot' is not installed"))])
def test_trace_into_a_missing_directory_is_one_line_before_any_output(tmp_path, option):
    # One line naming the option and file (no traceback, no Graphviz message, no graph printed first).
    path = tmp_path / "no" / f"g.{option[2:]}"
    line = one_error_line(run(trace_cmd.command, ["--demo", "mlp", option, str(path)]))
    assert f"{option} {path}" in line and "does not exist" in line


@pytest.mark.parametrize("suffix, expected", [
    (":missing", "has no function 'missing'"),
    (":NUMBER", "is a int, not a function"),
    (":vector", "returned a Tensor of shape (2,); trace needs a scalar"),
    (":constant", "does not require grad"),
    (":not_a_tensor", "returned float, not a minigrad Tensor"),
    (":broken", "raised ZeroDivisionError: division by zero"),
])
def test_trace_bad_targets_are_one_line_exit_2(target_file, suffix, expected):
    line = one_error_line(run(trace_cmd.command, [f"{target_file}{suffix}"]))
    assert expected in line


def test_trace_unimportable_or_malformed_targets(tmp_path):
    assert "cannot import 'no_such_module_xyz': ModuleNotFoundError" in one_error_line(
        run(trace_cmd.command, ["no_such_module_xyz:f"]))
    assert "no such file" in one_error_line(run(trace_cmd.command, [f"{tmp_path}/nope.py:f"]))
    bad = tmp_path / "bad_syntax.py"
    bad.write_text("def f(:\n")
    assert "SyntaxError" in one_error_line(run(trace_cmd.command, [f"{bad}:f"]))
    assert "must be module:function" in one_error_line(run(trace_cmd.command, ["just_a_name"]))
    assert "nothing to trace" in one_error_line(run(trace_cmd.command, []))
    assert "not both" in one_error_line(run(trace_cmd.command, ["m:f", "--demo", "mlp"]))
    assert "Invalid value for '--demo'" in one_error_line(run(trace_cmd.command, ["--demo", "gpt"]))


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_named_ops_prints_a_row_each():
    result = run(gradcheck_cmd.command, ["matmul", "softmax"])
    assert result.exit_code == 0, result.output
    out = lines_of(result.output)
    header = next(l for l in out if "op" in l and "shapes tried" in l)
    assert "max abs err" in header and "max rel err" in header and "pass" in header
    matmul = next(l for l in out if l.startswith("│ matmul"))
    assert "(3,), (3,)" in matmul and matmul.rstrip("│ ").endswith("pass")
    assert any("(2, 1, 2, 3), (3, 3, 2)" in l for l in out)  # broadcast batched matmul among the shapes tried
    assert any(l.startswith("│ softmax") and "(2, 3) axis=-1" in l for l in out)
    assert "all 2 checks pass" in result.output
    errors = [float(v) for l in out if l.startswith("│ matmul") for v in l.split("│")[3:5]]
    assert all(0 <= e < 1e-6 for e in errors)


def test_gradcheck_all_ops_by_default():
    result = run(gradcheck_cmd.command, [])
    assert result.exit_code == 0, result.output
    cells = [l.split("│")[1].strip() for l in lines_of(result.output) if l.startswith("│ ")]
    rows = {c for c in cells if c}
    assert rows == set(optable.ENTRIES)
    assert f"all {len(optable.OPS)} checks pass" in result.output


def test_gradcheck_a_broken_op_fails_with_exit_1(monkeypatch):
    class Mul99(Mul):  # the library's product rule, 1% off for the first input
        @staticmethod
        def backward(ctx, grad):
            grad_a, grad_b = Mul.backward(ctx, grad)
            return 0.99 * grad_a, grad_b

    entry = optable.ENTRIES["mul"]
    monkeypatch.setitem(optable.ENTRIES, "mul", dataclasses.replace(entry, fn=Mul99.apply))
    result = run(gradcheck_cmd.command, ["mul", "add"])
    assert result.exit_code == 1, result.output
    out = lines_of(result.output)
    assert next(l for l in out if l.startswith("│ mul")).rstrip("│ ").endswith("FAIL")
    assert next(l for l in out if l.startswith("│ add")).rstrip("│ ").endswith("pass")
    rel = float(next(l for l in out if l.startswith("│ mul")).split("│")[4])
    assert rel == pytest.approx(0.01, rel=1e-3)  # analytic 0.99 g b against numeric g b
    assert any(l.startswith("mul: (2, 3), (2, 3): input 0 at") for l in out)
    assert "1 of 2 checks FAILED" in result.output


@pytest.mark.parametrize("args,title", [(["--order", "2"], "second derivatives"),
                                        (["--mode", "forward"], "forward mode (jvp)")])
def test_gradcheck_second_order_and_forward_mode(args, title):
    result = run(gradcheck_cmd.command, ["tanh", "matmul", "softmax", *args])
    assert result.exit_code == 0, result.output
    assert title in result.output and "all 3 checks pass" in result.output


def test_gradcheck_forward_mode_catches_a_wrong_jvp(monkeypatch):
    class TanhWrongJvp(Tanh):  # the library's forward and backward, a wrong forward-mode rule
        @staticmethod
        def jvp(ctx, t):
            (out,) = ctx.saved
            return t * (1 - out)  # not 1 - out**2

    monkeypatch.setitem(optable.ENTRIES, "tanh", dataclasses.replace(optable.ENTRIES["tanh"], fn=TanhWrongJvp.apply))
    assert run(gradcheck_cmd.command, ["tanh"]).exit_code == 0  # the backward is right
    result = run(gradcheck_cmd.command, ["tanh", "--mode", "forward"])
    assert result.exit_code == 1 and "1 of 1 checks FAILED" in result.output


def test_gradcheck_unknown_and_non_differentiable_names_exit_2():
    line = one_error_line(run(gradcheck_cmd.command, ["matmul", "nosuchop"]))
    assert "unknown op 'nosuchop'" in line and "valid names: abs, add," in line and "where" in line
    line = one_error_line(run(gradcheck_cmd.command, ["argmax"]))
    assert "'argmax' is not differentiable (returns integer indices)" in line


USER_FUNCTIONS = textwrap.dedent("""
    import minigrad as mg

    class BadCube(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return 3.3 * x ** 2 * grad  # should be 3 x^2

    def good(x):
        return (mg.tanh(x) * x).sum(axis=-1)

    def pair(a, b):
        return (a @ b).sum()

    def bad(x):
        return BadCube.apply(x)

    def returns_number(x):
        return 1.0

    def raises(x):
        raise RuntimeError("boom")
""")


user_file = module_file("user_fns.py", USER_FUNCTIONS)


def test_gradcheck_a_user_function(user_file):
    result = run(gradcheck_cmd.command, ["--function", f"{user_file}:good", "--shape", "2,3"])
    assert result.exit_code == 0, result.output
    row = next(l for l in lines_of(result.output) if f"{user_file}:good" in l)
    assert "(2, 3)" in row and row.rstrip("│ ").endswith("pass")
    assert "all 1 checks pass" in result.output

    result = run(gradcheck_cmd.command, ["--function", f"{user_file}:pair", "--shape", "2,3", "--shape", "3"])
    assert result.exit_code == 0, result.output
    assert "(2, 3), (3,)" in result.output


def test_gradcheck_a_wrong_user_backward_fails(user_file):
    result = run(gradcheck_cmd.command, ["exp", "--function", f"{user_file}:bad", "--shape", "4"])
    assert result.exit_code == 1, result.output
    row = next(l for l in lines_of(result.output) if f"{user_file}:bad" in l)
    assert row.rstrip("│ ").endswith("FAIL")
    assert float(row.split("│")[4]) == pytest.approx(0.1, rel=1e-4)  # 3.3 x^2 against 3 x^2
    assert "1 of 2 checks FAILED" in result.output


@pytest.mark.parametrize("args, expected", [
    (["--function", "{f}:returns_number"], "returned float, not a minigrad Tensor"),
    (["--function", "{f}:raises"], "raised RuntimeError: boom"),
    (["--function", "{f}:nothing"], "has no function 'nothing'"),
    (["--function", "{f}:good", "--shape", "2,x"], "is not a shape"),
    (["--shape", "3"], "give --function MODULE:FN too"),
])
def test_gradcheck_bad_user_input_is_one_line_exit_2(user_file, args, expected):
    line = one_error_line(run(gradcheck_cmd.command, [a.format(f=user_file) for a in args]))
    assert expected in line


@pytest.mark.parametrize("args", [["matmul", "--seed", "-1"], ["--function", "{f}:good", "--seed", "-5"]])
def test_gradcheck_negative_seed_is_one_line_exit_2(user_file, args):
    line = one_error_line(run(gradcheck_cmd.command, [a.format(f=user_file) for a in args]))
    assert "'--seed'" in line and ">=0" in line.replace(" ", "")


def test_parse_shape():
    assert gradcheck_cmd.parse_shape("3,4") == (3, 4)
    assert gradcheck_cmd.parse_shape(" 3 ") == (3,)
    assert gradcheck_cmd.parse_shape("()") == ()
    assert gradcheck_cmd.parse_shape("(2, 1)") == (2, 1)


def test_demo_builders_return_scalar_graphs():
    for name, build in demos.DEMOS.items():
        root = build()
        assert root.shape == () and root.requires_grad, name
        assert np.isfinite(root.item())


def test_importing_the_commands_imports_nothing_heavy():
    import subprocess
    import sys

    # the tensor library and NumPy load with the minigrad namespace; the models, Numba and Rich must not
    code = ("import sys\nimport minigrad.cli.commands.trace, minigrad.cli.commands.gradcheck\n"
            "print(','.join(m for m in ('numba', 'minigrad.models', 'minigrad.tasks', 'rich') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""  # --help of the group stays fast
