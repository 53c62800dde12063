"""End-to-end training-step benchmark: minigrad against the same models in PyTorch CPU.

Usage (from the repository root):

    python benchmarks/train_step.py                      # rnn-attn, transformer, lm x every size, minigrad vs PyTorch
    python benchmarks/train_step.py --models rnn-attn,transformer --sizes default
    python benchmarks/train_step.py --quick              # fewer rounds
    python benchmarks/train_step.py --threads 1,2        # each row on one and on two threads, both libraries
    python benchmarks/train_step.py --startup            # time to first step (cold/warm Numba cache), peak RSS
    python benchmarks/train_step.py --memory-steps 10000 # RSS every N/20 steps of a long run (flatness)
    python benchmarks/train_step.py --profile rnn-attn   # where the time of one step goes (pyinstrument)
    python benchmarks/train_step.py --breakdown rnn-attn # CPU ms per step by phase and by op
    python benchmarks/train_step.py --write-results      # also update benchmarks/RESULTS.md

One step is what training does: forward, cross-entropy (PAD ignored), backward,
``clip_grad_norm_(1.0)``, Adam (lr 1e-3), on a fixed copy-task batch of full-length
sequences (src (B, L), tgt_in = BOS + src), or for ``lm`` on a batch of random text windows
(x (B, block), y = x shifted by one; vocabulary 163, every position scored). The PyTorch side
is ``torch_reference`` (same architecture, same parameter names; tested equal in tests/perf);
before timing, each row loads minigrad's initial weights into it and refuses to run unless
both have the same parameter count and the same initial loss. Sizes: ``default`` (batch 64,
length 10, GRU hidden 128 / d_model 64; lm: the ``minigrad-train --task text --model lm``
defaults, batch 64, block 64, d_model 64), ``width256`` (hidden 256 / d_model 256 with ff
1024; lm: d_model 256, ff 1024 and block 256), ``len32`` (length 32; lm: block 32),
``batch128`` (batch 128).

Roofline: each row's matrix-product FLOPs per step (``roofline.py``, counted from the config
and tested equal to what the step runs) over the median CPU time per step gives each
library's GFLOP/s; beside it the rate NumPy's BLAS reaches on one thread on the same product
shapes, timed in the same run right after the row, and minigrad's fraction of it (1.0 would
mean the step is nothing but BLAS-speed products).

Threads: ``--threads 1,2`` times every row at each thread count, for both libraries
(``minigrad.blas.set_num_threads``, ``torch.set_num_threads``), all in the same alternating
rounds; the thread comparison is in wall time (CPU time adds up the threads).

Protocol: every library runs on ONE thread (``_common`` sets the thread variables before
any import). After warm-up, ``--rounds`` rounds each time ``--steps`` steps of minigrad and
then of PyTorch, the order alternating round by round, in one process. Reported: the median
milliseconds per step, the 10th-90th percentile spread, and the ratio minigrad/PyTorch of
the medians, both in CPU time of the process (``time.process_time``: immune to the time the
shared machine's other jobs take the core away) and in wall time. Peak RSS and time to first
step are measured in fresh subprocesses, one per library, so the two never share an
interpreter.
"""

from __future__ import annotations

import _common  # noqa: F401  (first: pins the thread pools before NumPy/PyTorch load)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import roofline  # noqa: E402
from _common import (  # noqa: E402
    DEFAULT_MODELS, MODELS, SIZE_LABELS, SIZES, import_torch, load_average, machine_lines, make_step, peak_rss_mb,
    percentile, replace_block, rss_mb, same_model_check, set_threads, timed,
)

COMMAND = "python benchmarks/train_step.py --write-results"


# ------------------------------------------------------------------------------ step timing


def measure(model: str, size: str, rounds: int, steps: int, warmup: int, with_torch: bool,
            threads: tuple[int, ...] = (1,)) -> tuple[dict, dict | None]:
    """Alternating minigrad/PyTorch timing of one model and size at each thread count.

    Returns ({threads: {framework: {"wall": [...], "cpu": [...]}}}, the same-model check or None).
    Each round runs ``steps`` steps of every (threads, framework) block, the order of the
    blocks reversed every other round.
    """
    runners = {"minigrad": make_step("minigrad", model, size)}
    check = None
    if with_torch:
        runners["torch"] = make_step("torch", model, size)
        check = same_model_check(runners["minigrad"], runners["torch"])
    blocks = [(t, name) for t in threads for name in runners]
    for t, name in blocks:
        set_threads(t)
        for _ in range(warmup):
            runners[name].step()
    samples = {t: {name: {"wall": [], "cpu": []} for name in runners} for t in threads}
    for r in range(rounds):
        for t, name in (blocks if r % 2 == 0 else blocks[::-1]):
            set_threads(t)
            step = runners[name].step
            for _ in range(steps):
                wall, cpu = timed(step)
                samples[t][name]["wall"].append(wall)
                samples[t][name]["cpu"].append(cpu)
    set_threads(1)
    return samples, check


