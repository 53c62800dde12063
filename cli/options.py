"""The training options, defined once and shared by ``minigrad-train`` and ``minigrad train``.

Every option is an ``Opt`` row: its flags, the parameter name, where the value goes
(``task`` -> ``TrainConfig.task_options``, ``model`` -> ``TrainConfig.model_options``,
``config`` -> a ``TrainConfig`` field, ``run`` -> how the command runs) and the key it has
there. Option defaults are None ("not given"): the real defaults live in the library
(``TrainConfig``, ``models.config_for``, ``tasks.defaults``) and are only *shown* in
``--help``, read from there, as are the task and model names and the choices. That keeps
one source of truth and lets ``--config FILE`` fill in whatever the command line did not give.

Precedence, highest first: an option on the command line; an environment variable
(``MINIGRAD_SEED`` for ``--seed``); a key in the ``--config`` YAML file; the library default.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

import click

from minigrad import models, optim, tasks
from minigrad.models.attention import LUONG_SCORES
from minigrad.models.rnn import CELLS
from minigrad.models.train.config import DEFAULT_STEPS, OPTIMIZERS, SCHEDULES, TrainConfig
from minigrad.models.transformer import ACTIVATIONS

# The library defaults --help shows: the training config and each model family's config.
TRAIN = TrainConfig()
RNN, TRANSFORMER, LM = (models.config_for(name) for name in ("rnn-attn", "transformer", "lm"))
DATA_SEED = tasks.defaults(TRAIN.task)["seed"]


@dataclass(frozen=True)
class Opt:
    """One option: ``flags`` for Click, ``name`` of the parameter, ``target`` section and ``key``."""

    flags: tuple[str, ...]
    name: str
    target: str  # "task" | "model" | "config" | "run"
    key: str
    kwargs: dict[str, Any]

    def decorator(self) -> Callable:
        return click.option(*self.flags, self.name, **self.kwargs)


def _opt(flags: str | tuple[str, ...], target: str, key: str | None = None, name: str | None = None, **kwargs: Any) -> Opt:
    flags = (flags,) if isinstance(flags, str) else flags
    long = next(f for f in flags if f.startswith("--")).split("/")[0]
    name = name or long[2:].replace("-", "_")
    kwargs.setdefault("default", None)
    shown = kwargs.pop("show_default", None)
    if shown is not None:  # the library holds the default; only show it
        kwargs["help"] = f"{kwargs.get('help', '')}  [default: {shown}]"
    return Opt(flags, name, target, key or name, kwargs)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _weight_decay(optimizer: type) -> float:
    return inspect.signature(optimizer).parameters["weight_decay"].default


PROBABILITY = click.FloatRange(0.0, 1.0)

TASK_OPTIONS = [
    _opt("--task", "config", type=str, metavar="NAME", show_default=TRAIN.task,
         help=f"Task: {', '.join(tasks.names())} (file: a TSV given by --data; text: language modelling on --data)."),
    _opt("--data", "task", key="path", type=click.Path(dir_okay=False), metavar="FILE",
         help="Data file of the file task (source<TAB>target lines) or the text task (UTF-8 text)."),
    _opt("--min-len", "task", type=click.IntRange(min=1), help="Shortest source sequence (copy/reverse/sort; add: digits)."),
    _opt("--max-len", "task", type=click.IntRange(min=1), help="Longest source sequence (copy/reverse/sort; add: digits)."),
    _opt("--vocab-size", "task", type=click.IntRange(min=2), help="Number of symbols of copy/reverse/sort (written 0..N-1)."),
    _opt("--data-seed", "task", key="seed", type=click.IntRange(min=0),
         help=f"Seed of the task's data and train/valid/test splits (independent of --seed).  [default: {DATA_SEED}]"),
    _opt("--train-size", "task", type=click.IntRange(min=1), help="Training examples of a synthetic task."),
    _opt("--valid-size", "task", type=click.IntRange(min=0), help="Validation examples (synthetic and file tasks)."),
    _opt("--test-size", "task", type=click.IntRange(min=0), help="Test examples (synthetic and file tasks)."),
    _opt("--tokenize", "task", type=click.Choice(["char", "space", "word"]), help="Tokenizer of the file and text tasks."),
    _opt("--block-size", "task", type=click.IntRange(min=1), help="Context length of the text task."),
]

MODEL_OPTIONS = [
    _opt("--model", "config", type=str, metavar="NAME", show_default=TRAIN.model,
         help=f"Model: {', '.join(models.names())}."),
    _opt("--embed-dim", "model", type=click.IntRange(min=1), show_default=RNN.embed_dim, help="Embedding size (rnn family)."),
    _opt("--hidden-dim", "model", type=click.IntRange(min=1), show_default=RNN.hidden_dim,
         help="Hidden size of the recurrent cells (rnn family; also the attention size)."),
    _opt("--num-layers", "model", type=click.IntRange(min=1), show_default=f"{RNN.num_layers} (rnn), {TRANSFORMER.num_layers} (transformer)",
         help="Stacked layers."),
    _opt("--cell", "model", type=click.Choice(CELLS), show_default=RNN.cell, help="Recurrent cell (rnn family)."),
    _opt("--bidirectional/--unidirectional", "model", help="Bidirectional encoder (rnn family).",
         show_default="bidirectional" if RNN.bidirectional else "unidirectional"),
    _opt("--attention-score", "model", key="luong_score", type=click.Choice(LUONG_SCORES),
         show_default=RNN.luong_score, help="Luong attention score (rnn-luong)."),
    _opt("--d-model", "model", type=click.IntRange(min=1), show_default=TRANSFORMER.d_model, help="Model width (transformer, encoder)."),
    _opt("--num-heads", "model", type=click.IntRange(min=1), show_default=TRANSFORMER.num_heads,
         help="Attention heads; must divide --d-model (transformer, encoder)."),
    _opt("--ff-dim", "model", type=click.IntRange(min=1), show_default=TRANSFORMER.ff_dim, help="Feed-forward width (transformer, encoder)."),
    _opt("--norm", "model", key="norm_first", type=click.Choice(["pre", "post"]),
         show_default="pre" if TRANSFORMER.norm_first else "post",
         help="Layer-norm placement (transformer, encoder)."),
    _opt("--activation", "model", type=click.Choice(ACTIVATIONS), show_default=TRANSFORMER.activation,
         help="Feed-forward non-linearity (transformer, encoder)."),
    _opt("--tie-embeddings/--no-tie-embeddings", "model", show_default=f"{_yes(TRANSFORMER.tie_embeddings)}; {_yes(LM.tie_embeddings)} for lm",
         help="Share the target embedding with the output layer (transformer, encoder, lm)."),
    _opt("--dropout", "model", type=click.FloatRange(0.0, 1.0, max_open=True), show_default=RNN.dropout, help="Dropout probability."),
]

OPTIMIZER_OPTIONS = [
    _opt("--optimizer", "config", type=click.Choice(OPTIMIZERS), show_default=TRAIN.optimizer, help="Optimizer."),
    _opt("--lr", "config", type=click.FloatRange(min=0.0, min_open=True), show_default=TRAIN.lr, help="(Peak) learning rate."),
    _opt("--weight-decay", "config", type=click.FloatRange(min=0.0), help="Weight decay.",
         show_default=f"{_weight_decay(optim.AdamW):g} for adamw, else {_weight_decay(optim.Adam):g}"),
    _opt("--momentum", "config", type=click.FloatRange(0.0, 1.0, max_open=True), show_default=TRAIN.momentum, help="Momentum (sgd)."),
    _opt("--schedule", "config", type=click.Choice(SCHEDULES), show_default=TRAIN.schedule,
         help="Learning-rate schedule (cosine: decay from --lr to --min-lr over the run)."),
    _opt("--warmup", "config", type=click.IntRange(min=0), show_default=TRAIN.warmup,
         help="Warmup steps (warmup, warmup_cosine, inverse_sqrt)."),
    _opt("--min-lr", "config", type=click.FloatRange(min=0.0), show_default=TRAIN.min_lr, help="Final learning rate of cosine schedules."),
    _opt("--lr-step-size", "config", type=click.IntRange(min=1), help="Step schedule: decay every N steps.  [default: a third of the run]"),
    _opt("--lr-gamma", "config", type=click.FloatRange(0.0, 1.0, min_open=True), show_default=TRAIN.lr_gamma, help="Step schedule: decay factor."),
    _opt("--clip", "config", type=click.FloatRange(min=0.0), show_default=TRAIN.clip, help="Max gradient norm (0 disables clipping)."),
    _opt("--batch-size", "config", type=click.IntRange(min=1), show_default=TRAIN.batch_size, help="Examples per step."),
    _opt("--teacher-forcing", "config", type=PROBABILITY, show_default=TRAIN.teacher_forcing,
         help="Probability of feeding the true previous token while training (rnn family)."),
    _opt("--label-smoothing", "config", type=click.FloatRange(0.0, 1.0, max_open=True), show_default=TRAIN.label_smoothing,
         help="Label smoothing of the cross-entropy."),
]

RUN_LENGTH_OPTIONS = [
    _opt("--steps", "config", type=click.IntRange(min=1), show_default=DEFAULT_STEPS, help="Optimizer steps."),
    _opt("--epochs", "config", type=click.FloatRange(min=0.0, min_open=True), help="Passes over the train split (instead of --steps)."),
    _opt("--eval-interval", "config", type=click.IntRange(min=0), show_default=TRAIN.eval_interval,
         help="Validate every N steps (0: only at the end)."),
    _opt("--eval-size", "config", type=click.IntRange(min=1), show_default=TRAIN.eval_size,
         help="Validation examples used during training (the final evaluation uses all)."),
    _opt("--beam-size", "config", type=click.IntRange(min=1), show_default=TRAIN.beam_size, help="Beam width in evaluation (1: greedy)."),
    _opt("--length-penalty", "config", type=click.FloatRange(min=0.0), show_default=TRAIN.length_penalty, help="Beam search length penalty."),
    _opt("--seed", "config", type=click.IntRange(min=0), envvar="MINIGRAD_SEED", show_envvar=True, show_default=TRAIN.seed,
         help="Seed of initialisation, dropout, teacher forcing and batch order."),
    _opt("--stop-at", "config", type=click.FloatRange(0.0, 1.0, min_open=True),
         help="Stop once the validation exact-sequence accuracy reaches this (e.g. 0.99).  [default: never]"),
]

RUN_OPTIONS = [
    _opt("--config", "run", type=click.Path(dir_okay=False), metavar="FILE.yaml",
         help="YAML file of option defaults (keys are option names); options given here override it."),
    _opt("--save", "run", type=click.Path(file_okay=False), metavar="DIR",
         help="Checkpoint directory, written at every validation, at the end and on Ctrl-C (best model in DIR/best)."),
    _opt("--resume", "run", type=click.Path(file_okay=False), metavar="DIR",
         help="Continue the run saved in DIR (and keep saving there unless --save says otherwise)."),
    _opt("--overwrite", "run", is_flag=True, default=False,
         help="Let --save DIR replace a checkpoint of another run that DIR already holds (without it, that is refused)."),
    _opt("--output", "run", type=click.Path(dir_okay=False), metavar="FILE",
         help="Write config, metrics, history and wall time as JSON."),
    _opt("--log-file", "run", type=click.Path(dir_okay=False), metavar="FILE", help="Also log the run to FILE (rotated at 1 MB)."),
    _opt("--quiet", "run", is_flag=True, default=False, help="No progress bar and no table (for scripts)."),
    _opt("--interactive", "run", is_flag=True, default=False, help="Ask for the task, model and steps."),
]

ALL_OPTIONS = TASK_OPTIONS + MODEL_OPTIONS + OPTIMIZER_OPTIONS + RUN_LENGTH_OPTIONS + RUN_OPTIONS
BY_NAME = {opt.name: opt for opt in ALL_OPTIONS}
# Keys a --config file may not set (they only make sense on the command line).
NOT_IN_FILE = ("config", "interactive", "overwrite")


SECTIONS = [
    ("Task", [o.name for o in TASK_OPTIONS]),
    ("Model", [o.name for o in MODEL_OPTIONS]),
    ("Optimization", [o.name for o in OPTIMIZER_OPTIONS]),
    ("Run length and evaluation", [o.name for o in RUN_LENGTH_OPTIONS]),
    ("Files and output", [o.name for o in RUN_OPTIONS]),
]


def _bundle(options: list[Opt]) -> Callable[[Callable], Callable]:
    def decorate(f: Callable) -> Callable:
        for opt in reversed(options):
            f = opt.decorator()(f)
        return f

    return decorate


task_options = _bundle(TASK_OPTIONS)
model_options = _bundle(MODEL_OPTIONS)
optimizer_options = _bundle(OPTIMIZER_OPTIONS)
run_length_options = _bundle(RUN_LENGTH_OPTIONS)
run_options = _bundle(RUN_OPTIONS)


def training_options(f: Callable) -> Callable:
    """Every training option, in help order: task, model, optimizer, run length, run."""
    for bundle in (run_options, run_length_options, optimizer_options, model_options, task_options):
        f = bundle(f)
    return f


def flag_of(target: str, key: str) -> str:
    """The flag of the option whose value goes to ``target`` under ``key`` ("model", "hidden_dim" -> "--hidden-dim")."""
    for opt in ALL_OPTIONS:
        if opt.target == target and opt.key == key:
            return opt.flags[0].split("/")[0]
    return "--" + key.replace("_", "-")


# Library names that are not plain words (min_len, hidden_dim, ...) -> their flags, for error messages.
_FLAG_OF_KEY: dict[str, str] = {}
for _opt_row in ALL_OPTIONS:
    if "_" in _opt_row.key and _opt_row.target != "run":
        _FLAG_OF_KEY.setdefault(_opt_row.key, _opt_row.flags[0].split("/")[0])
del _opt_row
_KEY_PATTERN = re.compile(r"(?<![\w/.\-'\"])(" + "|".join(sorted(_FLAG_OF_KEY, key=len, reverse=True)) + r")(?![\w/\-]|\.\w)")


def flag_names(message: str) -> str:
    """``message`` of the library with its option names as the flags the user typed.

    "copy: min_len (5) must be <= max_len (4)" -> "copy: --min-len (5) must be <= --max-len (4)".
    Only names with an underscore are replaced (never plain words, paths or quoted values).
    """
    return _KEY_PATTERN.sub(lambda m: _FLAG_OF_KEY[m.group(1)], message)


def to_config_parts(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split given (non-None) option values into (config fields, task_options, model_options)."""
    fields: dict[str, Any] = {}
    task: dict[str, Any] = {}
    model: dict[str, Any] = {}
    for name, value in values.items():
        opt = BY_NAME.get(name)
        if opt is None or opt.target == "run" or value is None:
            continue
        if opt.key == "norm_first":
            value = value == "pre"
        {"config": fields, "task": task, "model": model}[opt.target][opt.key] = value
    return fields, task, model
