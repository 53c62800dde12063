"""Self-attention over image patches: a tiny Vision Transformer (Dosovitskiy et al. 2021).

A 16x16 image is cut into 16 patches of 4x4 pixels. Each patch is flattened and projected
to a vector (the patch embedding), a learned class token is put in front, learned position
embeddings are added, and the 17 vectors go through Transformer encoder blocks (the same
``EncoderLayer`` the sequence models use, no mask: every patch may attend to every patch).
The class token's final vector is classified::

    image (B, 16, 16) -> patches (B, 16, 16) -> Linear -> (B, 16, d)
    [cls] + patches (B, 17, d) + positions -> 2 encoder blocks -> LayerNorm -> cls (B, d) -> Linear -> (B, 10)

The images are made here: the digits 0-9 from a 5x7 bitmap font, scaled to 11x8 pixels and
drawn at a random place (any of 6 x 9 offsets), with random ink strength and Gaussian noise,
so a digit straddles 4 to 9 patches, differently in every image. The model has to find the
digit wherever it is; the class token's attention over the patches (a 4x4 grid) shows where
it looked, printed as a heatmap beside the image (and, with matplotlib and
MINIGRAD_EXAMPLE_OUTPUT=dir, written to dir/vit_attention.png).

Run:  python examples/07_vit_patches.py          (it checks that the test accuracy reaches 90%)
"""

import os

# Tiny matrices: BLAS threads cost more than they save (far more on a busy machine). Set before NumPy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.models.transformer import EncoderLayer  # noqa: E402

# A 5x7 bitmap font of the digits 0-9, side by side.
FONT = """
.###.  ..#..  .###.  ####.  ...#.  #####  ..##.  #####  .###.  .###.
#...#  .##..  #...#  ....#  ..##.  #....  .#...  ....#  #...#  #...#
#..##  ..#..  ....#  ....#  .#.#.  ####.  #....  ...#.  #...#  #...#
#.#.#  ..#..  ...#.  .###.  #..#.  ....#  ####.  ..#..  .###.  .####
##..#  ..#..  ..#..  ....#  #####  ....#  #...#  .#...  #...#  ....#
#...#  ..#..  .#...  ....#  ...#.  #...#  #...#  .#...  #...#  ...#.
.###.  .###.  #####  ####.  ...#.  .###.  .###.  .#...  .###.  .##..
"""
GLYPHS = np.array([[[c == "#" for c in row.split()[d]] for row in FONT.strip().splitlines()] for d in range(10)],
                  dtype=np.float32)  # (10 digits, 7 rows, 5 columns)
