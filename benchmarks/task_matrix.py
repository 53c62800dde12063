"""Every seq2seq model on every synthetic task, at default settings, through the CLI.

Usage (from the repository root, with the package installed: ``pip install -e .``):

    python benchmarks/task_matrix.py                         # the full matrix; prints the table
    python benchmarks/task_matrix.py --write                 # also rewrite "## Tasks x models" in RESULTS.md
    python benchmarks/task_matrix.py --models rnn,encoder --tasks copy,dates
    python benchmarks/task_matrix.py --seed 3 --nice 0 --results-dir runs/   # keep every results.json
    python benchmarks/task_matrix.py --from-json runs/matrix.json --write   # re-render, no training

Each pair is one subprocess ``minigrad-train --task T --model M --seed S --quiet --output
FILE`` (the command installed next to this Python, else the one on PATH): no
hyper-parameter is given, so the run uses the library defaults, 500 steps included, exactly
as a user typing the command would. The table reports, from each ``results.json``: the test
exact-sequence accuracy (``metrics.test.sequence_accuracy``), the test token accuracy
(``metrics.test.token_accuracy``), the optimizer steps (``steps``) and the wall seconds of
the run (``wall_seconds``: training, validation and the final evaluation, without the
process's start-up).

A pair the model cannot do (the CLI exits with status 2 and one ``Error:`` line, e.g. the
``encoder`` gives one output per source position, so not ``dates``) is reported as "n/a"
with that line as the reason; any other failure as "failed" with the last line of stderr.
Nothing is skipped silently.

The subprocesses run one at a time, single-threaded (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
MKL_NUM_THREADS and NUMBA_NUM_THREADS set to ``--threads``, default 1) and under ``nice -n
10`` (``--nice``) so that a shared machine stays usable; the load average is recorded with
the table because it inflates the wall seconds. The same seed and thread count give the
same accuracies (``results.json`` is deterministic); only the seconds move.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Tasks x models"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helper modules
import results_md  # noqa: E402
SCRIPT = "benchmarks/task_matrix.py"

TASKS = ("copy", "reverse", "sort", "dates")
EXCLUDED_MODELS = ("lm",)  # the decoder-only language model has no seq2seq task
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
WEAK_BELOW = 0.90  # test exact-sequence accuracy under which a pair is listed as weak
DEFAULT_NICE = 10
DEFAULT_TIMEOUT = 3600.0  # seconds per run

OK, NA, FAILED = "ok", "n/a", "failed"


# ------------------------------------------------------------------------------ one run


@dataclass
class Row:
    """One model/task pair: ``status`` ok | n/a | failed; metrics None unless ok."""

    model: str
    task: str
    status: str
    sequence_accuracy: float | None = None
    token_accuracy: float | None = None
    steps: int | None = None
    wall_seconds: float | None = None
    process_seconds: float | None = None  # the whole subprocess, start-up included
    reason: str = ""


def default_models() -> list[str]:
    """``models.names()`` without the language model."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from minigrad import models

    return [name for name in models.names() if name not in EXCLUDED_MODELS]


def find_cli() -> str:
    """``minigrad-train`` installed next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "minigrad-train"
    if beside.exists():
        return str(beside)
    found = shutil.which("minigrad-train")
    if found is None:
        raise SystemExit("minigrad-train not found: install the package (pip install -e .) or pass --cli PATH")
    return found


def train_command(cli: str, model: str, task: str, seed: int, output: str, nice: int = 0) -> list[str]:
    """The argv of one run: no hyper-parameter, so every default applies."""
    argv = [cli, "--task", task, "--model", model, "--seed", str(seed), "--quiet", "--output", output]
    return (["nice", "-n", str(nice)] + argv) if nice else argv


def run_env(threads: int = 1, base: dict[str, str] | None = None) -> dict[str, str]:
    """The subprocess environment: ``threads`` for every thread pool; MINIGRAD_SEED dropped
    (the seed is always given on the command line)."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.pop("MINIGRAD_SEED", None)
    return env


def parse_results(doc: dict[str, Any]) -> dict[str, Any]:
    """The four reported numbers of a results.json document.

    ``steps`` is the document's ``steps`` when present, else the last history record's step,
    else the config's ``steps``. ValueError when the document lacks test metrics.
    """
    if not isinstance(doc, dict):
        raise ValueError("results.json is not a JSON object")
    test = (doc.get("metrics") or {}).get("test")
    if not isinstance(test, dict):
        raise ValueError("results.json has no metrics.test")
    steps = doc.get("steps")
    if steps is None and doc.get("history"):
        steps = doc["history"][-1].get("step")
    if steps is None:
        steps = (doc.get("config") or {}).get("steps")
    wall = doc.get("wall_seconds")
    return {
        "sequence_accuracy": _maybe_float(test.get("sequence_accuracy")),
        "token_accuracy": _maybe_float(test.get("token_accuracy")),
        "steps": None if steps is None else int(steps),
        "wall_seconds": _maybe_float(wall),
    }


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)