def summarise(samples: dict) -> dict:
    out = {}
    for name, s in samples.items():
        out[name] = {
            kind: {"median_ms": 1e3 * float(np.median(v)), "p10_ms": 1e3 * percentile(v, 10),
                   "p90_ms": 1e3 * percentile(v, 90)}
            for kind, v in s.items()
        }
    if "torch" in out:
        for kind in ("cpu", "wall"):
            out.setdefault("ratio", {})[kind] = out["minigrad"][kind]["median_ms"] / out["torch"][kind]["median_ms"]
    return out


def add_roofline(model: str, size: str, r: dict) -> None:
    """Put the row's FLOPs, each library's GFLOP/s (CPU-time medians) and the one-thread BLAS
    rate on the same product shapes (timed now) into ``r["roofline"]``; nothing for a model
    ``roofline`` does not count."""
    if model not in roofline.COUNTED_MODELS:
        return
    items = roofline.for_size(model, size)
    flops = roofline.step_flops(items)
    set_threads(1)
    blas = roofline.blas_rate(items)
    row = {"gflop": flops / 1e9, "blas_gflops": blas["gflops"], "blas_ms": 1e3 * blas["seconds"]}
    for name in ("minigrad", "torch"):
        if name in r:
            row[f"{name}_gflops"] = flops / (r[name]["cpu"]["median_ms"] / 1e3) / 1e9
    r["roofline"] = row


