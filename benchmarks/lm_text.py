"""Benchmark the ``lm`` model: character-level language modelling of ~100 KB of Python source.

Usage (from the repository root):

    python benchmarks/lm_text.py                      # default-size model, 1500 steps or 5 minutes
    python benchmarks/lm_text.py --minutes 2          # stop at a wall-clock budget
    python benchmarks/lm_text.py --blas-threads 1     # OpenBLAS/OpenMP threads (set before NumPy loads)
    python benchmarks/lm_text.py --write-results      # also rewrite "## Language model" in RESULTS.md

The corpus is the source of a few standard-library modules (``inspect.getsource``, in the
order of ``MODULES``), concatenated and cut at a line break to at most ``--chars``
characters (100,000), written to a temporary file and read by ``tasks.get("text")`` (the first
90% is train, the next 5% validation, the last 5% test). The loop is the one ``minigrad-train --task text --model lm``
runs: Adam (lr 1e-3), batch 64 random windows of 64 characters, gradient clipping at 1.0,
validation on every non-overlapping window of the validation split. It prints the curve
(train and validation loss in nats per character, validation bits per character, elapsed
wall and CPU seconds), the unigram baseline, and a sample from the trained model.
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_from_argv() -> None:
    """Apply --blas-threads before NumPy is imported (BLAS reads the variables once, at load)."""
    for i, arg in enumerate(sys.argv):
        value = arg.split("=", 1)[1] if arg.startswith("--blas-threads=") else (
            sys.argv[i + 1] if arg == "--blas-threads" and i + 1 < len(sys.argv) else None)
        if value is not None:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = value


_threads_from_argv()

import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helper modules
import results_md  # noqa: E402

import minigrad  # noqa: E402
from minigrad import tasks  # noqa: E402
from minigrad import functional as F  # noqa: E402
from minigrad import optim  # noqa: E402
from minigrad.models.lm import LanguageModel, LMConfig  # noqa: E402

MODULES = ("functools", "textwrap", "heapq", "shlex", "string", "fnmatch")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Language model"


def corpus(max_chars: int) -> str:
    """The source of ``MODULES`` concatenated, cut at the last line break before ``max_chars``."""
    text = "".join(inspect.getsource(importlib.import_module(name)) for name in MODULES)
    if len(text) > max_chars:
        text = text[: text.rindex("\n", 0, max_chars) + 1]
    return text


def evaluate(model: LanguageModel, task, batch_size: int) -> float:
    """Mean cross-entropy (nats per token) over every non-overlapping validation window."""
    total, count = 0.0, 0
    model.eval()
    with minigrad.no_grad():
        for batch in task.batches("valid", batch_size):
            total += float(F.cross_entropy(model(batch.x), batch.y, reduction="sum").item())
            count += batch.y.size
    model.train()
    return total / count


def run(args: argparse.Namespace) -> dict:
    text = corpus(args.chars)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        task = tasks.get("text", path=path, block_size=args.block_size, seed=args.seed)
        task.train_ids  # noqa: B018  (read the file while it exists)
    minigrad.manual_seed(args.seed)
    config = LMConfig(d_model=args.d_model, num_heads=args.num_heads, ff_dim=4 * args.d_model,
                      num_layers=args.num_layers, block_size=args.block_size, dropout=args.dropout)
    model = LanguageModel(len(task.vocab), config)
    params = list(model.parameters())
    optimizer = optim.Adam(params, lr=args.lr)
    baseline = task.unigram_loss()
    print(f"corpus: {len(text):,} characters of {', '.join(MODULES)} (Python {platform.python_version()}); "
          f"train {len(task.train_ids):,}, valid {len(task.valid_ids):,}, vocabulary {len(task.vocab)}")
    print(f"model: d_model={config.d_model}, num_layers={config.num_layers}, num_heads={config.num_heads}, "
          f"block_size={config.block_size}, dropout={config.dropout}, {model.num_parameters():,} parameters; batch {args.batch_size}, "
          f"Adam lr {args.lr}, clip 1.0; BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    print(f"unigram baseline: {baseline:.3f} nats/char = {baseline / math.log(2):.3f} bits/char\n")
    print(f"{'step':>6} {'wall s':>7} {'cpu s':>7} {'train':>7} {'valid':>7} {'bits/char':>9}")

    curve = []
    stream = task.sample_batches(args.batch_size, seed=args.seed)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    train_sum, train_count, step = 0.0, 0, 0

    def record() -> None:
        nonlocal train_sum, train_count
        valid = evaluate(model, task, args.batch_size)
        row = {"step": step, "wall_seconds": round(time.perf_counter() - wall0, 1),
               "cpu_seconds": round(time.process_time() - cpu0, 1),
               "train_loss": None if not train_count else round(train_sum / train_count, 4),
               "valid_loss": round(valid, 4), "valid_bits_per_char": round(valid / math.log(2), 4)}
        curve.append(row)
        train = "-" if row["train_loss"] is None else f"{row['train_loss']:.3f}"
        print(f"{step:>6} {row['wall_seconds']:>7.1f} {row['cpu_seconds']:>7.1f} {train:>7} {valid:>7.3f} "
              f"{row['valid_bits_per_char']:>9.3f}", flush=True)
        train_sum, train_count = 0.0, 0

    record()
    while step < args.steps and time.perf_counter() - wall0 < args.minutes * 60:
        batch = next(stream)
        loss = F.cross_entropy(model(batch.x), batch.y)
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        train_sum, train_count = train_sum + float(loss.item()), train_count + 1
        if step % args.eval_interval == 0:
            record()
    if curve[-1]["step"] != step:
        record()

    prompt = args.prompt
    ids = task.encode_source(prompt)
    started = time.perf_counter()
    tokens = model.generate(ids, args.sample_chars, temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    sample_seconds = time.perf_counter() - started
    sample = task.decode_target(tokens)  # the prompt and what followed it
    print(f"\nsample ({args.sample_chars} characters, temperature {args.temperature}, top_k {args.top_k}, "
          f"seed {args.seed}, {sample_seconds:.2f} s):\n{sample}")
    final = curve[-1]
    print(f"\nfinal: step {final['step']}, {final['wall_seconds'] / 60:.1f} min wall ({final['cpu_seconds'] / 60:.1f} min CPU), "
          f"valid {final['valid_loss']:.3f} nats/char ({final['valid_bits_per_char']:.3f} bits/char) "
          f"vs unigram {baseline:.3f} ({baseline / math.log(2):.3f} bits/char)")
    return {
        "corpus_chars": len(text), "train_chars": len(task.train_ids), "modules": list(MODULES), "python": platform.python_version(),
        "vocab_size": len(task.vocab), "parameters": model.num_parameters(), "config": vars(args),
        "unigram_loss": baseline, "curve": curve, "sample": sample, "sample_seconds": sample_seconds,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def markdown(result: dict) -> str:
    """The "## Language model" section of RESULTS.md for ``result``."""
    a = result["config"]
    base = result["unigram_loss"]
    final = result["curve"][-1]
    lines = [
        SECTION, "",
        f"`python benchmarks/lm_text.py{' --blas-threads ' + str(a['blas_threads']) if a['blas_threads'] else ''}`: "
        f"character-level `lm` on {result['corpus_chars']:,} characters of Python source "
        f"({', '.join(result['modules'])} from Python {result['python']}'s standard library; 90% train, then 5% validation, 5% test), "
        f"vocabulary {result['vocab_size']}. Default-size model (d_model {a['d_model']}, {a['num_layers']} layers, "
        f"{a['num_heads']} heads, block {a['block_size']}, tied embeddings, {result['parameters']:,} parameters), "
        f"Adam lr {a['lr']}, batch {a['batch_size']}, clip 1.0 — the `minigrad-train --task text --model lm` defaults. "
        f"2 cores, load average {result['load_average']:.1f} when the run ended (a shared machine: wall time is "
        "inflated, CPU time is this process's).", "",
        f"Unigram baseline (train character frequencies): **{base:.3f} nats/char = {base / math.log(2):.3f} bits/char**. "
        f"Final: **{final['valid_loss']:.3f} nats/char = {final['valid_bits_per_char']:.3f} bits/char** after "
        f"{final['step']} steps, {final['wall_seconds'] / 60:.1f} min wall ({final['cpu_seconds'] / 60:.1f} min CPU).", "",
        "| step | wall s | CPU s | train loss | valid loss | valid bits/char |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["curve"]:
        train = "-" if row["train_loss"] is None else f"{row['train_loss']:.3f}"
        lines.append(f"| {row['step']} | {row['wall_seconds']:.0f} | {row['cpu_seconds']:.0f} | {train} | "
                     f"{row['valid_loss']:.3f} | {row['valid_bits_per_char']:.3f} |")
    passes = final["step"] * a["batch_size"] * a["block_size"] / result["train_chars"]
    below = next((row for row in result["curve"] if row["valid_loss"] < base), None)
    best = min(result["curve"], key=lambda row: row["valid_loss"])
    crossing = ("The validation loss never goes below the unigram baseline" if below is None else
                f"The validation loss is below the unigram baseline from step {below['step']} "
                f"({below['wall_seconds']:.0f} s) on")
    lines += ["", f"{crossing}; its best, {best['valid_loss']:.3f}, is at step {best['step']}. "
                  f"{final['step']} steps of {a['batch_size']} windows of {a['block_size']} characters are about "
                  f"{passes:.0f} passes over the {result['train_chars']:,}-character train part: where the train loss "
                  "keeps falling and the validation loss does not, the model is memorising the train part."]
    lines += ["", f"Sample (prompt `{a['prompt']!r}`, {a['sample_chars']} characters, temperature {a['temperature']}, "
                  f"top_k {a['top_k']}, seed {a['seed']}; KV-cached generation took {result['sample_seconds']:.2f} s):", "",
              "```python", result["sample"].rstrip("\n"), "```", ""]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or append) the "## Language model" section of RESULTS.md, leaving the others."""
    results_md.write_section(section, SECTION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=100_000, help="corpus size in characters (default 100,000)")
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps at most (default 1500)")
    parser.add_argument("--minutes", type=float, default=5.0, help="wall-clock budget in minutes (default 5)")
    parser.add_argument("--eval-interval", type=int, default=100, help="validate every N steps (default 100)")
    defaults = LMConfig()
    parser.add_argument("--d-model", type=int, default=defaults.d_model)
    parser.add_argument("--num-layers", type=int, default=defaults.num_layers)
    parser.add_argument("--num-heads", type=int, default=defaults.num_heads)
    parser.add_argument("--block-size", type=int, default=defaults.block_size)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt", default="def ", help="prompt of the sample (default 'def ')")
    parser.add_argument("--sample-chars", type=int, default=400)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS/OpenMP threads (default: BLAS's own)")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    parser.add_argument("--write-results", action="store_true", help=f"rewrite '{SECTION}' in benchmarks/RESULTS.md")
    args = parser.parse_args()
    result = run(args)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.write_results:
        write_section(markdown(result))
        print(f"\nwrote the '{SECTION}' section of {RESULTS}")


if __name__ == "__main__":
    main()