H, W = 11, 8  # drawn size: the font scaled up, nearest pixel
GLYPHS = GLYPHS[:, (np.arange(H) * 7) // H][:, :, (np.arange(W) * 5) // W]  # (10, H, W)
SIZE, PATCH = 16, 4
GRID = SIZE // PATCH  # 4x4 patches
SHADES = " ░▒▓█"


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n noisy 16x16 digit images (float32, about 0..1), their labels (int64), and where the
    ink is (bool (n, 16, 16), the drawing before the noise)."""
    labels = rng.integers(0, 10, size=n)
    clean = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    rows = rng.integers(0, SIZE - H + 1, size=n)
    cols = rng.integers(0, SIZE - W + 1, size=n)
    for i in range(n):
        clean[i, rows[i]:rows[i] + H, cols[i]:cols[i] + W] = GLYPHS[labels[i]]
    ink = rng.uniform(0.6, 1.0, size=(n, 1, 1)).astype(np.float32)
    images = clean * ink + rng.normal(0.0, 0.25, size=clean.shape).astype(np.float32)
    return images, labels.astype(np.int64), clean > 0


def to_patches(images: np.ndarray) -> np.ndarray:
    """(B, 16, 16) -> (B, 16, 16): row p of an image is its p-th 4x4 patch (row-major), flattened."""
    B = images.shape[0]
    x = images.reshape(B, GRID, PATCH, GRID, PATCH)  # (B, grid row, pixel row, grid col, pixel col)
    return x.transpose(0, 1, 3, 2, 4).reshape(B, GRID * GRID, PATCH * PATCH)  # (B, patches, pixels)


class ViT(nn.Module):
    """Patch embedding, class token, learned positions, encoder blocks, LayerNorm, a linear head."""

    def __init__(self, d_model: int = 48, num_heads: int = 4, ff_dim: int = 96, num_layers: int = 2, classes: int = 10):
        super().__init__()
        self.patch_embed = nn.Linear(PATCH * PATCH, d_model)
        self.cls_token = nn.Parameter(np.zeros((1, 1, d_model), dtype=np.float32))
        self.pos_embed = nn.Parameter((0.02 * mg.randn(1, GRID * GRID + 1, d_model).numpy()).astype(np.float32))
        self.blocks = nn.ModuleList([EncoderLayer(d_model, num_heads, ff_dim, activation="gelu") for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, images: np.ndarray) -> mg.Tensor:
        """images (B, 16, 16) -> logits (B, classes)."""
        B = images.shape[0]
        x = self.patch_embed(to_patches(images))  # (B, 16, d)
        cls = self.cls_token.expand(B, 1, x.shape[-1])  # (B, 1, d)
        x = mg.concat([cls, x], axis=1) + self.pos_embed  # (B, 17, d)
        for block in self.blocks:
            x = block(x)  # no mask: every token attends to every token
        return self.head(self.norm(x)[:, 0])  # the class token (B, d) -> (B, classes)

    def cls_attention(self) -> np.ndarray:
        """(B, 4, 4): the last block's class-token attention over the patches, averaged over heads."""
        w = self.blocks[-1].self_attn.last_weights  # (B, H, 17, 17)
        return w[:, :, 0, 1:].mean(axis=1).reshape(-1, GRID, GRID)


def accuracy(model: ViT, images: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    with mg.no_grad():
        correct = sum(int((model(images[i:i + 500]).numpy().argmax(-1) == labels[i:i + 500]).sum())
                      for i in range(0, len(images), 500))
    model.train()
    return correct / len(images)


def shade(value: float) -> str:
    return SHADES[min(int(value * len(SHADES)), len(SHADES) - 1)] * 2


def show(image: np.ndarray, attention: np.ndarray, label: int, predicted: int) -> None:
    """The image and the class token's attention, side by side, one character pair per pixel
    (pixels shown with gamma 2, so that faint noise fades)."""
    scaled = attention / attention.max()
    print(f"digit {label}, predicted {predicted}; attention on the 16 patches (darkest = most), max {attention.max():.2f}")
    for r in range(SIZE):
        pixels = "".join(shade(np.clip(v, 0.0, 1.0) ** 2) for v in image[r])
        cells = "".join(shade(scaled[r // PATCH, c // PATCH]) for c in range(SIZE))
        print(f"  {pixels}   {cells}")


def save_png(images, attention, labels, predicted, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.8 * n, 3.8))
    for i in range(n):
        axes[0, i].imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        axes[0, i].set_title(f"{labels[i]} -> {predicted[i]}", fontsize=9)
        axes[1, i].imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        axes[1, i].imshow(np.kron(attention[i], np.ones((PATCH, PATCH))), cmap="inferno", alpha=0.6)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[1, 0].set_ylabel("class-token\nattention", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    started = time.perf_counter()
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    test_x, test_y, test_ink = make_images(1000, np.random.default_rng(1))
    model = ViT()
    params = list(model.parameters())
    opt = optim.Adam(params, lr=3e-3)
    steps, batch = 800, 64
    sched = optim.lr_scheduler.get_scheduler("warmup_cosine", opt, warmup_steps=50, total_steps=steps, min_lr=1e-4)
    print(f"ViT: {GRID * GRID} patches of {PATCH}x{PATCH} pixels + a class token, "
          f"{sum(p.data.size for p in params):,} parameters; {steps} steps of {batch} new images, {len(test_x)} test images")
    for step in range(1, steps + 1):
        images, labels, _ = make_images(batch, rng)  # fresh images every step: no image is seen twice
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 200 == 0:
            print(f"step {step:4d}  loss {loss.item():.3f}  test accuracy {accuracy(model, test_x, test_y):.1%}")
    acc = accuracy(model, test_x, test_y)
    elapsed = time.perf_counter() - started
    print(f"test accuracy {acc:.1%} after {steps} steps ({elapsed:.0f} s); chance is 10%\n")
    assert acc >= 0.9, f"the ViT should classify the digits (test accuracy {acc:.1%})"

    # where the class token looks: the last block's attention from the class token to each patch
    model.eval()
    with mg.no_grad():
        predicted = model(test_x[:6]).numpy().argmax(-1)
    attention = model.cls_attention()  # (6, 4, 4)
    w = model.blocks[-1].self_attn.last_weights
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)  # every query's weights sum to 1
    for i in range(3):
        show(test_x[i], attention[i], int(test_y[i]), int(predicted[i]))
        print()
    # how much of the class token's patch attention goes to the patches the digit is drawn on
    with mg.no_grad():
        model(test_x)
    att = model.cls_attention()  # (N, 4, 4)
    inked = to_patches(test_ink).max(axis=-1).reshape(-1, GRID, GRID) > 0  # (N, 4, 4) patches with ink
    share = float((att * inked).sum() / att.sum())
    area = float(inked.mean())
    print(f"the class token gives {share:.0%} of its patch attention to the patches holding ink "
          f"({area:.0%} of the patches)")

    out_dir = os.environ.get("MINIGRAD_EXAMPLE_OUTPUT")
    if out_dir:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("(matplotlib is not installed: no PNG)")
        else:
            path = os.path.join(out_dir, "vit_attention.png")
            save_png(np.clip(test_x[:6], 0, 1), attention, test_y[:6], predicted, path)
            print(f"wrote {path}")
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
