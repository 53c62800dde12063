"""Benchmark minigrad.kernels: Numba kernels against their NumPy references and PyTorch CPU.

Usage (from the repository root):

    python benchmarks/kernels.py                   # table of kernels x sizes, startup costs
    python benchmarks/kernels.py --quick           # fewer repeats
    python benchmarks/kernels.py --crossover       # matmul Numba-vs-BLAS grid (dispatch rule)
    python benchmarks/kernels.py --write-results   # also rewrite "## Kernels" in RESULTS.md

Everything runs single-threaded: the thread-count variables below are set before NumPy,
Numba or PyTorch is imported, and ``torch.set_num_threads(1)``. Each row times every
implementation on the same inputs, interleaved repeat by repeat (numba, numpy, torch,
numba, ...), and reports the median CPU time per call (``time.process_time``) in
microseconds, so load from other processes on a shared machine hits all columns alike and
time spent waiting for a core is not counted.
"""

from __future__ import annotations

import _common  # noqa: F401  (first: pins every thread pool to one thread before NumPy loads)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helper modules
import results_md  # noqa: E402

import numba  # noqa: E402

import minigrad.kernels as K  # noqa: E402
from minigrad.kernels import _linalg_nb, linalg  # noqa: E402

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
except ImportError:  # torch is optional: its column is left empty
    torch = None

COMMAND = "python benchmarks/kernels.py --write-results"


# ---------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------


# CPU time of this process, not wall time: on a shared machine other jobs take the core away
# for milliseconds at a time, which wall-clock medians do not remove. Everything timed here
# runs on the calling thread (Numba without parallel=True, OpenBLAS and PyTorch limited to
# one thread), so CPU time is the cost of the call.
clock = time.process_time


def _backend_of(fn):
    """The kernel backend ``fn`` is timed on (``with_backend``), switched outside the timed loop."""
    name = getattr(fn, "backend", None)
    return K.use_backend(name) if name else contextlib.nullcontext()


def time_side_by_side(fns: dict, repeats: int, target_s: float = 0.005) -> dict:
    """Median CPU seconds per call of each function, timed interleaved repeat by repeat."""
    for fn in fns.values():  # warm up (compiles Numba on first use)
        with _backend_of(fn):
            fn()
    numbers = {}
    for name, fn in fns.items():
        with _backend_of(fn):
            t0 = time.perf_counter()
            fn()
            fn()
            one = max((time.perf_counter() - t0) / 2, 1e-7)
        numbers[name] = max(1, min(10_000, int(target_s / one)))
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            number = numbers[name]
            with _backend_of(fn):
                t0 = clock()
                for _ in range(number):
                    fn()
                samples[name].append((clock() - t0) / number)
    return {name: float(np.median(s)) for name, s in samples.items()}


# ---------------------------------------------------------------------------------------
# cases: each returns {"numba": fn, "numpy": fn, "torch": fn or None}
# ---------------------------------------------------------------------------------------


def with_backend(name, fn):
    """``fn`` tagged to run on kernel backend ``name``: ``time_side_by_side`` switches the backend
    around each timed batch of calls, so the switch itself (a few microseconds) is not timed."""
    def run():
        return fn()

    run.backend = name
    return run


def pair(fn):
    """The same public call under the numba and the numpy backend."""
    return {"numba": with_backend("numba", fn), "numpy": with_backend("numpy", fn)}


