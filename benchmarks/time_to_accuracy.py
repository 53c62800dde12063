"""Time to 99% exact-sequence accuracy: minigrad's default training runs against PyTorch.

Usage (from the repository root):

    python benchmarks/time_to_accuracy.py                    # rnn-attn and transformer, copy and reverse, 3 seeds
    python benchmarks/time_to_accuracy.py --models rnn-attn --tasks copy --seeds 0
    python benchmarks/time_to_accuracy.py --command          # also time the whole default minigrad-train command
    python benchmarks/time_to_accuracy.py --write-results    # also update benchmarks/RESULTS.md

Each run is the default ``minigrad-train`` configuration (``models.training.TrainConfig``:
Adam lr 1e-3, batch 64, clip 1.0, the task's and the model's default sizes), its batches
drawn from ``task.sample_batches(64, seed)``; the PyTorch run uses ``torch_reference`` (the
same architecture and initialisation scheme) on exactly the same batches with
``torch.optim.Adam`` and ``clip_grad_norm_`` (from its own random initial weights, or with
``--same-init`` from minigrad's, which leaves only float rounding between the two runs). Every ``--eval-interval`` steps both decode the
first ``--eval-size`` validation examples greedily and score them with the same
``tasks.accuracy_counts``; the run stops at the first validation whose exact-sequence
accuracy reaches ``--target`` (0.99). Reported per run: the step, the training seconds up to
it (forward, backward, clip, update and batch collation; validation excluded), the wall
seconds of the loop including validation, and the peak RSS of the process. Each run is a
fresh interpreter on one thread (``_common``); minigrad and PyTorch alternate seed by seed.
Medians over the seeds.

``--command`` runs ``minigrad-train --task copy --model rnn-attn`` exactly as a user would
(500 steps, validation every 100, final evaluation of all splits), once to warm Numba's
cache and then ``--command-repeats`` times, and reports its wall and CPU seconds from
launch to the final table and its peak RSS.
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

from _common import PAD, import_torch, machine_lines, peak_rss_mb, replace_block  # noqa: E402

TRAIN_COMMAND = ["--task", "copy", "--model", "rnn-attn"]
# Prepended to the command's ``python -c``: writes the process's peak RSS (VmHWM, MiB) to a file
# at exit, since rusage's ru_maxrss of a child includes its parent's memory on Linux.
_HWM_AT_EXIT = (
    "import atexit, os\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            open(os.environ['MINIGRAD_BENCH_HWM_FILE'], 'w').write(str(int(line.split()[1]) / 1024))\n"
    "atexit.register(_hwm)\n"
)


# ------------------------------------------------------------------------------ one run (worker)


def _run_minigrad(task, config, args):
    """-> (step function on a batch, decode function (src, lengths, max_len) -> tokens)."""
    import minigrad
    from minigrad import functional as F
    from minigrad import optim
    from minigrad.models import training

    minigrad.manual_seed(config.seed)
    model = training.build_model(config, task)
    model.train()
    params = list(model.parameters())
    optimizer = training.build_optimizer(config, model)

    def step(batch):
        logits = model(batch.src, batch.tgt_in, src_lengths=batch.src_lengths)
        loss = F.cross_entropy(logits, batch.tgt_out, ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(params, config.clip)
        optimizer.step()

    def decode(src, lengths, max_len):
        return training.decode(model, src, lengths, max_len)[0]

    return step, decode


def _run_torch(task, config, args):
    torch = import_torch()
    import torch_reference

    torch.manual_seed(config.seed)
    model = torch_reference.build(config.model, len(task.src_vocab), len(task.tgt_vocab))
    if args.same_init:  # start from minigrad's initial weights for this seed (its own init scheme, same values)
        import minigrad
        from minigrad.models import training

        minigrad.manual_seed(config.seed)
        torch_reference.load_minigrad_state(model, training.build_model(config, task).state_dict())
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    vocab = len(task.tgt_vocab)

    def step(batch):
        logits = model(batch.src, batch.tgt_in, src_lengths=batch.src_lengths)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(batch.tgt_out).reshape(-1),
                                                 ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()

    def decode(src, lengths, max_len):
        return torch_reference.greedy_decode(model, src, max_len, src_lengths=lengths)

    return step, decode


def sequence_accuracy(decode, task, pairs, batch_size: int) -> float:
    """Exact-sequence accuracy of greedy decodes, scored as ``models.training.evaluate`` does."""
    from minigrad import tasks

    counts = tasks.AccuracyCounts()
    for start in range(0, len(pairs), batch_size):
        batch = tasks.collate(pairs[start:start + batch_size])
        tokens = np.asarray(decode(batch.src, batch.src_lengths, task.max_tgt_len), dtype=np.int64)
        if tokens.shape[1] and (tokens[:, 0] == tasks.BOS).all():
            tokens = tokens[:, 1:]
        pred = tasks.align_predictions(tokens, batch.tgt_out.shape[1])
        counts = counts + tasks.accuracy_counts(pred, batch.tgt_out)
    return counts.sequence_accuracy


def worker(args: argparse.Namespace) -> None:
    from minigrad.models.training import TrainConfig, build_task

    started = time.perf_counter()
    config = TrainConfig(task=args.task, model=args.model, seed=args.seed).validate()
    task = build_task(config)
    step, decode = (_run_torch if args.worker == "torch" else _run_minigrad)(task, config, args)
    valid = task.split("valid")[: args.eval_size]
    stream = task.sample_batches(config.batch_size, config.seed)
    train_s, history, reached = 0.0, [], None
    loop_started = time.perf_counter()
    for n in range(1, args.max_steps + 1):
        t0 = time.perf_counter()
        step(next(stream))
        train_s += time.perf_counter() - t0
        if n % args.eval_interval == 0:
            acc = sequence_accuracy(decode, task, valid, config.batch_size)
            history.append((n, round(train_s, 3), acc))
            if acc >= args.target:
                reached = {"step": n, "train_s": train_s, "loop_wall_s": time.perf_counter() - loop_started}
                break
    report = {
        "framework": args.worker, "model": args.model, "task": args.task, "seed": args.seed, "reached": reached,
        "history": history, "process_s": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(),
        "ms_per_step": 1e3 * train_s / max(n, 1),
    }
    print("RESULT " + json.dumps(report))


def run_worker(framework: str, model: str, task: str, seed: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--models", model, "--tasks", task,
           "--seeds", str(seed), "--eval-interval", str(args.eval_interval), "--eval-size", str(args.eval_size),
           "--max-steps", str(args.max_steps), "--target", str(args.target)] + (["--same-init"] if args.same_init else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {model} {task} seed {seed} failed:\n{proc.stderr}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


# ------------------------------------------------------------------------------ the whole command


def time_command(repeats: int) -> dict:
    """Wall and CPU seconds and peak RSS of ``minigrad-train --task copy --model rnn-attn`` (warm cache)."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats + 1):  # the first run warms Numba's cache (and the OS's file cache)
            out = os.path.join(tmp, f"results{i}.json")
            hwm = os.path.join(tmp, f"hwm{i}.txt")
            cmd = [sys.executable, "-c", _HWM_AT_EXIT + "from cli.train import main; main()", *TRAIN_COMMAND,
                   "--output", out]
            errors = os.path.join(tmp, "stderr.txt")
            with open(errors, "wb") as err:
                started = time.perf_counter()
                proc = subprocess.Popen(cmd, cwd=str(_common.ROOT), stdout=subprocess.DEVNULL, stderr=err,
                                        env={**os.environ, "MINIGRAD_BENCH_HWM_FILE": hwm})
                _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time
                wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                with open(errors) as f:
                    raise RuntimeError(f"minigrad-train failed:\n{f.read()}")
            with open(out) as f:
                results = json.load(f)
            if i == 0:
                continue
            with open(hwm) as f:
                peak = float(f.read())
            runs.append({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peak,
                         "test_seq_acc": results["metrics"]["test"]["sequence_accuracy"],
                         "crossed": _crossed(results.get("history", []))})
    return {"runs": runs}


