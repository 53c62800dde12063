"""Shared by the end-to-end benchmarks (``train_step.py``, ``time_to_accuracy.py``).

Import this module FIRST: it pins every thread pool to one thread before NumPy, Numba or
PyTorch is imported (on a machine shared with other jobs, BLAS threads make the small matrix
products of these models many times slower), so minigrad and PyTorch are compared
single-threaded. ``MINIGRAD_BENCH_THREADS=N`` overrides the count for both.
"""

from __future__ import annotations

import os
import sys

THREADS = os.environ.get("MINIGRAD_BENCH_THREADS", "1")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = THREADS

import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
RESULTS = HERE / "RESULTS.md"

PAD, BOS, EOS = 0, 1, 2
COPY_VOCAB = 14  # the copy task's default: 10 symbols + PAD, BOS, EOS, UNK

MODELS = ("rnn-attn", "rnn", "rnn-luong", "transformer", "lm")
DEFAULT_MODELS = ("rnn-attn", "transformer", "lm")  # the rows the training-step table reports

# seq2seq models: name -> (batch, length, {model family -> hyper-parameters})
SIZES: dict[str, tuple[int, int, dict[str, dict[str, int]]]] = {
    "default": (64, 10, {"rnn": {}, "transformer": {}}),
    "width256": (64, 10, {"rnn": {"hidden_dim": 256}, "transformer": {"d_model": 256, "ff_dim": 1024}}),
    "len32": (64, 32, {"rnn": {}, "transformer": {}}),
    "batch128": (128, 10, {"rnn": {}, "transformer": {}}),
}
# lm: name -> (batch, block, hyper-parameters). "default" is what ``minigrad-train --task text
# --model lm`` trains (batch 64, windows of block_size 64, LMConfig: d_model 64, 4 heads, ff 256,
# 2 layers, tied embeddings); width256 widens the model AND its context to 256; len32 is the
# shorter context (block 32), batch128 the larger batch, each the default otherwise.
LM_SIZES: dict[str, tuple[int, int, dict[str, int]]] = {
    "default": (64, 64, {}),
    "width256": (64, 256, {"d_model": 256, "ff_dim": 1024}),
    "len32": (64, 32, {}),
    "batch128": (128, 64, {}),
}
# The vocabulary of the lm rows: the character vocabulary (specials included) of benchmarks/lm_text.py's
# corpus of Python source, what ``--task text`` builds from such a file. Batches are random ids.
LM_VOCAB = 163
SIZE_LABELS = {
    "default": "B 64, L 10, width 128 / d 64; lm: B 64, block 64, d 64",
    "width256": "B 64, L 10, hidden 256 / d 256 (ff 1024); lm: B 64, block 256, d 256 (ff 1024)",
    "len32": "B 64, L 32; lm: B 64, block 32",
    "batch128": "B 128, L 10; lm: B 128, block 64",
}


def hyper_for(model: str, size: str) -> dict[str, int]:
    """Model hyper-parameters of a benchmark size (``models.build`` keyword arguments)."""
    if model == "lm":
        _, block, hyper = LM_SIZES[size]
        return {**hyper, "block_size": block}
    return dict(SIZES[size][2]["transformer" if model == "transformer" else "rnn"])


def batch_dims(model: str, size: str) -> tuple[int, int]:
    """(batch, length) of a benchmark size: the source length L (targets are L + 1 tokens) or,
    for ``lm``, the block of tokens per window."""
    batch, length, _ = LM_SIZES[size] if model == "lm" else SIZES[size]
    return batch, length


def vocab_for(model: str) -> int:
    return LM_VOCAB if model == "lm" else COPY_VOCAB