def rand(shape, dtype, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def case_softmax(shape, dtype, backward):
    x = rand(shape, dtype, 0, 3.0)
    g = rand(shape, dtype, 1)
    if backward:
        impl = pair(lambda: K.softmax_backward(K.softmax(x), g))
    else:
        impl = pair(lambda: K.softmax(x))
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        if backward:
            impl["torch"] = lambda: torch._softmax_backward_data(tg, torch.softmax(tx, -1), -1, tx.dtype)
        else:
            impl["torch"] = lambda: torch.softmax(tx, -1)
    return impl


def case_log_softmax(shape, dtype):
    x = rand(shape, dtype, 0, 3.0)
    g = rand(shape, dtype, 1)
    impl = pair(lambda: K.log_softmax_backward(K.log_softmax(x), g))
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        impl["torch"] = lambda: torch._log_softmax_backward_data(tg, torch.log_softmax(tx, -1), -1, tx.dtype)
    return impl


def case_cross_entropy(n, c, dtype, smoothing, ignore):
    logits = rand((n, c), dtype, 0, 2.0)
    target = np.random.default_rng(2).integers(0, c, n)
    target[::9] = 0
    grad = np.full(n, 1.0 / n, dtype)

    def run():
        _, saved = K.cross_entropy_forward(logits, target, ignore, smoothing)
        return K.cross_entropy_backward(saved, grad)

    impl = pair(run)
    if torch is not None:
        tl = torch.from_numpy(logits).requires_grad_(True)
        tt, tgr = torch.from_numpy(target), torch.from_numpy(grad)
        tignore = -100 if ignore is None else ignore

        def run_torch():
            loss = F.cross_entropy(tl, tt, ignore_index=tignore, label_smoothing=smoothing, reduction="none")
            return torch.autograd.grad(loss, tl, tgr)

        impl["torch"] = run_torch
    return impl


def case_layer_norm(n, d, dtype):
    x = rand((n, d), dtype, 0, 2.0)
    w, b = rand(d, dtype, 1), rand(d, dtype, 2)
    g = rand((n, d), dtype, 3)

    def run():
        _, mean, rstd = K.layer_norm_forward(x, w, b, 1e-5)
        return K.layer_norm_backward(g, x, w, mean, rstd)

    impl = pair(run)
    if torch is not None:
        tx, tw, tb, tg = (torch.from_numpy(a) for a in (x, w, b, g))

        def run_torch():
            _, mean, rstd = torch.ops.aten.native_layer_norm(tx, [d], tw, tb, 1e-5)
            return torch.ops.aten.native_layer_norm_backward(tg, tx, [d], mean, rstd, tw, tb, [True, True, True])

        impl["torch"] = run_torch
    return impl


def case_gelu(shape, dtype, approximate):
    x = rand(shape, dtype, 0, 2.0)
    g = rand(shape, dtype, 1)
    impl = pair(lambda: (K.gelu(x, approximate), K.gelu_backward(x, g, approximate)))
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        impl["torch"] = lambda: (
            F.gelu(tx, approximate=approximate),
            torch.ops.aten.gelu_backward(tg, tx, approximate=approximate),
        )
    return impl


def case_adam(size, dtype):
    p, g = rand(size, dtype, 0), rand(size, dtype, 1)
    m, v = np.zeros(size, dtype), np.zeros(size, dtype)
    kw = dict(step=10, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False)
    impl = pair(lambda: K.adam_update(p, g, m, v, **kw))
    if torch is not None:
        tp, tg, tm, tv = (torch.from_numpy(a.copy()) for a in (p, g, m, v))
        step = torch.tensor(10.0)

        def run_torch():
            torch._fused_adam_([tp], [tg], [tm], [tv], [], [step], lr=1e-3, beta1=0.9, beta2=0.999,
                               weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)

        impl["torch"] = run_torch
    return impl


def case_matmul(sa, sb, dtype):
    a, b = rand(sa, dtype, 0), rand(sb, dtype, 1)
    impl = pair(lambda: K.matmul(a, b))
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        impl["torch"] = lambda: torch.matmul(ta, tb)
    path = "blas" if linalg.use_blas(a.shape, b.shape) else "numba"
    if path == "blas" and b.ndim == 2 and a.ndim > 2 and a.size * b.shape[1] >= linalg.FOLD_MIN_WORK:
        path = "blas, folded"
    return impl, path


def fmt_shape(*shapes):
    return " @ ".join("x".join(str(d) for d in s) for s in shapes)


def build_cases(full: bool):
    f32, f64 = np.float32, np.float64
    cases = []  # (group, kernel, size label, dtype, impl dict)

    def add(group, kernel, size, dtype, impl):
        cases.append((group, kernel, size, np.dtype(dtype).name, impl))

    for dtype in (f32, f64):
        add("default", "softmax fwd", "256x10x10", dtype, case_softmax((256, 10, 10), dtype, False))
        add("default", "softmax fwd+bwd", "256x10x10", dtype, case_softmax((256, 10, 10), dtype, True))
    add("default", "softmax fwd+bwd", "512x20x20", f32, case_softmax((512, 20, 20), f32, True))
    add("default", "log_softmax fwd+bwd", "704x14", f32, case_log_softmax((704, 14), f32))
    for dtype in (f32, f64):
        add("default", "cross_entropy fwd+bwd", "704x14", dtype, case_cross_entropy(704, 14, dtype, 0.0, None))
    add("default", "cross_entropy fwd+bwd ls=0.1 ign", "704x14", f32, case_cross_entropy(704, 14, f32, 0.1, 0))
    for dtype in (f32, f64):
        add("default", "layer_norm fwd+bwd", "640x64", dtype, case_layer_norm(640, 64, dtype))
    add("default", "layer_norm fwd+bwd", "1280x256", f32, case_layer_norm(1280, 256, f32))
    add("default", "gelu fwd+bwd (erf)", "640x256", f32, case_gelu((640, 256), f32, "none"))
    add("default", "gelu fwd+bwd (tanh)", "640x256", f32, case_gelu((640, 256), f32, "tanh"))
    add("default", "gelu fwd+bwd (erf)", "640x256", f64, case_gelu((640, 256), f64, "none"))
    for size in (100_000, 1_000_000):
        add("default", "adam_update", f"{size:,}", f32, case_adam(size, f32))
    for sa, sb in (
        ((256, 10, 16), (256, 16, 10)),  # attention scores, 64 x 4 heads, T=10, Dh=16
        ((256, 10, 10), (256, 10, 16)),  # attention weights @ values
        ((512, 20, 8), (512, 8, 20)),  # 8 heads, T=20, Dh=8
        ((64, 10, 128), (128, 384)),  # RNN/GRU input projection over a sequence
        ((64, 128), (128, 384)),  # GRU hidden projection, one step
        ((640, 64), (64, 256)),  # Transformer feed-forward
        ((1024, 4, 4), (1024, 4, 4)),  # tiny batched: the Numba class
    ):
        impl, path = case_matmul(sa, sb, f32)
        add("default", f"matmul [{path}]", fmt_shape(sa, sb), f32, impl)
    if full:
        # long rows (softmax over 512 columns, cross-entropy over 1000 classes, layer norm of
        # width 256), the lm at block 256 (attention rows of 256, 4 heads), and square 1024x1024 inputs
        for shape in ((64, 512), (16, 4, 256, 256), (1024, 1024)):
            add("large", "softmax fwd+bwd", "x".join(map(str, shape)), f32, case_softmax(shape, f32, True))
        for shape in ((4096, 256), (1024, 1024)):
            add("large", "log_softmax fwd+bwd", "x".join(map(str, shape)), f32, case_log_softmax(shape, f32))
        for n, c in ((1280, 1000), (1024, 1024)):
            add("large", "cross_entropy fwd+bwd", f"{n}x{c}", f32, case_cross_entropy(n, c, f32, 0.0, None))
        for n, d in ((2048, 256), (1024, 1024)):
            add("large", "layer_norm fwd+bwd", f"{n}x{d}", f32, case_layer_norm(n, d, f32))
        add("large", "gelu fwd+bwd (erf)", "1024x1024", f32, case_gelu((1024, 1024), f32, "none"))
        add("large", "gelu fwd+bwd (tanh)", "1024x1024", f32, case_gelu((1024, 1024), f32, "tanh"))
        add("large", "adam_update", "10,000,000", f32, case_adam(10_000_000, f32))
        for n in (512, 1024):
            impl, path = case_matmul((n, n), (n, n), f32)
            add("large", f"matmul [{path}]", fmt_shape((n, n), (n, n)), f32, impl)
        impl, path = case_matmul((512, 512), (512, 512), f64)
        add("large", f"matmul [{path}]", fmt_shape((512, 512), (512, 512)), f64, impl)
    return cases


# ---------------------------------------------------------------------------------------
# startup costs (subprocesses)
# ---------------------------------------------------------------------------------------

FIRST_CALLS = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
import minigrad
t2 = time.perf_counter()
already = "minigrad.kernels" in sys.modules
import minigrad.kernels as K
t3 = time.perf_counter()
out = {"import numpy": t1 - t0, "import minigrad": t2 - t1, "kernels imported by minigrad": already,
       "import minigrad.kernels": t3 - t2, "numba imported by import": "numba" in sys.modules}
t4 = time.perf_counter()
import numba
out["import numba (paid by the first kernel call)"] = time.perf_counter() - t4
x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
t = np.arange(8) % 5
calls = {
    "adam_update": lambda: K.adam_update(x.copy(), x, np.zeros_like(x), np.zeros_like(x), step=1,
        lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False),
    "softmax": lambda: K.softmax(x),
    "softmax_backward": lambda: K.softmax_backward(x, x),
    "log_softmax": lambda: K.log_softmax(x),
    "log_softmax_backward": lambda: K.log_softmax_backward(x, x),
    "cross_entropy fwd+bwd": lambda: K.cross_entropy_backward(K.cross_entropy_forward(x, t, None, 0.0)[1], x[:, 0]),
    "layer_norm fwd+bwd": lambda: K.layer_norm_backward(x, x, x[0], *K.layer_norm_forward(x, x[0], x[0], 1e-5)[1:]),
    "gelu fwd+bwd": lambda: (K.gelu(x), K.gelu_backward(x, x)),
    "matmul (numba path)": lambda: K.matmul(np.ones((256, 2, 2), np.float32), np.ones((256, 2, 2), np.float32)),
}
for name, fn in calls.items():
    s = time.perf_counter(); fn(); out[name] = time.perf_counter() - s
print(json.dumps(out))
"""


def startup_costs() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        runs = []
        for _ in range(2):  # cold cache (compiles and writes it), then warm cache
            proc = subprocess.run([sys.executable, "-c", FIRST_CALLS], env=env, cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {"cold": runs[0], "warm": runs[1]}


# ---------------------------------------------------------------------------------------
# matmul crossover
# ---------------------------------------------------------------------------------------


def crossover(repeats: int) -> str:
    """Time the Numba loop against np.matmul over a grid; evaluate ``linalg.use_blas``."""
    lines = ["dtype    batch   n   k   m   numba_us   blas_us  faster  rule"]
    misses = []
    for dtype, batch in itertools.product((np.float32, np.float64), (1, 16, 256)):
        for n, k, m in itertools.product((2, 4, 8, 16, 32), repeat=3):
            sa = (batch, n, k) if batch > 1 else (n, k)
            sb = (batch, k, m) if batch > 1 else (k, m)
            a, b = rand(sa, dtype, 0), rand(sb, dtype, 1)
            t = time_side_by_side(
                {"numba": lambda: _linalg_nb.numba_matmul(a, b), "blas": lambda: np.matmul(a, b)},
                repeats, target_s=0.0005,
            )
            rule = "blas" if linalg.use_blas(sa, sb) else "numba"
            faster = "numba" if t["numba"] < t["blas"] else "blas"
            lines.append(
                f"{np.dtype(dtype).name:8s} {batch:5d} {n:3d} {k:3d} {m:3d} {t['numba'] * 1e6:10.2f}"
                f" {t['blas'] * 1e6:9.2f}  {faster:6s}  {rule}"
            )
            chosen = t[rule]
            if chosen > 1.10 * min(t.values()):
                misses.append((chosen / min(t.values()), lines[-1]))
    lines.append("")
    lines.append(f"rule picks the slower path by more than 10% in {len(misses)} of "
                 f"{len(lines) - 2} cases; worst:")
    for ratio, line in sorted(misses, reverse=True)[:10]:
        lines.append(f"  x{ratio:.2f}  {line}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------


def machine() -> list[str]:
    model = _common.cpu_model()
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        info = cfg["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:  # noqa: BLE001 -- only a label in the report
        pass
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return [
        f"- CPU: {model}, {os.cpu_count()} logical cores (a shared VM; load average {load} when "
        f"the table was written); all timings single-threaded",
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({blas}), Numba {numba.__version__}, "
        f"PyTorch {torch.__version__ if torch is not None else 'not installed'}",
    ]


def table(rows: list) -> list[str]:
    head = (f"| {'kernel':34s} | {'size':26s} | {'dtype':7s} | {'numba us':>9s} | {'numpy us':>9s} "
            f"| {'torch us':>9s} | {'numpy/numba':>11s} | {'torch/numba':>11s} |")
    sep = "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"
    out = [head, sep]
    for group, kernel, size, dtype, t in rows:
        nb, ref, tt = t["numba"], t["numpy"], t.get("torch")
        out.append(
            f"| {kernel:34s} | {size:26s} | {dtype:7s} | {nb * 1e6:9.1f} | {ref * 1e6:9.1f} "
            f"| {(f'{tt * 1e6:9.1f}' if tt else '        -')} | {ref / nb:11.2f} "
            f"| {(f'{tt / nb:11.2f}' if tt else '          -')} |"
        )
    return out


def kept_notes(path: Path = results_md.RESULTS) -> str:
    """The hand-written "### Notes" of the "## Kernels" section of RESULTS.md (what the rows
    mean and how far to trust them), which a rewrite of the section keeps; "" when there are none.
    Prose about measurements is kept with them, in RESULTS.md."""
    if not path.exists():
        return ""
    lines = path.read_text(encoding="utf-8").splitlines()
    bounds = results_md._section_bounds(lines, "## Kernels")
    if bounds is None or "### Notes" not in lines[bounds[0]:bounds[1]]:
        return ""
    first = lines.index("### Notes", bounds[0]) + 1
    last = next((i for i in range(first, bounds[1]) if lines[i].startswith("### ")), bounds[1])
    return "\n".join(lines[first:last]).strip("\n")


def targets(rows: list) -> list[str]:
    """The project's performance targets, judged from this run's medians."""
    def find(kernel, size, dtype="float32"):
        for _, k, sz, dt, t in rows:
            if k == kernel and sz == size and dt == dtype:
                return t
        return None

    out = []

    def judge(label, ok, detail):
        out.append(f"- {'hit ' if ok else 'MISS'} {label}: {detail}")

    for kernel, size in (("softmax fwd+bwd", "256x10x10"), ("cross_entropy fwd+bwd", "704x14")):
        for dtype in ("float32", "float64"):
            t = find(kernel, size, dtype)
            if t:
                r = t["numpy"] / t["numba"]
                judge(f"{kernel} {size} {dtype} >= 3x the NumPy reference", r >= 3, f"{r:.2f}x")
    for _, kernel, size, dtype, t in rows:
        if kernel == "matmul [blas]" and size.startswith("256x"):
            r = t["numpy"] / t["numba"]
            judge(f"batched small matmul {size} no slower than np.matmul", r >= 0.95,
                  f"{r:.2f}x (dispatched to BLAS)")
    t = find("matmul [blas]", "512x512 @ 512x512")
    if t:
        r = t["numba"] / t["numpy"]
        judge("512x512 matmul within 10% of NumPy BLAS", r <= 1.10, f"{r:.2f} of NumPy's time")
    slower = [(k, sz, dt, t["torch"] / t["numba"]) for g, k, sz, dt, t in rows
              if g == "default" and t.get("torch") and t["torch"] < t["numba"]]
    n_torch = sum(1 for g, *_, t in rows if g == "default" and t.get("torch"))
    judge(f"at least as fast as PyTorch CPU at default sizes ({n_torch - len(slower)} of {n_torch} rows)",
          not slower, "all rows" if not slower else
          "slower in " + "; ".join(f"{k} {sz} {dt} ({r:.2f}x)" for k, sz, dt, r in slower))
    slower = [(k, sz, t["numba"] / t["torch"]) for g, k, sz, dt, t in rows
              if g == "large" and t.get("torch") and not k.startswith("matmul") and t["torch"] < t["numba"]]
    n_large = sum(1 for g, k, *_, t in rows if g == "large" and t.get("torch") and not k.startswith("matmul"))
    if n_large:
        judge(f"at most PyTorch's time at the large sizes ({n_large - len(slower)} of {n_large} rows)", not slower,
              "all rows" if not slower else
              "slower in " + "; ".join(f"{k} {sz} ({r:.2f}x PyTorch's time)" for k, sz, r in slower))
    return out


def write_results(section: str) -> None:
    results_md.write_section(section, "## Kernels")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, default sizes only")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per implementation")
    parser.add_argument("--crossover", action="store_true", help="print the matmul dispatch grid")
    parser.add_argument("--write-results", action="store_true", help="rewrite '## Kernels' in benchmarks/RESULTS.md")
    args = parser.parse_args()
    repeats = args.repeats or (7 if args.quick else 31)

    if args.crossover:
        print(crossover(repeats if args.repeats else 9))
        return

    print("\n".join(machine()))
    rows = []
    for group, kernel, size, dtype, impl in build_cases(full=not args.quick):
        if isinstance(impl, tuple):
            impl = impl[0]
        impl = {k: v for k, v in impl.items() if v is not None}
        t = time_side_by_side(impl, repeats)
        rows.append((group, kernel, size, dtype, t))
        print(table([rows[-1]])[-1], flush=True)

    startup = startup_costs()
    cold, warm = startup["cold"], startup["warm"]
    info = ("import numpy", "import minigrad", "kernels imported by minigrad", "import minigrad.kernels",
            "numba imported by import", "import numba (paid by the first kernel call)")
    names = [k for k in cold if k not in info]
    start_lines = [
        f"- `import numpy` {warm['import numpy'] * 1e3:.0f} ms, then `import minigrad` (the whole "
        f"package) {warm['import minigrad'] * 1e3:.0f} ms, then `import minigrad.kernels` "
        f"{warm['import minigrad.kernels'] * 1e3:.1f} ms more (already imported by minigrad: "
        f"{warm['kernels imported by minigrad']}); Numba imported by these imports: "
        f"{warm['numba imported by import']}.",
        f"- The first kernel call imports Numba: {warm['import numba (paid by the first kernel call)'] * 1e3:.0f} ms.",
        "",
        "| first call (float32, tiny input) | cold cache: compile, s | warm cache: load, ms |",
        "|---|---|---|",
    ]
    for name in names:
        start_lines.append(f"| {name} | {cold[name]:.2f} | {warm[name] * 1e3:.1f} |")
    start_lines.append(f"| **total** | **{sum(cold[n] for n in names):.1f}** | "
                       f"**{sum(warm[n] for n in names) * 1e3:.0f}** |")
    start_lines.append("")
    start_lines.append("float64 inputs compile a second specialization of each kernel on first use "
                       "(about the same time again, cached the same way).")

    notes = kept_notes()
    section = "\n".join(
        ["## Kernels", "", f"Reproduce: `{COMMAND}` (single-threaded; median CPU time per call over "
         f"{repeats} interleaved repeats; ratios > 1 mean Numba is faster; rows marked [blas] "
         f"run the same np.matmul call in the numba and numpy columns, so their ratio shows the "
         f"noise).", ""]
        + machine()
        + ["", "### Default model sizes (batch 64, length 10-20, width 64-256)", ""]
        + table([r for r in rows if r[0] == "default"])
        + (["", "### Larger sizes", ""] + table([r for r in rows if r[0] == "large"])
           if any(r[0] == "large" for r in rows) else [])
        + ["", "### Targets (judged from this run)", ""]
        + targets(rows)
        + (["", "### Notes", "", notes] if notes else [])
        + ["", "### Start-up costs (subprocesses, fresh NUMBA_CACHE_DIR)", ""]
        + start_lines
    )
    print()
    print(section)
    if args.write_results:
        write_results(section)
        print("\nwrote benchmarks/RESULTS.md (## Kernels)")


if __name__ == "__main__":
    main()
