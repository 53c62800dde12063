"""Refuse a model that cannot fit in this machine's memory, before any of it is allocated.

The size is counted from the options (``models.training_memory``), so ``--hidden-dim 100000``
ends in one line instead of a MemoryError, or minutes of swapping for a size just below RAM.
"""

from __future__ import annotations

import os

from minigrad.cli.errors import CLIError
from minigrad.cli.options import flag_of

MEMINFO = "/proc/meminfo"
# Task options that size the model: the vocabulary (embeddings, output layer) and the lm's position table.
SIZING_TASK_OPTIONS = ("vocab_size", "block_size")


def available_memory() -> int | None:
    """Bytes of memory a new allocation can have without swapping, or None when unknown.

    ``MemAvailable`` of /proc/meminfo (Linux); elsewhere the free physical pages times the page
    size (``os.sysconf``), or the physical memory where free pages are not reported.
    """
    try:
        with open(MEMINFO, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the value is in kB
    except (OSError, ValueError, IndexError):
        pass
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            continue
    return None


def human_bytes(n: int) -> str:
    """``n`` bytes as "512 MiB", "3.2 GiB", "160 GiB" (exact integer arithmetic for any size)."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n // size:,} {unit}" if n >= 100 * size else f"{n / size:.1f} {unit}"
    return f"{n} byte{'s' if n != 1 else ''}"


def check_model_fits(config) -> None:
    """CLIError when training ``config``'s model would need more memory than this machine has.

    Builds the task (for its vocabulary sizes and window length), never the model. The message
    names the size options given above their defaults, the estimate and the available memory.
    """
    from minigrad import models
    from minigrad.models.training import build_task

    available = available_memory()
    if available is None:
        return
    task = build_task(config)
    hyper = dict(config.model_options)
    if config.model == "lm" and task.kind == "lm":
        hyper.setdefault("block_size", task.block_size)  # as the trainer builds it: the model reads the task's windows
    needed = models.training_memory(config.model, len(task.src_vocab), len(task.tgt_vocab), **hyper)
    if needed <= available:
        return
    count = models.parameter_count(config.model, len(task.src_vocab), len(task.tgt_vocab), **hyper)
    raise CLIError(f"{_sizing_options(config)}: the model ({count:,} parameters) would need about "
                   f"{human_bytes(needed)} for its parameters, gradients and optimizer state; "
                   f"this machine has {human_bytes(available)} available")


def _sizing_options(config) -> str:
    """The size options given above their defaults, as flags ("--hidden-dim 100000"): what made the model big."""
    from minigrad import models, tasks

    model_defaults = vars(models.config_for(config.model))
    task_defaults = tasks.defaults(config.task)
    given = [(flag_of("model", key), value, model_defaults.get(key)) for key, value in config.model_options.items()]
    given += [(flag_of("task", key), config.task_options[key], task_defaults.get(key)) for key in SIZING_TASK_OPTIONS
              if key in config.task_options]
    larger = [f"{flag} {value}" for flag, value, default in given
              if isinstance(value, int) and not isinstance(value, bool) and isinstance(default, int) and value > default]
    return " ".join(larger) or f"--model {config.model} with these sizes"
