"""Rich output: the training progress bar, metric tables, attention heatmaps, history charts.

Imported only by command functions (Rich and the library are not needed for ``--help``).
"""

from __future__ import annotations

import collections
import math
import time
from typing import Any, Sequence

from rich.console import Console, Group
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from minigrad.models.training import Callback, train_loss_label

SPARK = "▁▂▃▄▅▆▇█"
SHADES = " ░▒▓█"


def percent(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def number(value: Any, digits: int = 4) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def eval_line(record: dict[str, Any], train_steps: int) -> str:
    """One line per validation: step, losses, accuracies. ``train_steps``: the steps whose
    mean loss is the record's ``train_loss`` (those since the previous validation)."""
    loss = lambda v: "—" if v is None else f"{v:.3g}"  # noqa: E731
    parts = [f"step {record['step']:>5}"]
    if record.get("train_loss") is not None:
        parts.append(f"{train_loss_label(train_steps)} {loss(record['train_loss'])}")
    parts.append(f"valid loss {loss(record.get('valid_loss'))}")
    if record.get("valid_bits_per_token") is not None:
        parts.append(f"bits/token {record['valid_bits_per_token']:.3f}")
    parts.append(f"token acc {percent(record.get('valid_token_accuracy'))}")
    if record.get("valid_sequence_accuracy") is not None:
        parts.append(f"seq acc {percent(record['valid_sequence_accuracy'])}")
    return "  ".join(parts)


class TimeColumn(ProgressColumn):
    """"ETA 0:01:23" while a task runs; "took 0:04:56" once it is done or was stopped
    before its total (training that stopped early has no time left to estimate)."""

    def __init__(self) -> None:
        super().__init__()
        self.elapsed, self.remaining = TimeElapsedColumn(), TimeRemainingColumn()

    def render(self, task: Task) -> Text:
        if task.finished or task.stop_time is not None:
            return Text.assemble("took ", self.elapsed.render(task), no_wrap=True)
        return Text.assemble("ETA ", self.remaining.render(task), no_wrap=True)


class ProgressCallback(Callback):
    """Rich progress: the training bar (step, loss EMA, target tokens/s, time), a line per
    validation, then one bar per split of the final evaluation (examples done of total).

    The training bar keeps the numbers it ended with: the final evaluation gets bars of its own.
    """

    EMA_WEIGHT = 0.05  # of the newest step in the bar's smoothed loss

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bar: Any = None
        self.eval_bars: dict[str, Any] = {}
        self.loss: float | None = None
        self.rate = "—"
        self.window: collections.deque = collections.deque(maxlen=50)
        self.validated_step = 0  # where the steps of the next validation's mean train loss begin

    def on_train_start(self, trainer) -> None:
        self.progress = Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.bar = self.progress.add_task("train", total=trainer.total_steps, completed=trainer.step,
                                          stats=self._train_stats())
        self.window.append((time.perf_counter(), 0))
        self.validated_step = trainer.step

    def _train_stats(self) -> str:
        loss = "—" if self.loss is None else f"{self.loss:.4f}"
        return f"loss (EMA) [bold]{loss}[/bold] {self.rate} tok/s"

    def on_step_end(self, trainer, loss: float, tokens: int) -> None:
        self.loss = loss if self.loss is None else (1 - self.EMA_WEIGHT) * self.loss + self.EMA_WEIGHT * loss
        now = time.perf_counter()
        self.window.append((now, tokens))
        (t0, _), span_tokens = self.window[0], sum(n for _, n in list(self.window)[1:])
        self.rate = f"{span_tokens / (now - t0):,.0f}" if now > t0 else "—"
        self.progress.update(self.bar, completed=trainer.step, stats=self._train_stats())

    def on_eval(self, trainer, record: dict[str, Any]) -> None:
        self.progress.console.print(eval_line(record, record["step"] - self.validated_step), soft_wrap=True)
        self.validated_step = record["step"]
        self.window.clear()
        self.window.append((time.perf_counter(), 0))

    def on_checkpoint(self, trainer, path: str, best: bool) -> None:
        if best:
            self.progress.console.print(f"[dim]  new best model saved to {path}[/dim]")

    def on_final_eval(self, trainer, split: str) -> None:
        self.progress.stop_task(self.bar)  # training is over: its clock and ETA stop where they are

    def on_eval_progress(self, trainer, split: str, done: int, total: int) -> None:
        if split not in self.eval_bars:
            self.eval_bars[split] = self.progress.add_task(f"eval {split}", total=total, stats="examples")
        self.progress.update(self.eval_bars[split], completed=done)

    def on_train_end(self, trainer, results) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def metrics_table(metrics: dict[str, dict[str, Any]], title: str = "results") -> Table:
    """Rows train/valid/test; columns loss, token accuracy and exact-sequence accuracy. A
    language model's metrics (they carry "bits_per_token") get bits per token instead of
    the exact-sequence accuracy, which a language model does not have."""
    language_model = any("bits_per_token" in m for m in metrics.values())
    table = Table(title=title, title_justify="left")
    table.add_column("split", style="bold")
    table.add_column("loss", justify="right")
    if language_model:
        table.add_column("bits/token", justify="right")
    table.add_column("token accuracy", justify="right")
    if not language_model:
        table.add_column("exact-sequence accuracy", justify="right")
    table.add_column("examples", justify="right", style="dim")
    for split in ("train", "valid", "test"):
        if split in metrics:
            m = metrics[split]
            cells = [split, number(m.get("loss"))]
            if language_model:
                cells.append(number(m.get("bits_per_token"), 3))
            cells.append(percent(m.get("token_accuracy")))
            if not language_model:
                cells.append(percent(m.get("sequence_accuracy")))
            table.add_row(*cells, str(m.get("examples", "")))
    return table


def summary_line(results) -> str:
    """E.g. "test exact-sequence accuracy 99.6% after 600 steps (41.2 s); valid reached 99% at step 500 (33.1 s)"."""
    split = "test" if "test" in results.metrics else "valid"
    m = results.metrics.get(split, {})
    if m.get("sequence_accuracy") is not None:
        head = f"{split} exact-sequence accuracy {percent(m['sequence_accuracy'])}"
    elif m.get("bits_per_token") is not None:
        head = f"{split} loss {number(m.get('loss'))} ({m['bits_per_token']:.3f} bits per token)"
    else:
        head = f"{split} loss {number(m.get('loss'))}, token accuracy {percent(m.get('token_accuracy'))}"
    line = f"{head} after {results.steps} steps ({results.train_seconds:.1f} s training, {results.wall_seconds:.1f} s in all)"
    if results.crossed is not None:
        line += f"; valid exact-sequence accuracy reached 99% at step {results.crossed[0]} ({results.crossed[1]:.1f} s)"
    if results.stopped_early:
        line += "; stopped early"
    return line


# -- attention heatmap --------------------------------------------------------------------


def _shade(weight: float) -> tuple[str, str]:
    """(characters, style) of one heatmap cell: darker blocks and warmer colours for more weight."""
    w = min(max(float(weight), 0.0), 1.0)
    char = SHADES[min(int(w * len(SHADES)), len(SHADES) - 1)]
    level = int(40 + 215 * w)
    return char * 2, f"rgb({level},{int(level * 0.55)},{int(60 * (1 - w))})"


def attention_heatmap(matrix, source: Sequence[str], output: Sequence[str]) -> Table:
    """Output tokens down the side, source tokens across the top, cells shaded by weight."""
    table = Table(show_lines=False, box=None, pad_edge=False, padding=(0, 1))
    table.add_column("out \\ src", style="bold", justify="right")
    for token in source:
        table.add_column(token, justify="center", no_wrap=True)
    for row, token in enumerate(output):
        cells = []
        for col in range(len(source)):
            chars, style = _shade(matrix[row][col])
            cells.append(Text(chars, style=style))
        table.add_row(token, *cells)
    return table


def heatmap_legend() -> Text:
    legend = Text("weight: ")
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        chars, style = _shade(w)
        legend.append(chars, style=style)
        legend.append(f" {w:.2f}  ")
    return legend


# -- history charts -------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], width: int = 60) -> str:
    """Values as a line of block characters (scaled to their own min..max; gaps as spaces)."""
    points = list(values)
    if len(points) > width:  # keep `width` evenly spaced points
        points = [points[round(i * (len(points) - 1) / (width - 1))] for i in range(width)]
    finite = [v for v in points if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return "".join(" " if v is None or not math.isfinite(v) else SPARK[min(int((v - low) / span * len(SPARK)), len(SPARK) - 1)]
                   for v in points)


SERIES = (
    ("train_loss", "train loss", number),
    ("valid_loss", "valid loss", number),
    ("valid_token_accuracy", "valid token accuracy", percent),
    ("valid_sequence_accuracy", "valid seq accuracy", percent),
    ("lr", "learning rate", lambda v: "—" if v is None else f"{v:.2e}"),
)


def history_chart(history: list[dict[str, Any]], title: str) -> Group:
    """One sparkline row per series of the history (loss and accuracy curves)."""
    table = Table(title=title, title_justify="left")
    table.add_column("series", style="bold")
    table.add_column("first", justify="right")
    table.add_column("last", justify="right")
    table.add_column("best", justify="right")
    table.add_column(f"curve (step {history[0].get('step', '?')} → {history[-1].get('step', '?')})", no_wrap=True)
    for key, label, fmt in SERIES:
        values = [r.get(key) for r in history]
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        if not finite:
            continue
        best = min(finite) if "loss" in key else max(finite)
        style = "red" if "loss" in key else "green"
        table.add_row(label, fmt(finite[0]), fmt(finite[-1]), fmt(best), Text(sparkline(values), style=style))
    return Group(table)


def save_history_png(history: list[dict[str, Any]], path: str, title: str) -> None:
    """Loss and accuracy curves as a two-panel matplotlib figure (needs the plot extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r.get("step") for r in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label, _ in SERIES[:2]:
        pts = [(s, r.get(key)) for s, r in zip(steps, history) if r.get(key) is not None]
        if pts:
            left.plot(*zip(*pts), marker=".", label=label)
    left.set_xlabel("step")
    left.set_ylabel("loss (nats/token)")
    left.legend()
    for key, label, _ in SERIES[2:4]:
        pts = [(s, r.get(key)) for s, r in zip(steps, history) if r.get(key) is not None]
        if pts:
            right.plot(*zip(*pts), marker=".", label=label)
    right.set_xlabel("step")
    right.set_ylabel("accuracy")
    right.set_ylim(0, 1.02)
    right.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def save_attention_png(matrix, source: Sequence[str], output: Sequence[str], path: str, title: str) -> None:
    """The attention matrix as a matplotlib heatmap (needs the plot extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1 + 0.5 * max(len(source), 2), 1 + 0.5 * max(len(output), 2)))
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), labels=list(source))
    ax.set_yticks(range(len(output)), labels=list(output))
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
