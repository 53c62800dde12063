"""A Transformer learns to reverse sequences, and its attention shows how.

To write the reversed sequence the decoder must read the source back to front: when it
produces output position t of a length-L source it should look at source position L-1-t.
Nothing tells it so; it learns it from examples. After 400 steps of Adam the cross-attention
of its last layer over the source is an anti-diagonal.

    model  transformer: 2 encoder + 2 decoder layers, d_model 32, 2 heads, feed-forward 64
    task   reverse: symbols 0..7, lengths 1..8 ("3 1 4" -> "4 1 3")

Run:  python examples/06_transformer_reverse.py
      (with matplotlib installed, MINIGRAD_EXAMPLE_OUTPUT=dir also writes dir/reverse_attention.png)
      minigrad-train --task reverse --model transformer   trains the full-size version
"""

import os
import time

import numpy as np
from rich.console import Console

from minigrad import tasks
from minigrad.models.training import TrainConfig, attention_matrix, decode, evaluate, train

CONFIG = TrainConfig(
    task="reverse", task_options=dict(vocab_size=8, min_len=1, max_len=8),
    model="transformer", model_options=dict(d_model=32, num_heads=2, ff_dim=64, num_layers=2),
    steps=400, batch_size=32, lr=3e-3, schedule="warmup", warmup=30, eval_interval=0, seed=0,
)
EXAMPLE = "3 1 4 1 5 2 6"


def main() -> None:
    console = Console(highlight=False)
    start = time.perf_counter()
    run = train(CONFIG, evaluate_at_end=False)
    model, task = run.model, run.task
    model.eval()
    console.print(f"trained a {sum(p.data.size for p in model.parameters()):,}-parameter Transformer "
                  f"for {CONFIG.steps} steps in {time.perf_counter() - start:.1f} s")

    test = evaluate(model, task, "test", limit=500)
    console.print(f"test split (500 sequences): loss {test['loss']:.3f}, token accuracy {test['token_accuracy']:.1%}, "
                  f"exact-sequence accuracy {test['sequence_accuracy']:.1%}")
    assert test["token_accuracy"] >= 0.9 and test["sequence_accuracy"] >= 0.8, test

    ids = task.encode_source(EXAMPLE)
    tokens, attention = decode(model, np.array([ids]), np.array([len(ids)]), len(ids) + 1)
    out_ids = [t for t in tokens[0].tolist() if t not in (tasks.EOS, tasks.PAD)]
    output = task.decode_target(out_ids)
    console.print(f"\n[bold]{EXAMPLE}[/bold] → [bold]{output}[/bold]")
    assert output.split() == EXAMPLE.split()[::-1], output

    # cross-attention of the last decoder layer (heads averaged): a row per output token
    matrix = attention_matrix(attention)[: len(ids), : len(ids)]
    from minigrad.cli.render import attention_heatmap, heatmap_legend, save_attention_png

    console.print("where the decoder looks in the source while writing each output token:")
    console.print(attention_heatmap(matrix, EXAMPLE.split(), output.split()))
    console.print(heatmap_legend())
    mirrored = matrix.argmax(axis=1) == np.arange(len(ids))[::-1]
    console.print(f"output position t looks hardest at source position L-1-t for {mirrored.mean():.0%} of the tokens")
    assert mirrored.mean() >= 0.8, "the attention should be an anti-diagonal"

    out_dir = os.environ.get("MINIGRAD_EXAMPLE_OUTPUT")
    if out_dir:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            console.print("(matplotlib is not installed: no PNG)")
        else:
            path = os.path.join(out_dir, "reverse_attention.png")
            save_attention_png(matrix, EXAMPLE.split(), output.split(), path, "Transformer on reverse")
            console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