def error_line(stderr: str) -> str:
    """The CLI's one-line error (``Error: ...``, prefix removed), else the last non-empty line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Error:"):
            return line[len("Error:"):].strip()
    return lines[-1] if lines else "no error message"


def row_from_run(model: str, task: str, returncode: int, stderr: str, results_path: str | Path | None,
                 process_seconds: float | None = None) -> Row:
    """Turn one finished subprocess into a Row.

    Exit status 2 is the CLI's "bad input" (the model cannot do the task): n/a with the
    error line. Any other non-zero status, or a missing/unreadable results file: failed.
    """
    if returncode == 2:
        return Row(model, task, NA, reason=error_line(stderr), process_seconds=process_seconds)
    if returncode != 0:
        return Row(model, task, FAILED, reason=f"exit status {returncode}: {error_line(stderr)}",
                   process_seconds=process_seconds)
    try:
        with open(results_path) as f:  # type: ignore[arg-type]
            numbers = parse_results(json.load(f))
    except (OSError, TypeError, ValueError) as err:
        return Row(model, task, FAILED, reason=f"unreadable results.json: {err}", process_seconds=process_seconds)
    return Row(model, task, OK, process_seconds=process_seconds, **numbers)


def run_pair(cli: str, model: str, task: str, seed: int, out_dir: Path, nice: int = DEFAULT_NICE,
             threads: int = 1, timeout: float = DEFAULT_TIMEOUT) -> Row:
    """Train ``model`` on ``task`` in a subprocess and read its results.json."""
    output = out_dir / f"{model}__{task}__seed{seed}.json"
    if output.exists():
        output.unlink()
    argv = train_command(cli, model, task, seed, str(output), nice)
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, env=run_env(threads), capture_output=True, text=True, timeout=timeout,
                              cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return Row(model, task, FAILED, reason=f"timed out after {timeout:g} s",
                   process_seconds=time.perf_counter() - started)
    return row_from_run(model, task, proc.returncode, proc.stderr, output, time.perf_counter() - started)


# ------------------------------------------------------------------------------ reporting


def _pct(value: float | None) -> str:
    """A percentage with two decimals, rounded down so that 100.00% means every example."""
    if value is None:
        return "-"
    return f"{math.floor(value * 10000 + 1e-6) / 100:.2f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def cells(row: Row, mark: int | None = None) -> list[str]:
    """The table cells of a row: model, task, exact-seq acc, token acc, steps, wall s, note.

    A row without metrics (n/a, failed) shows its status; its note is ``[mark]``, the number
    of the footnote holding the reason (the reason itself when ``mark`` is None)."""
    if row.status != OK:
        note = row.reason if mark is None else f"[{mark}] {'refused by the CLI' if row.status == NA else 'run failed'}, see below"
        return [row.model, row.task, row.status, row.status, row.status, row.status, note]
    weak = row.sequence_accuracy is not None and row.sequence_accuracy < WEAK_BELOW
    note = f"weak (< {100 * WEAK_BELOW:.0f}% exact)" if weak else ""
    return [row.model, row.task, _pct(row.sequence_accuracy), _pct(row.token_accuracy),
            "-" if row.steps is None else str(row.steps), _secs(row.wall_seconds), note]


HEADER = ["model", "task", "test exact-seq acc", "test token acc", "steps", "wall s", "note"]
RIGHT = {2, 3, 4, 5}


def markdown_table(header: Sequence[str], body: Iterable[Sequence[str]], right: set[int] = frozenset()) -> str:
    """A padded Markdown table; columns in ``right`` are right-aligned."""
    body = [list(r) for r in body]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]

    def line(values: Sequence[str]) -> str:
        parts = [str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in body])


def results_table(rows: Sequence[Row]) -> str:
    """One line per model/task pair, in the order run, then one footnote per pair without
    metrics: ``[n] model on task (n/a|failed): reason`` (for n/a, the CLI's one-line error)."""
    body, notes = [], []
    for r in rows:
        if r.status == OK:
            body.append(cells(r))
            continue
        notes.append(f"[{len(notes) + 1}] {r.model} on {r.task} ({r.status}"
                     f"{', the CLI exits with status 2' if r.status == NA else ''}): {r.reason}")
        body.append(cells(r, len(notes)))
    table = markdown_table(HEADER, body, RIGHT)
    return table + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "")