def step_table(results: dict) -> list[str]:
    lines = [
        "| model | size | minigrad ms (CPU) | PyTorch ms (CPU) | ratio (CPU) | ratio (wall) | GFLOP per step | "
        "minigrad GFLOP/s | PyTorch GFLOP/s | BLAS GFLOP/s, same products | minigrad / BLAS |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, size), r in results.items():
        def cell(fw: str, kind: str) -> str:
            if fw not in r:
                return "-"
            s = r[fw][kind]
            return f"{s['median_ms']:.1f} ({s['p10_ms']:.1f}-{s['p90_ms']:.1f})"

        ratio = {k: f"{v:.2f}" for k, v in r.get("ratio", {}).items()}
        roof = r.get("roofline")
        if roof:
            theirs = f"{roof['torch_gflops']:.1f}" if "torch_gflops" in roof else "-"
            roof_cells = (f"{roof['gflop']:.3g} | {roof['minigrad_gflops']:.1f} | {theirs} | {roof['blas_gflops']:.1f} | "
                          f"{roof['minigrad_gflops'] / roof['blas_gflops']:.2f}")
        else:
            roof_cells = "- | - | - | - | -"
        lines.append(
            f"| {model} | {size} | {cell('minigrad', 'cpu')} | {cell('torch', 'cpu')} | {ratio.get('cpu', '-')} | "
            f"{ratio.get('wall', '-')} | {roof_cells} |"
        )
    return lines


def thread_table(by_threads: dict, threads: tuple[int, ...]) -> list[str]:
    """Wall ms per step at each thread count, and each count's time over the one-thread time."""
    base = threads[0]
    head = ["model", "size"]
    for fw, label in (("minigrad", "minigrad"), ("torch", "PyTorch")):
        head += [f"{label} {t}T ms (wall)" for t in threads] + [f"{label} {t}T / {base}T" for t in threads[1:]]
    head += [f"minigrad / PyTorch at {t}T (wall)" for t in threads]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (model, size), per in by_threads.items():
        cells = [model, size]
        for fw in ("minigrad", "torch"):
            if fw not in per[base]:
                cells += ["-"] * (2 * len(threads) - 1)
                continue
            ms = {t: per[t][fw]["wall"]["median_ms"] for t in threads}
            cells += [f"{ms[t]:.1f}" for t in threads] + [f"{ms[t] / ms[base]:.2f}" for t in threads[1:]]
        cells += [f"{per[t]['ratio']['wall']:.2f}" if "ratio" in per[t] else "-" for t in threads]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_lines(results: dict, limit: float = 1.0) -> list[str]:
    """One line per row with both libraries: at or below ``limit`` times PyTorch's CPU time."""
    out = []
    for (model, size), r in results.items():
        if "ratio" not in r:
            continue
        ratio = r["ratio"]["cpu"]
        out.append(f"- {'hit ' if ratio <= limit else 'MISS'} {model} at {size}: minigrad/PyTorch "
                   f"{ratio:.2f} (CPU), {r['ratio']['wall']:.2f} (wall); target <= {limit}")
    return out


def check_lines(checks: dict) -> list[str]:
    """The same-model checks of the rows: parameter counts and initial losses from the same weights."""
    return [f"- {model} at {size}: {c['parameters']:,} parameters in both; initial loss {c['loss']:.5f} (minigrad), "
            f"{c['torch_loss']:.5f} (PyTorch)" for (model, size), c in checks.items()]


# ------------------------------------------------------------------------------ subprocess workers


def worker(args: argparse.Namespace) -> None:
    """Run in a fresh interpreter: import, build, first step, then ``--steps`` steps; print JSON."""
    t_imports = time.perf_counter()
    if args.worker == "torch":
        import_torch()
        import torch_reference  # noqa: F401
    else:
        import minigrad  # noqa: F401
        from minigrad import models  # noqa: F401
    imported = time.perf_counter()
    runner = make_step(args.worker, args.model, args.size)
    built = time.perf_counter()
    runner.step()
    first = time.perf_counter()
    report = {
        "framework": args.worker, "model": args.model, "size": args.size,
        "import_s": imported - t_imports, "build_s": built - imported, "first_step_s": first - built,
        "to_first_step_s": time.time() - args.t0 if args.t0 else None,
    }
    every = max(1, args.steps // 20)
    curve = []
    cpu_times = np.zeros(args.steps)  # allocated up front: the RSS curve must not see the bookkeeping grow
    for i in range(1, args.steps + 1):
        cpu_times[i - 1] = timed(runner.step)[1]
        if args.curve and (i % every == 0 or i == args.steps):
            curve.append((i, rss_mb()))
    report["median_step_ms"] = 1e3 * float(np.median(cpu_times)) if args.steps else None
    report["peak_rss_mb"] = peak_rss_mb()
    report["rss_mb"] = rss_mb()
    if args.curve:
        report["curve"] = curve
    print("RESULT " + json.dumps(report))


def run_worker(framework: str, model: str, size: str, steps: int, env: dict | None = None,
               curve: bool = False) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--models", model, "--sizes", size,
           "--steps", str(steps), "--t0", repr(time.time())]
    if curve:
        cmd.append("--curve")
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"worker {framework} {model} {size} failed:\n{proc.stderr}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    report = json.loads(line[len("RESULT "):])
    report["process_s"] = time.perf_counter() - started
    return report


def help_seconds(repeats: int = 5) -> list[float]:
    """Wall seconds of ``minigrad-train --help`` (fresh interpreter each time)."""
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from cli.train import main; main()", "--help"],
                       capture_output=True, check=True, cwd=str(_common.ROOT))
        out.append(time.perf_counter() - started)
    return out


def startup(models_: list[str], with_torch: bool, steps: int) -> tuple[list[str], list[str]]:
    """Time to first step (cold and warm Numba cache) and peak RSS -> (start-up lines, memory lines)."""
    rows, mem_rows = [], []
    for model in models_:
        with tempfile.TemporaryDirectory(prefix="minigrad-numba-cache-") as cache:
            env = {"NUMBA_CACHE_DIR": cache}
            cold = run_worker("minigrad", model, "default", steps, env)
            warm = run_worker("minigrad", model, "default", steps, env)
        ref = run_worker("torch", model, "default", steps) if with_torch else None
        rows.append((model, cold, warm, ref))
        mem_rows.append((model, warm, ref))
    start = [
        "| model | minigrad cold cache: to first step s (first step alone) | minigrad warm cache: to first step s "
        "(first step alone) | PyTorch: to first step s (first step alone) |",
        "|---|---|---|---|",
    ]
    for model, cold, warm, ref in rows:
        def cell(r):
            return "-" if r is None else f"{r['to_first_step_s']:.2f} ({r['first_step_s']:.2f})"

        start.append(f"| {model} | {cell(cold)} | {cell(warm)} | {cell(ref)} |")
    helps = help_seconds()
    start += ["", f"- `minigrad-train --help`: median {np.median(helps):.2f} s over {len(helps)} fresh interpreters "
                  f"(min {min(helps):.2f} s); target < 0.5 s."]
    mem = [
        f"| model (default size, {steps} steps) | minigrad peak RSS MiB | PyTorch peak RSS MiB | minigrad/PyTorch |",
        "|---|---|---|---|",
    ]
    for model, warm, ref in mem_rows:
        ratio = "-" if ref is None else f"{warm['peak_rss_mb'] / ref['peak_rss_mb']:.2f}"
        theirs = "-" if ref is None else f"{ref['peak_rss_mb']:.0f}"
        mem.append(f"| {model} | {warm['peak_rss_mb']:.0f} | {theirs} | {ratio} |")
    return start, mem