def import_torch() -> Any:
    """PyTorch limited to one thread (``THREADS``), or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(THREADS))
    try:
        torch.set_num_interop_threads(int(THREADS))
    except RuntimeError:  # already set in this process
        pass
    return torch


def set_threads(n: int) -> None:
    """Run minigrad (NumPy's BLAS, ``minigrad.blas``) and PyTorch (when loaded) on ``n`` threads
    from now on. minigrad's Numba kernels are single-threaded (no ``parallel=True``)."""
    import minigrad

    minigrad.blas.set_num_threads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


# ------------------------------------------------------------------------------ data


def copy_batch(batch: int, length: int, vocab: int = COPY_VOCAB, seed: int = 0) -> dict[str, np.ndarray]:
    """A full-length copy-task batch: src (B, L) symbols, tgt_in = BOS + src (B, L+1),
    tgt_out = src + EOS (B, L+1), src_lengths (B,) all L."""
    rng = np.random.default_rng(seed)
    src = rng.integers(4, vocab, size=(batch, length)).astype(np.int64)
    tgt_in = np.concatenate([np.full((batch, 1), BOS, np.int64), src], axis=1)
    tgt_out = np.concatenate([src, np.full((batch, 1), EOS, np.int64)], axis=1)
    return {"src": src, "tgt_in": tgt_in, "tgt_out": tgt_out, "src_lengths": np.full(batch, length, np.int64)}


def text_batch(batch: int, block: int, vocab: int = LM_VOCAB, seed: int = 0) -> dict[str, np.ndarray]:
    """A language-modelling batch as the text task yields it: windows of ``block + 1`` random
    ordinary ids (4..vocab-1), x the first ``block`` (B, block), y the same shifted by one."""
    rng = np.random.default_rng(seed)
    window = rng.integers(4, vocab, size=(batch, block + 1)).astype(np.int64)
    return {"x": window[:, :-1].copy(), "y": window[:, 1:].copy()}


# ------------------------------------------------------------------------------ one training step


class _Step:
    """One full training step of ``model`` on a fixed ``batch``: forward, loss, backward,
    gradient clipping, optimizer update. A subclass builds the model and optimizer of its
    library and gives ``loss_of`` and ``clip_gradients``."""

    name: str
    batch: dict

    def logits(self):
        b = self.batch
        if self.name == "lm":
            return self.model(b["x"])
        return self.model(b["src"], b["tgt_in"], src_lengths=b["src_lengths"])

    def step(self) -> float:
        loss = self.loss_of(self.logits())
        self.optimizer.zero_grad()
        loss.backward()
        self.clip_gradients()
        self.optimizer.step()
        return loss.item()


class MinigradStep(_Step):
    """A minigrad model, Adam (lr 1e-3) and one full training step: forward, cross-entropy
    (PAD ignored; ``lm``: every position, as the text objective), backward,
    ``clip_grad_norm_`` (1.0), ``Adam.step``."""

    framework = "minigrad"

    def __init__(self, model: str, hyper: dict, batch: dict[str, np.ndarray], seed: int = 0, lr: float = 1e-3,
                 clip: float = 1.0):
        import minigrad
        from minigrad import models
        from minigrad import functional as F
        from minigrad import optim

        minigrad.manual_seed(seed)
        self.name, self.vocab = model, vocab_for(model)
        self.model = (models.build(model, self.vocab, **hyper) if model == "lm"
                      else models.build(model, self.vocab, self.vocab, **hyper))
        self.model.train()
        self.params = list(self.model.parameters())
        self.optimizer = optim.Adam(self.params, lr=lr)
        self.batch, self.clip = batch, clip
        self._F, self._optim = F, optim

    def num_parameters(self) -> int:
        return int(sum(p.data.size for p in self.params))

    def loss_of(self, logits):
        if self.name == "lm":
            return self._F.cross_entropy(logits, self.batch["y"])
        return self._F.cross_entropy(logits, self.batch["tgt_out"], ignore_index=PAD)

    def clip_gradients(self) -> None:
        self._optim.clip_grad_norm_(self.params, self.clip)


class TorchStep(_Step):
    """The same step in PyTorch (``torch_reference``): ``torch.optim.Adam`` and
    ``torch.nn.utils.clip_grad_norm_`` with their defaults."""

    framework = "torch"

    def __init__(self, model: str, hyper: dict, batch: dict[str, np.ndarray], seed: int = 0, lr: float = 1e-3,
                 clip: float = 1.0):
        torch = import_torch()
        if torch is None:
            raise RuntimeError("PyTorch is not installed")
        import torch_reference

        torch.manual_seed(seed)
        self.torch, self.name, self.vocab = torch, model, vocab_for(model)
        self.model = torch_reference.build(model, self.vocab, self.vocab, **hyper)
        self.model.train()
        self.lr = lr
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.batch = {k: torch.from_numpy(v) for k, v in batch.items()}
        self.clip = clip

    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))

    def load_weights(self, other: MinigradStep) -> None:
        """Start from ``other``'s current weights (same names, see ``torch_reference``), fresh Adam."""
        import torch_reference

        torch_reference.load_minigrad_state(self.model, other.model.state_dict())
        self.optimizer = self.torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def loss_of(self, logits):
        target = self.batch["y"] if self.name == "lm" else self.batch["tgt_out"]
        return self.torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), target.reshape(-1),
                                                      ignore_index=-100 if self.name == "lm" else PAD)

    def clip_gradients(self) -> None:
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)