def accuracy_grid(rows: Sequence[Row]) -> str:
    """Test exact-sequence accuracy, models down, tasks across ("n/a"/"failed" where no run)."""
    models_, tasks_ = _unique(r.model for r in rows), _unique(r.task for r in rows)
    by_pair = {(r.model, r.task): r for r in rows}
    body = []
    for m in models_:
        line = [m]
        for t in tasks_:
            r = by_pair.get((m, t))
            line.append("" if r is None else (_pct(r.sequence_accuracy) if r.status == OK else r.status))
        body.append(line)
    return markdown_table(["model"] + tasks_, body, set(range(1, len(tasks_) + 1)))


def _unique(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def weak_pairs(rows: Sequence[Row], below: float = WEAK_BELOW) -> list[Row]:
    """Runs that finished with a test exact-sequence accuracy under ``below``."""
    return [r for r in rows if r.status == OK and r.sequence_accuracy is not None and r.sequence_accuracy < below]


def machine_description(threads: int = 1) -> list[str]:
    """Markdown bullets: CPU model and cores, Python/NumPy/Numba versions, threads."""
    cpu, cores = platform.processor() or "unknown CPU", os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                cpu = value.strip()
            elif key.strip() == "CPU(s)":
                cores = int(value.strip()) if value.strip().isdigit() else cores
    except (OSError, subprocess.CalledProcessError):
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        f"- CPU: {cpu}, {cores} logical cores (a shared machine: other jobs ran alongside)",
        f"- Python {platform.python_version()}, NumPy {version('numpy')}, Numba {version('numba')}",
        f"- Each run single-process, {threads} thread ({', '.join(THREAD_VARS)}={threads}), runs one after another",
    ]


def load_text(loads: Sequence[float]) -> str:
    """'a-b' range of 1-minute load averages (or one value)."""
    if not loads:
        return "unknown"
    lo, hi = min(loads), max(loads)
    return f"{lo:.1f}" if math.isclose(lo, hi, abs_tol=0.05) else f"{lo:.1f}-{hi:.1f}"


def reproduce_command(models_: Sequence[str], tasks_: Sequence[str], seed: int, nice: int, threads: int,
                      all_models: Sequence[str]) -> str:
    """The command line that reproduces a table (non-default options only)."""
    parts = ["python", SCRIPT]
    if list(models_) != list(all_models):
        parts += ["--models", ",".join(models_)]
    if list(tasks_) != list(TASKS):
        parts += ["--tasks", ",".join(tasks_)]
    if seed:
        parts += ["--seed", str(seed)]
    if nice != DEFAULT_NICE:
        parts += ["--nice", str(nice)]
    if threads != 1:
        parts += ["--threads", str(threads)]
    return " ".join(shlex.quote(p) for p in parts + ["--write"])


@dataclass
class RunInfo:
    """What the section says about how the table was made."""

    command: str
    seed: int = 0
    nice: int = DEFAULT_NICE
    machine: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)  # 1-minute load average before each run
    load_after: tuple[float, float, float] | None = None
    total_seconds: float | None = None
    date: str = ""


def section_text(rows: Sequence[Row], info: RunInfo) -> str:
    """The whole "## Tasks x models" section (heading included, ending with a newline)."""
    cli_line = "`minigrad-train --task T --model M --seed {} --quiet --output FILE`".format(info.seed)
    nice = f" under `nice -n {info.nice}`" if info.nice else ""
    out = [
        SECTION,
        "",
        f"Reproduce: `{info.command}` (from the repository root, with the package installed). Each pair is one "
        f"subprocess {cli_line}{nice}, with no other option: every hyper-parameter at its default (500 steps, "
        "Adam lr 1e-3 with cosine decay, batch 64, clip 1.0, the model's default sizes). Accuracies are on the test "
        "split (greedy decoding): exact-sequence = the whole output equals the target; token = positions right. "
        "Wall s is the run's `wall_seconds` (training, validation, final evaluation; not the process start-up). "
        "The same seed and thread count give the same accuracies; the seconds depend on the machine's load.",
        "",
    ]
    out += info.machine
    after = "" if info.load_after is None else f"; {', '.join(f'{x:.1f}' for x in info.load_after)} (1, 5, 15 min) at the end"
    total = "" if info.total_seconds is None else f"; whole matrix {info.total_seconds / 60:.1f} min"
    when = f"{info.date}: " if info.date else ""
    out.append(f"- {when}1-minute load average {load_text(info.loads)} at the start of the runs{after}{total}")
    out += ["", results_table(rows), "", "Test exact-sequence accuracy at a glance:", "", accuracy_grid(rows), ""]
    weak = weak_pairs(rows)
    if weak:
        listed = "; ".join(f"{r.model} on {r.task} {_pct(r.sequence_accuracy)}" for r in weak)
        out.append(f"- Weak at default settings (test exact-sequence accuracy below {100 * WEAK_BELOW:.0f}%): {listed}. "
                   "These are the default runs as they are; no setting was tuned for this table.")
    else:
        out.append(f"- Every run reached at least {100 * WEAK_BELOW:.0f}% test exact-sequence accuracy at default settings.")
    return "\n".join(out) + "\n"


