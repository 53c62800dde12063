"""The graph of a tiny MLP, and its backward pass one node at a time.

    loss = mean((Linear2(tanh(Linear1(x))) - target)^2)      x: (4, 2), hidden 3, output 1

First the graph is printed as a tree (each node: op, shape, dtype, which inputs need a
gradient, what it saved for backward) and written as Graphviz DOT. Then
``minigrad.graph.step_backward`` runs backward node by node, and each step is checked
against the same backpropagation written out by hand in NumPy.

Run:  python examples/03_mlp_graph_and_trace.py
      (MINIGRAD_EXAMPLE_OUTPUT=dir also writes dir/mlp.dot, and dir/mlp.png when Graphviz is installed)
      minigrad trace --demo mlp   shows the same kind of trace from the command line
"""

import os
import shutil

import numpy as np
from rich.console import Console

import minigrad as mg
from minigrad import graph, nn
from minigrad.graph import summarize


def build():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    for name, p in model.named_parameters():
        p.name = name  # labels in the tree and the trace: '0.weight', '0.bias', '2.weight', '2.bias'
    x = mg.tensor([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.0, -0.5]])
    x.name = "x"
    target = mg.tensor([[1.0], [0.0], [-1.0], [0.5]])
    target.name = "target"
    return model, x, target


def by_hand(model, x, target):
    """Backpropagation in NumPy, one line per local derivative."""
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    z = x @ W1.T + b1                            # (4, 3)
    h = np.tanh(z)                               # (4, 3)
    pred = h @ W2.T + b2                         # (4, 1)
    d_pred = 2 * (pred - target) / pred.size     # d mean((pred - t)^2) / d pred
    d_W2 = d_pred.T @ h                          # (1, 3)
    d_b2 = d_pred.sum(axis=0)                    # (1,)
    d_h = d_pred @ W2                            # (4, 3)
    d_z = d_h * (1 - h * h)                      # tanh' = 1 - tanh^2
    return {"pred": d_pred, "h": d_h, "z": d_z, "0.weight": d_z.T @ x, "0.bias": d_z.sum(axis=0),
            "2.weight": d_W2, "2.bias": d_b2}


def main() -> None:
    model, x, target = build()
    loss = nn.functional.mse_loss(model(x), target)
    print(f"loss = {loss.item():.6f}\n")
    graph.print_graph(loss, console=Console(width=130))

    out_dir = os.environ.get("MINIGRAD_EXAMPLE_OUTPUT")
    if out_dir:
        dot_path = os.path.join(out_dir, "mlp.dot")
        with open(dot_path, "w") as f:
            f.write(graph.to_dot(loss))
        print(f"\nwrote {dot_path}")
        if shutil.which("dot"):
            graph.render_dot(graph.to_dot(loss), os.path.join(out_dir, "mlp.png"))
            print(f"wrote {os.path.join(out_dir, 'mlp.png')}")

    hand = by_hand(model, x.data, target.data)
    print("\nbackward, one node at a time (from the loss to the leaves):")
    steps = []
    for step in graph.step_backward(loss):
        steps.append(step)
        print(f"step {step.index + 1}: {step.output} ({step.op}) received {summarize(step.grad_output, 3)}")
        for label, g in step.input_grads:
            print(f"    passes to {label:9} {summarize(g, 3)}")

    assert [s.op for s in steps] == ["Mean", "Mul", "Sub", "Linear", "Tanh", "Linear"]
    second_linear, tanh, first_linear = steps[3], steps[4], steps[5]
    # what reached each node equals the hand-written chain rule
    np.testing.assert_allclose(second_linear.grad_output, hand["pred"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(tanh.grad_output, hand["h"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(first_linear.grad_output, hand["z"], rtol=1e-5, atol=1e-7)
    # Mul (diff * diff) uses its input twice: both halves go to Sub, and Sub receives their sum
    mul = steps[1]
    assert [label for label, _ in mul.input_grads] == [steps[2].output] * 2
    np.testing.assert_allclose(steps[2].grad_output, mul.input_grads[0][1] + mul.input_grads[1][1])
    # x and target are constants: nothing is passed to them
    assert dict(first_linear.input_grads)["x"] is None and dict(steps[2].input_grads)["target"] is None
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, hand[name], rtol=1e-5, atol=1e-7)

    print("\naccumulated .grad of the parameters (minigrad vs NumPy by hand):")
    for name, p in model.named_parameters():
        print(f"  {name:9} {summarize(p.grad, 3):45} max |diff| {np.abs(p.grad - hand[name]).max():.1e}")
    print("Every step agrees with backpropagation written by hand.")


if __name__ == "__main__":
    main()
