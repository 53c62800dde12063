"""Convolution and pooling: minigrad's im2col through BLAS against a Numba direct loop and PyTorch CPU.

Usage (from the repository root):

    python benchmarks/conv.py                  # the table
    python benchmarks/conv.py --write-results  # also update benchmarks/RESULTS.md

minigrad's ``conv1d``/``conv2d`` gather every kernel-sized window into a matrix (``Windows``,
im2col) and multiply it by the weights in one GEMM per group; the backward is the transposed
GEMM and ``Fold`` (col2im). The rule: a Numba kernel only where a benchmark shows it beating
that. So each conv row also times the candidate kernel, a direct convolution compiled
with Numba (``direct_conv2d`` below: the output row accumulated over input channels and kernel
offsets, vectorized along the output width), on the forward pass alone, where it has its best
chance (no backward to write). Pooling rows time the op's forward and backward against PyTorch.

Protocol: one thread for every library, all implementations of a row timed interleaved round
by round in one process, median CPU milliseconds per call (``time.process_time``).
"""

from __future__ import annotations

import _common  # noqa: F401  (first: pins the thread pools before NumPy/PyTorch load)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402


@numba.njit(cache=True, fastmath={"contract"})
def direct_conv2d(x, w, out):
    """out (N, Co, Ho, Wo) = the stride-1, unpadded convolution of x (N, Ci, H, W) with
    w (Co, Ci, kh, kw), all C-contiguous float32; the innermost loop runs along the output row."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    for n in range(N):
        for co in range(Co):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, co, i, j] = 0.0
                for ci in range(Ci):
                    for a in range(kh):
                        for b in range(kw):
                            wv = w[co, ci, a, b]
                            for j in range(Wo):
                                out[n, co, i, j] += wv * x[n, ci, i + a, j + b]


def _ms(fn, repeats: int) -> float:
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) * 1e3 / repeats


def _timed(fns: dict, rounds: int) -> dict:
    for fn in fns.values():
        fn()
    repeats = {name: max(1, int(0.05 / max(_ms(fn, 1) / 1e3, 1e-6))) for name, fn in fns.items()}
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(_ms(fn, repeats[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def conv_row(torch, n, ci, co, size, k, dims):
    """Forward + backward of minigrad and PyTorch; forward of im2col and of the Numba loop."""
    rng = np.random.default_rng(0)
    spatial = (size,) * dims
    x = rng.standard_normal((n, ci, *spatial)).astype(np.float32)
    w = (rng.standard_normal((co, ci, *(k,) * dims)) / np.sqrt(ci * k**dims)).astype(np.float32)
    conv = F.conv2d if dims == 2 else F.conv1d
    out_shape = (n, co, *(s - k + 1 for s in spatial))
    g = rng.standard_normal(out_shape).astype(np.float32)

    def ours():
        xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        conv(xt, wt).backward(mg.tensor(g))

    def ours_forward():
        with mg.no_grad():
            conv(mg.tensor(x), mg.tensor(w))

    fns = {"minigrad": ours, "im2col fwd": ours_forward}
    if dims == 2:
        out = np.empty(out_shape, np.float32)
        fns["numba fwd"] = lambda: direct_conv2d(x, w, out)
        direct_conv2d(x, w, out)
        with mg.no_grad():
            np.testing.assert_allclose(out, conv(mg.tensor(x), mg.tensor(w)).data, rtol=1e-3, atol=1e-3)
    if torch is not None:
        tconv = torch.nn.functional.conv2d if dims == 2 else torch.nn.functional.conv1d
        tx, tw, tg = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(g)

        def theirs():
            a, b = tx.clone().requires_grad_(), tw.clone().requires_grad_()
            tconv(a, b).backward(tg)

        fns["torch"] = theirs
    return fns


def pool_row(torch, kind, n, c, size, k):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    g = rng.standard_normal((n, c, size // k, size // k)).astype(np.float32)

    def ours():
        xt = mg.tensor(x, requires_grad=True)
        pool(xt, k).backward(mg.tensor(g))

    fns = {"minigrad": ours}
    if torch is not None:
        tpool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)

        def theirs():
            a = tx.clone().requires_grad_()
            tpool(a, k).backward(tg)

        fns["torch"] = theirs
    return fns


ROWS = (
    ("conv2d 32x16x28x28, 32 out, 3x3", lambda t: conv_row(t, 32, 16, 32, 28, 3, 2)),
    ("conv2d 8x64x32x32, 64 out, 3x3", lambda t: conv_row(t, 8, 64, 64, 32, 3, 2)),
    ("conv2d 64x3x32x32, 16 out, 5x5", lambda t: conv_row(t, 64, 3, 16, 32, 5, 2)),
    ("conv1d 32x64x128, 64 out, k=5", lambda t: conv_row(t, 32, 64, 64, 128, 5, 1)),
    ("max_pool2d 32x32x28x28, 2x2", lambda t: pool_row(t, "max", 32, 32, 28, 2)),
    ("avg_pool2d 32x32x28x28, 2x2", lambda t: pool_row(t, "avg", 32, 32, 28, 2)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    torch = _common.import_torch()
    lines = ["| row | minigrad fwd+bwd ms | PyTorch fwd+bwd ms | ratio | im2col fwd ms | Numba direct fwd ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, make in ROWS:
        t = _timed(make(torch), args.rounds)
        ratio = f"{t['minigrad'] / t['torch']:.2f}" if "torch" in t else ""
        cells = [f"{t[k]:.2f}" if k in t else "" for k in ("minigrad", "torch")]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {ratio} | "
                     f"{t.get('im2col fwd', float('nan')):.2f} | "
                     + (f"{t['numba fwd']:.2f} |" if "numba fwd" in t else "|"))
        print(lines[-1].replace("| nan |", "| |"), flush=True)
    body = "\n".join([*_common.machine_lines(), "", *(line.replace("| nan |", "| |") for line in lines)])
    print()
    print(body)
    if args.write_results:
        _common.replace_block("conv", "Convolution and pooling (`benchmarks/conv.py`)", body)


if __name__ == "__main__":
    main()