def replace_section(text: str, section: str, heading: str = SECTION) -> str:
    """``text`` with the ``heading`` section replaced by ``section`` (or appended)."""
    return results_md.replace_section(text, section, heading)


def write_section(section: str, path: Path = RESULTS) -> None:
    """Rewrite the section in ``path`` atomically."""
    results_md.write_section(section, SECTION, path)


def save_run(path: Path, rows: Sequence[Row], info: RunInfo) -> None:
    """Write the rows and the run description as JSON (``--from-json`` renders it again)."""
    doc = {"rows": [asdict(r) for r in rows], "info": asdict(info)}
    path.write_text(json.dumps(doc, indent=1) + "\n")


def load_run(path: Path) -> tuple[list[Row], RunInfo]:
    """The inverse of ``save_run``."""
    doc = json.loads(Path(path).read_text())
    info = dict(doc["info"])
    if info.get("load_after") is not None:
        info["load_after"] = tuple(info["load_after"])
    return [Row(**r) for r in doc["rows"]], RunInfo(**info)


# ------------------------------------------------------------------------------ main


def _names(value: str, what: str) -> list[str]:
    """A comma-separated list of names (checked by the CLI itself: a bad name is a row's error)."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no {what} given")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=lambda v: _names(v, "models"), default=None,
                   help="comma-separated models (default: every model but lm)")
    p.add_argument("--tasks", type=lambda v: _names(v, "tasks"), default=list(TASKS),
                   help=f"comma-separated tasks (default: {','.join(TASKS)})")
    p.add_argument("--seed", type=int, default=0, help="--seed of every run (default 0, the CLI's default)")
    p.add_argument("--write", action="store_true", help=f"replace the '{SECTION}' section of benchmarks/RESULTS.md")
    p.add_argument("--nice", type=int, default=DEFAULT_NICE, help="niceness of the runs (0: no nice; default 10)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/Numba threads of the runs (default 1)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds allowed per run")
    p.add_argument("--cli", default=None, help="the minigrad-train executable (default: next to this Python)")
    p.add_argument("--results-dir", default=None,
                   help="keep every run's results.json, and matrix.json (all rows), here (default: a temp dir)")
    p.add_argument("--from-json", type=Path, default=None, metavar="MATRIX_JSON",
                   help="no training: render (and with --write, write) the table of a saved matrix.json")
    p.add_argument("--results-file", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    if args.from_json is not None:
        rows, info = load_run(args.from_json)
        return _report(rows, info, args)
    all_models = default_models()
    models_ = args.models or all_models
    cli = args.cli or find_cli()
    if args.nice and shutil.which("nice") is None:
        print("nice not found: running at normal priority", file=sys.stderr)
        args.nice = 0
    command = reproduce_command(models_, args.tasks, args.seed, args.nice, args.threads, all_models)
    info = RunInfo(command=command, seed=args.seed, nice=args.nice, machine=machine_description(args.threads),
                   date=time.strftime("%Y-%m-%d"))
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="task_matrix_") as tmp:
        out_dir = Path(args.results_dir) if args.results_dir else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        pairs = [(m, t) for m in models_ for t in args.tasks]
        for i, (model, task) in enumerate(pairs, 1):
            info.loads.append(os.getloadavg()[0])
            print(f"[{i}/{len(pairs)}] {model} on {task} (load {info.loads[-1]:.1f}) ...", end=" ", file=sys.stderr,
                  flush=True)
            row = run_pair(cli, model, task, args.seed, out_dir, nice=args.nice, threads=args.threads,
                           timeout=args.timeout)
            rows.append(row)
            shown = (f"exact {_pct(row.sequence_accuracy)}, token {_pct(row.token_accuracy)}, "
                     f"{_secs(row.wall_seconds)} s") if row.status == OK else f"{row.status}: {row.reason}"
            print(shown, file=sys.stderr, flush=True)
        info.total_seconds = time.perf_counter() - started
        info.load_after = os.getloadavg()
        save_run(out_dir / "matrix.json", rows, info)
    return _report(rows, info, args)


def _report(rows: list[Row], info: RunInfo, args: argparse.Namespace) -> list[Row]:
    section = section_text(rows, info)
    print(section)
    if args.write:
        write_section(section, args.results_file)
        print(f"wrote '{SECTION}' in {args.results_file}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
