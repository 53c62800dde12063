"""Scaled dot-product attention with a causal and a padding mask, and its heatmap.

    weights = softmax(q k^T / sqrt(d), with masked scores set to -inf)     out = weights v

Two sequences of 5 positions, the second only 3 long (2 positions of padding), 2 heads.
The causal mask lets position t look at positions 0..t; the padding mask hides the padding
keys. Masks are boolean and True means "may attend"; combine them with ``&``.

The example checks what masking means (masked weights are exactly 0, each row sums to 1),
then that the fused ``scaled_dot_product_attention`` op gives the same values and the same
gradients as the formula written with primitive ops, and prints the weights as a heatmap.

Run:  python examples/04_attention_masks.py
      (with matplotlib installed, MINIGRAD_EXAMPLE_OUTPUT=dir also writes dir/attention_masks.png)
"""

import math
import os

import numpy as np
from rich.console import Console

import minigrad as mg
from minigrad.models.attention import causal_mask, padding_mask, scaled_dot_product_attention

B, H, T, D = 2, 2, 5, 4
LENGTHS = np.array([5, 3])


def by_primitives(q, k, v, mask):
    """The same attention from matmul, transpose, masked_fill and softmax."""
    scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))  # (B, H, T, T)
    scores = scores.masked_fill(~mask, -1e9)  # a large negative number: e^(-1e9) is 0 in float32
    weights = mg.softmax(scores, axis=-1)
    return weights @ v, weights


def main() -> None:
    rng = np.random.default_rng(0)
    q, k, v = (mg.tensor(rng.standard_normal((B, H, T, D)).astype(np.float32), requires_grad=True) for _ in range(3))

    causal = causal_mask(T)  # (T, T), True on and below the diagonal
    keys = padding_mask(LENGTHS, T)  # (B, 1, 1, T), False at the padding positions
    mask = causal & keys  # broadcasts to the scores (B, H, T, T)
    print("causal mask (row = query, column = key, 1 = may attend):")
    print(causal.astype(int))
    print(f"padding mask of the 2nd sequence (length {LENGTHS[1]}): {keys[1, 0, 0].astype(int)}\n")

    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    w = weights.numpy()
    assert out.shape == (B, H, T, D) and w.shape == (B, H, T, T)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)  # every query can see key 0: rows sum to 1
    assert np.all(w[np.broadcast_to(~mask, w.shape)] == 0.0), "a masked key received weight"
    assert np.all(np.triu(w[0, 0], k=1) == 0.0), "a query looked into the future"
    assert np.all(w[1, :, :, LENGTHS[1]:] == 0.0), "a padding key received weight"
    print("masked weights are exactly 0 and every row sums to 1")

    # the fused op against the formula: same values, same gradients for the same upstream gradient
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    (out * upstream).sum().backward()
    fused_grads = [t.grad.copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    out_p, weights_p = by_primitives(q, k, v, mask)
    (out_p * upstream).sum().backward()
    np.testing.assert_allclose(out_p.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights_p.numpy(), w, rtol=1e-5, atol=1e-7)
    for name, fused, t in zip("qkv", fused_grads, (q, k, v)):
        np.testing.assert_allclose(fused, t.grad, rtol=1e-4, atol=1e-5)
        print(f"d loss / d {name}: fused op and primitives agree (max |diff| {np.abs(fused - t.grad).max():.1e})")

    # the heatmap of sequence 2, head 0: lower-triangular (causal) and no weight on the padding
    from minigrad.cli.render import attention_heatmap, heatmap_legend, save_attention_png

    tokens = [f"t{i}" if i < LENGTHS[1] else "PAD" for i in range(T)]
    console = Console(highlight=False)
    console.print("\nweights of sequence 2, head 0 (a row per query, a column per key):")
    console.print(attention_heatmap(w[1, 0], tokens, tokens))
    console.print(heatmap_legend())
    out_dir = os.environ.get("MINIGRAD_EXAMPLE_OUTPUT")
    if out_dir:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("(matplotlib is not installed: no PNG)")
        else:
            path = os.path.join(out_dir, "attention_masks.png")
            save_attention_png(w[1, 0], tokens, tokens, path, title="causal + padding mask")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