def make_step(framework: str, model: str, size: str, seed: int = 0) -> MinigradStep | TorchStep:
    """The training step of ``framework`` ("minigrad" | "torch") for a model and benchmark size."""
    batch, length = batch_dims(model, size)
    data = text_batch(batch, length, seed=seed) if model == "lm" else copy_batch(batch, length, seed=seed)
    cls = MinigradStep if framework == "minigrad" else TorchStep
    return cls(model, hyper_for(model, size), data, seed=seed)


def same_model_check(ours: MinigradStep, theirs: TorchStep, rtol: float = 1e-4) -> dict[str, float]:
    """Load ``ours``' initial weights into ``theirs`` and check that both have the same number of
    parameters and the same initial loss on the benchmark batch (RuntimeError otherwise), so
    the timed steps are the same computation. Returns {"parameters", "loss", "torch_loss"}."""
    if ours.num_parameters() != theirs.num_parameters():
        raise RuntimeError(f"{ours.name}: minigrad has {ours.num_parameters():,} parameters, the PyTorch reference "
                           f"{theirs.num_parameters():,}; the benchmark would compare different models")
    theirs.load_weights(ours)
    import minigrad

    with minigrad.no_grad():
        loss = float(ours.loss_of(ours.logits()).data)
    with theirs.torch.no_grad():
        torch_loss = float(theirs.loss_of(theirs.logits()))
    if not abs(loss - torch_loss) <= rtol * abs(torch_loss):
        raise RuntimeError(f"{ours.name}: initial loss {loss:.6f} (minigrad) != {torch_loss:.6f} (PyTorch) from the "
                           "same weights; the benchmark would compare different computations")
    return {"parameters": ours.num_parameters(), "loss": loss, "torch_loss": torch_loss}


# ------------------------------------------------------------------------------ measuring


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def rss_mb() -> float:
    """Current resident set size of this process, MiB (from /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this program's own memory.
    Not ``getrusage``'s ``ru_maxrss``, which Linux carries over from the parent across fork
    and exec, so a worker would report the memory of the parent that started it (PyTorch's,
    say) instead of its own.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


# ------------------------------------------------------------------------------ reporting


def cpu_model() -> str:
    """The CPU's model name (from lscpu on Linux), else what ``platform`` knows."""
    cpu = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return cpu


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (what ``uptime`` prints), e.g. "1.2, 0.9, 0.7"."""
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_lines() -> list[str]:
    """Markdown bullet lines describing the machine and the library versions."""
    cpu = cpu_model()
    load = load_average()
    import numba

    torch = import_torch()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, shared with other jobs (load average at the start: {load})",
        f"- Threads: {THREADS} for every library ({', '.join(THREAD_VARS)} set before any import; "
        f"torch.set_num_threads({THREADS}))",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
        f"PyTorch {torch.__version__ if torch is not None else 'not installed'}",
    ]


def replace_block(name: str, heading: str, body: str, path: Path = RESULTS) -> None:
    """Put ``body`` between the markers of block ``name`` inside section ``## heading`` of RESULTS.md.

    Only the text between ``<!-- name: begin -->`` and ``<!-- name: end -->`` is replaced, so
    hand-written notes in the same section (profiles, the optimisation log) survive a rerun.
    A missing section is appended at the end of the file, a missing block goes right under
    its section's heading. Sections are found as ``results_md`` finds them (headings inside
    fenced code do not count); the file is replaced atomically.
    """
    from results_md import _section_bounds

    begin, end = f"<!-- {name}: begin -->", f"<!-- {name}: end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        new = head + block + rest.split(end, 1)[1]
    else:
        lines = text.splitlines(keepends=True)
        bounds = _section_bounds(lines, f"## {heading}")
        if bounds is None:
            new = text.rstrip("\n") + f"\n\n## {heading}\n\n{block}\n"
        else:
            at = bounds[0] + 1
            new = "".join(lines[:at]) + f"\n{block}\n" + "".join(lines[at:])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