def memory_curve(model: str, steps: int, with_torch: bool) -> list[str]:
    """RSS every steps/20 steps of a long run, minigrad and PyTorch, each in its own process."""
    runs = {"minigrad": run_worker("minigrad", model, "default", steps, curve=True)}
    if with_torch:
        runs["torch"] = run_worker("torch", model, "default", steps, curve=True)
    lines = [f"RSS (MiB) over {steps} training steps of {model} (default size), sampled every {max(1, steps // 20)} steps:",
             "", "| step | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    curves = {name: dict(r["curve"]) for name, r in runs.items()}
    for step in sorted(curves["minigrad"]):
        lines.append(f"| {step} | " + " | ".join(f"{curves[n].get(step, float('nan')):.1f}" for n in runs) + " |")
    lines.append("")
    for name, r in runs.items():
        c = r["curve"]
        tenth = c[max(0, len(c) // 10 - 1)][1]
        lines.append(f"- {name}: {c[0][1]:.1f} MiB at step {c[0][0]}, {tenth:.1f} at step "
                     f"{c[max(0, len(c) // 10 - 1)][0]}, {c[-1][1]:.1f} at step {c[-1][0]} "
                     f"(growth after the first tenth: {c[-1][1] - tenth:+.1f} MiB); peak {r['peak_rss_mb']:.1f} MiB")
    return lines


# ------------------------------------------------------------------------------ profile


def breakdown(model: str, size: str, steps: int) -> list[str]:
    """CPU time per step by phase and by op (every ``Function``'s forward and backward timed).

    Each op's forward/backward is wrapped with a CPU timer (which adds its own cost to every
    call); "Python outside ops" is the phase's time not spent inside any op (module calls,
    checks, graph bookkeeping), "engine" the same for backward (topological sort, gradient
    routing, accumulation). Markdown lines.
    """
    from collections import defaultdict

    from minigrad import optim
    from minigrad.autograd import Function

    runner = make_step("minigrad", model, size)
    for _ in range(3):
        runner.step()
    spent: dict = defaultdict(float)
    calls: dict = defaultdict(int)
    clock = time.process_time

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    originals = []
    for cls in set(subclasses(Function)):
        for kind in ("forward", "backward"):
            raw = cls.__dict__.get(kind)
            if not isinstance(raw, staticmethod):
                continue

            def timed_op(*a, _fn=raw.__func__, _key=f"{cls.__name__}.{kind}", **k):
                t0 = clock()
                try:
                    return _fn(*a, **k)
                finally:
                    spent[_key] += clock() - t0
                    calls[_key] += 1

            originals.append((cls, kind, raw))
            setattr(cls, kind, staticmethod(timed_op))
    phase: dict = defaultdict(float)
    try:
        for _ in range(steps):
            t0 = clock()
            logits = runner.logits()
            t1 = clock()
            loss = runner.loss_of(logits)
            t2 = clock()
            runner.optimizer.zero_grad()
            loss.backward()
            t3 = clock()
            optim.clip_grad_norm_(runner.params, 1.0)
            t4 = clock()
            runner.optimizer.step()
            t5 = clock()
            for key, dt in zip(("forward", "loss", "backward", "clip", "adam"),
                               (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phase[key] += dt
    finally:
        for cls, kind, raw in originals:
            setattr(cls, kind, raw)
    ms = {k: 1e3 * v / steps for k, v in phase.items()}
    fwd = 1e3 * sum(v for k, v in spent.items() if k.endswith(".forward")) / steps
    bwd = 1e3 * sum(v for k, v in spent.items() if k.endswith(".backward")) / steps
    lines = [f"{model} at {size}: {sum(ms.values()):.1f} ms CPU per step (with the timers), over {steps} steps", "",
             "| phase | ms | of which inside ops | Python outside ops / engine |", "|---|---|---|---|",
             f"| forward + loss | {ms['forward'] + ms['loss']:.2f} | {fwd:.2f} | {ms['forward'] + ms['loss'] - fwd:.2f} |",
             f"| backward | {ms['backward']:.2f} | {bwd:.2f} | {ms['backward'] - bwd:.2f} |",
             f"| clip_grad_norm_ | {ms['clip']:.2f} | | |", f"| Adam.step | {ms['adam']:.2f} | | |", "",
             "| op | ms per step | calls per step |", "|---|---|---|"]
    for key, v in sorted(spent.items(), key=lambda kv: -kv[1])[:14]:
        lines.append(f"| {key} | {1e3 * v / steps:.2f} | {calls[key] // steps} |")
    return lines


def profile(model: str, size: str, steps: int) -> None:
    """Print a pyinstrument (or cProfile) profile of ``steps`` training steps after warm-up."""
    runner = make_step("minigrad", model, size)
    for _ in range(3):
        runner.step()
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(steps):
            runner.step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(steps):
        runner.step()
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False))


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help=f"comma-separated, from {', '.join(MODELS)} (default: %(default)s)")
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"comma-separated, from {', '.join(SIZES)}")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 9, --quick 3)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per library per round (default 5)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per library first")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 steps")
    parser.add_argument("--no-torch", action="store_true", help="minigrad only")
    parser.add_argument("--threads", default="1", metavar="N,M",
                        help="thread counts to time every row at, both libraries, e.g. 1,2 (default 1)")
    parser.add_argument("--startup", action="store_true", help="time to first step and peak RSS (subprocesses)")
    parser.add_argument("--memory-steps", type=int, default=0, metavar="N",
                        help="run N steps per library and report RSS at intervals")
    parser.add_argument("--profile", metavar="MODEL", default=None, help="profile MODEL's step and exit")
    parser.add_argument("--breakdown", metavar="MODEL", default=None,
                        help="print MODEL's step time by phase and by op (CPU ms) and exit")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the raw numbers as JSON")
    parser.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--worker", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--curve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    models_ = [m for m in args.models.split(",") if m]
    sizes = [s for s in args.sizes.split(",") if s]
    for m in models_:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; valid: {', '.join(MODELS)}")
    for s in sizes:
        if s not in SIZES:
            parser.error(f"unknown size {s!r}; valid: {', '.join(SIZES)}")
    for m in (args.profile, args.breakdown):
        if m is not None and m not in MODELS:
            parser.error(f"unknown model {m!r}; valid: {', '.join(MODELS)}")
    try:
        threads = tuple(int(t) for t in args.threads.split(","))
    except ValueError:
        threads = ()
    if not threads or min(threads) < 1 or len(set(threads)) != len(threads):
        parser.error(f"--threads takes distinct positive thread counts such as 1,2; got {args.threads!r}")

    if args.worker:
        args.model, args.size = models_[0], sizes[0]
        args.steps = 20 if args.steps is None else args.steps
        worker(args)
        return
    if args.profile:
        profile(args.profile, sizes[0], args.steps or 30)
        return
    if args.breakdown:
        print("\n".join(breakdown(args.breakdown, sizes[0], args.steps or 40)))
        return

    with_torch = not args.no_torch and import_torch() is not None
    load_start = load_average()
    machine = machine_lines()
    print("\n".join(machine))
    report: dict = {"machine": machine}

    if args.memory_steps:
        lines = memory_curve(models_[0], args.memory_steps, with_torch)
        print("\n".join(lines))
        report["memory_curve"] = lines
        if args.write_results:
            replace_block("train_step.py memory-curve", "Memory",
                          f"Reproduce: `python benchmarks/train_step.py --memory-steps {args.memory_steps} "
                          f"--models {models_[0]} --write-results`\n\n" + "\n".join(lines))
        _dump(args.json, report)
        return

    if args.startup:
        start, mem = startup(models_, with_torch, args.steps or 50)
        print("\n".join(start + [""] + mem))
        if args.write_results:
            note = (f"Reproduce: `python benchmarks/train_step.py --startup --write-results`. Each cell is a fresh "
                    "interpreter: seconds from launch to the end of the first training step (imports, model build, "
                    "Numba compilation or cache load), and in brackets the first step alone. Cold: an empty "
                    "`NUMBA_CACHE_DIR`; warm: the same directory on the second run.")
            replace_block("train_step.py startup", "Start-up", "\n".join(machine + ["", note, ""] + start))
            replace_block("train_step.py rss", "Memory",
                          "\n".join([f"Reproduce: `python benchmarks/train_step.py --startup --write-results` "
                                     "(peak RSS of a fresh process after the first step plus the timed steps, "
                                     "synthetic batches; each library in its own process).", ""] + mem))
        _dump(args.json, {**report, "startup": start, "memory": mem})
        return

    rounds = args.rounds or (3 if args.quick else 9)
    steps = args.steps or (3 if args.quick else 5)
    by_threads: dict = {}
    checks: dict = {}
    for model in models_:
        for size in sizes:
            t0 = time.perf_counter()
            samples, check = measure(model, size, rounds, steps, args.warmup, with_torch, threads)
            if check is not None:
                checks[(model, size)] = check
            per = by_threads[(model, size)] = {t: summarise(samples[t]) for t in threads}
            add_roofline(model, size, per[threads[0]])
            for t in threads:
                r = per[t]
                ratio = r.get("ratio", {})
                roof = r.get("roofline")
                print(f"{model:12s} {size:9s} {t}T minigrad {r['minigrad']['cpu']['median_ms']:8.1f} ms"
                      + (f"  torch {r['torch']['cpu']['median_ms']:8.1f} ms  ratio {ratio['cpu']:.2f} (CPU) "
                         f"{ratio['wall']:.2f} (wall)" if "torch" in r else "")
                      + (f"  {roof['minigrad_gflops']:.1f} GFLOP/s of BLAS's {roof['blas_gflops']:.1f}" if roof else "")
                      + f"   [{time.perf_counter() - t0:.0f} s]", flush=True)
    results = {key: per[threads[0]] for key, per in by_threads.items()}
    load_end = load_average()
    table = step_table(results)
    targets = target_lines(results)
    lines = [""] + table + ["", f"Targets ({threads[0]} thread{'s' if threads[0] > 1 else ''}):", ""] + targets
    lines += ["", "Same model in both libraries (from minigrad's initial weights):", ""] + check_lines(checks)
    if len(threads) > 1:
        lines += ["", "Threads (wall time):", ""] + thread_table(by_threads, threads)
    lines += ["", f"Load average at the end: {load_end}"]
    print("\n".join(lines))
    if args.write_results:
        sizes_note = "; ".join(f"`{k}` {SIZE_LABELS[k]}" for k in sizes)
        protocol = (f"{rounds} alternating rounds x {steps} steps per library after {args.warmup} warm-up steps; "
                    f"load average {load_start} at the start, {load_end} at the end")
        if len(threads) == 1:
            body = machine + [
                "",
                f"Reproduce: `{COMMAND}` ({protocol}; median ms per full step with the 10th-90th percentile in "
                f"brackets; ratio = minigrad / PyTorch of the medians, < 1 means minigrad is faster). Sizes: "
                f"{sizes_note}. GFLOP per step: the matrix products of forward and backward (`benchmarks/roofline.py`, "
                "counted from the config; tests/perf/test_roofline.py holds it equal to the products the step runs); "
                "GFLOP/s: that over the median CPU time; BLAS: `np.matmul` on one thread on the same product shapes, "
                "timed after the row in the same run; minigrad / BLAS: the share of the step that is BLAS-speed "
                "products (1.0: nothing else).",
                "",
            ] + table + ["", "Targets:", ""] + targets + [
                "", "Same model in both libraries (minigrad's initial weights loaded into the PyTorch reference "
                    "before timing):", ""] + check_lines(checks)
            replace_block("train_step.py steps", "Training step", "\n".join(body))
        else:
            body = [
                f"Reproduce: `python benchmarks/train_step.py --threads {args.threads} --write-results"
                f"{' --quick' if args.quick else ''}` ({protocol}; every (threads, library) block in the same "
                "alternating rounds; median wall ms per step, since CPU time adds up the threads; "
                f"`minigrad.blas.set_num_threads` and `torch.set_num_threads`). {machine[0][2:]}.",
                "",
            ] + thread_table(by_threads, threads)
            replace_block("train_step.py threads", "Training step", "\n".join(body))
    report["steps"] = {f"{m}/{s}": {str(t): r for t, r in per.items()} for (m, s), per in by_threads.items()}
    report["checks"] = {f"{m}/{s}": c for (m, s), c in checks.items()}
    report["load_end"] = load_end
    _dump(args.json, report)


def _dump(path: str | None, report: dict) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