def _crossed(history: list) -> list | None:
    for record in history:
        if (record.get("valid_sequence_accuracy") or 0) >= 0.99:
            return [record["step"], record["seconds"]]
    return None


# ------------------------------------------------------------------------------ report


def _median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def summary_rows(results: list[dict], models_: list[str], tasks_: list[str]) -> list[str]:
    lines = [
        "| model | task | minigrad steps | PyTorch steps | minigrad train s | PyTorch train s | minigrad/PyTorch "
        "(train s) | minigrad ms/step | PyTorch ms/step | minigrad peak RSS MiB | PyTorch peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in models_:
        for task in tasks_:
            cell = {}
            for fw in ("minigrad", "torch"):
                runs = [r for r in results if r["framework"] == fw and r["model"] == model and r["task"] == task]
                if not runs:
                    continue
                got = [r["reached"] for r in runs]
                missed = sum(1 for g in got if g is None)
                cell[fw] = {
                    "steps": _median([g["step"] for g in got if g]), "train_s": _median([g["train_s"] for g in got if g]),
                    "ms": _median([r["ms_per_step"] for r in runs]), "rss": _median([r["peak_rss_mb"] for r in runs]),
                    "missed": missed, "n": len(runs),
                }

            def fmt(fw, key, spec):
                c = cell.get(fw)
                if c is None or c[key] is None:
                    return "-"
                text = format(c[key], spec)
                if key in ("steps", "train_s") and c["missed"]:
                    text += f" ({c['missed']}/{c['n']} not reached)"
                return text

            ratio = "-"
            if cell.get("minigrad", {}).get("train_s") and cell.get("torch", {}).get("train_s"):
                ratio = f"{cell['minigrad']['train_s'] / cell['torch']['train_s']:.2f}"
            lines.append(
                f"| {model} | {task} | {fmt('minigrad', 'steps', '.0f')} | {fmt('torch', 'steps', '.0f')} | "
                f"{fmt('minigrad', 'train_s', '.1f')} | {fmt('torch', 'train_s', '.1f')} | {ratio} | "
                f"{fmt('minigrad', 'ms', '.1f')} | {fmt('torch', 'ms', '.1f')} | {fmt('minigrad', 'rss', '.0f')} | "
                f"{fmt('torch', 'rss', '.0f')} |")
    return lines


def paired_lines(results: list[dict], models_: list[str], tasks_: list[str]) -> list[str]:
    """Per model and task, seed by seed: in how many seeds minigrad needed more/fewer steps and less time."""
    lines = []
    for model in models_:
        for task in tasks_:
            by_seed: dict[int, dict[str, dict]] = {}
            for r in results:
                if r["model"] == model and r["task"] == task and r["reached"]:
                    by_seed.setdefault(r["seed"], {})[r["framework"]] = r["reached"]
            pairs = [(p["minigrad"], p["torch"]) for p in by_seed.values() if len(p) == 2]
            if not pairs:
                continue
            more = sum(m["step"] > t["step"] for m, t in pairs)
            fewer = sum(m["step"] < t["step"] for m, t in pairs)
            faster = sum(m["train_s"] < t["train_s"] for m, t in pairs)
            lines.append(f"- {model} on {task}, seed by seed ({len(pairs)} seeds): minigrad needed more steps than "
                         f"PyTorch in {more}, fewer in {fewer}, as many in {len(pairs) - more - fewer}; it reached the "
                         f"target in less training time in {faster}.")
    return lines


def parse_seeds(text: str) -> list[int]:
    """'0,1,2' or '0-9' or '0-4,10' -> the seeds, in order."""
    seeds: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        first, dash, last = item.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise SystemExit(f"time_to_accuracy.py: --seeds: {item!r} is not a seed or a range like 0-9")
        seeds.extend(range(int(first), int(last or first) + 1))
    if not seeds:
        raise SystemExit(f"time_to_accuracy.py: --seeds: no seeds in {text!r}")
    return seeds


def command_lines(cmd: dict) -> list[str]:
    runs = cmd["runs"]
    wall, cpu, rss = (_median([r[k] for r in runs]) for k in ("wall_s", "cpu_s", "peak_rss_mb"))
    crossed = [r["crossed"] for r in runs if r["crossed"]]
    out = [
        f"`minigrad-train --task copy --model rnn-attn` (500 steps, validation every 100, final evaluation of "
        f"train/valid/test; warm Numba cache; median of {len(runs)} runs): {wall:.1f} s wall from launch to the "
        f"final table, {cpu:.1f} s CPU, peak RSS {rss:.0f} MiB; test exact-sequence accuracy "
        f"{', '.join(format(r['test_seq_acc'], '.3f') for r in runs)}. Target: < 30 s wall.",
    ]
    if crossed:
        out.append(f"Its validation crossed 99% exact-sequence accuracy at step {crossed[0][0]} "
                   f"({crossed[0][1]:.1f} s of training time as the run reports it, validation included).")
    return out


def reproduce_command(args: argparse.Namespace) -> str:
    """The command line that reruns this measurement (the options that change what is measured)."""
    parts = ["python benchmarks/time_to_accuracy.py"]
    for option, default in (("models", "rnn-attn,transformer"), ("tasks", "copy,reverse"), ("seeds", "0,1,2")):
        if getattr(args, option) != default:
            parts.append(f"--{option} {getattr(args, option)}")
    parts += [flag for flag, on in (("--same-init", args.same_init), ("--command", args.command)) if on]
    return " ".join(parts + ["--write-results"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="rnn-attn,transformer", help="comma-separated model names")
    parser.add_argument("--tasks", default="copy,reverse", help="comma-separated task names")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds or ranges (0,1,2 or 0-9)")
    parser.add_argument("--eval-interval", type=int, default=25, help="validate every N steps (default 25)")
    parser.add_argument("--eval-size", type=int, default=500, help="validation examples (default 500)")
    parser.add_argument("--max-steps", type=int, default=3000, help="give up after N steps (default 3000)")
    parser.add_argument("--target", type=float, default=0.99, help="exact-sequence accuracy to reach (default 0.99)")
    parser.add_argument("--no-torch", action="store_true", help="minigrad only")
    parser.add_argument("--same-init", action="store_true",
                        help="PyTorch starts from minigrad's initial weights (separates speed from the luck of the draw)")
    parser.add_argument("--command", action="store_true", help="also time the whole default minigrad-train command")
    parser.add_argument("--command-only", action="store_true", help="only time the minigrad-train command")
    parser.add_argument("--command-repeats", type=int, default=3, help="timed runs of the command (default 3)")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the raw numbers as JSON")
    parser.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--worker", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    models_ = [m for m in args.models.split(",") if m]
    tasks_ = [t for t in args.tasks.split(",") if t]
    seeds = parse_seeds(args.seeds)

    if args.worker:
        args.model, args.task, args.seed = models_[0], tasks_[0], seeds[0]
        worker(args)
        return

    with_torch = not args.no_torch and import_torch() is not None
    machine = machine_lines()
    print("\n".join(machine))
    report: dict = {"machine": machine}
    lines: list[str] = []
    if not args.command_only:
        results = []
        for i, seed in enumerate(seeds):
            for task in tasks_:
                for model in models_:
                    order = ["minigrad", "torch"] if with_torch else ["minigrad"]
                    for fw in (order if i % 2 == 0 else order[::-1]):
                        r = run_worker(fw, model, task, seed, args)
                        results.append(r)
                        got = r["reached"]
                        print(f"{fw:8s} {model:12s} {task:8s} seed {seed}: "
                              + (f"step {got['step']}, {got['train_s']:.1f} s training" if got else
                                 f"not reached in {args.max_steps} steps")
                              + f", {r['ms_per_step']:.1f} ms/step, peak RSS {r['peak_rss_mb']:.0f} MiB", flush=True)
        lines = summary_rows(results, models_, tasks_)
        paired = paired_lines(results, models_, tasks_)
        if paired:
            lines += [""] + paired
        print("\n".join([""] + lines))
        report["runs"] = results
    cmd_lines: list[str] = []
    if args.command or args.command_only:
        cmd = time_command(args.command_repeats)
        cmd_lines = command_lines(cmd)
        print("\n" + "\n".join(cmd_lines))
        report["command"] = cmd
    if args.write_results:
        note = (f"Reproduce: `{reproduce_command(args)}` (seeds {args.seeds}; validation on the first {args.eval_size} validation "
                f"examples every {args.eval_interval} steps; target {args.target} exact-sequence accuracy; medians "
                "over the seeds; train s = forward, backward, clip, update and batching, validation excluded). "
                "Both libraries train the same architecture on the same batches (`task.sample_batches(64, seed)`).")
        body = machine + ["", note, ""]
        if lines:
            body += lines + [""]
        body += cmd_lines
        replace_block("time_to_accuracy.py", "Time to accuracy", "\n".join(body))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
