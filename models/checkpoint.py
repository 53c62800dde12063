"""Checkpoint directories: everything needed to reload a trained model or resume its training.

A checkpoint is a directory::

    DIR/
      model.safetensors       the model's state_dict (readable by safetensors.numpy.load_file)
      optimizer.safetensors   {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
                              (arrays as tensors, the scalar state as JSON in the file's header;
                              minigrad.serialization.save_tree)
      config.json             the TrainConfig, as a dict
      task.json               task.state(): options and vocabularies
      state.json              step, history, minigrad's RNG state, best metric, elapsed seconds,
                              and the manifest: size and SHA-256 of every other file
      best/                   the same files for the best-by-validation checkpoint (no best/ inside)

Crash safety: the directory is a ``minigrad.checkpoint_dir`` save of ``LAYOUT`` (its five
files, ``best/`` carried over): never modified in place, swapped in whole, every entry of the
user's kept. A crash leaves the old checkpoint or the new one, and ``load_checkpoint`` and the
next ``save_checkpoint`` finish an interrupted swap first.

Loading checks the manifest, so a file truncated or edited after the save is reported as a
``CheckpointError`` naming the file, as is a missing or unparsable one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from minigrad import checkpoint_dir, tasks
from minigrad.errors import CheckpointError
from minigrad.models.registry import config_for, parameter_count
from minigrad.models.train.build import build_model, model_arguments
from minigrad.models.train.config import TrainConfig
from minigrad.serialization import load, load_json, load_tree, save, save_json, save_tree

FORMAT = "minigrad-checkpoint"
VERSION = 1
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
TASK_FILE = "task.json"
STATE_FILE = "state.json"
BEST_DIR = "best"
DATA_FILES = (MODEL_FILE, OPTIMIZER_FILE, CONFIG_FILE, TASK_FILE)
CHECKPOINT_FILES = (*DATA_FILES, STATE_FILE)


@dataclass
class TrainingState:
    """What ``state.json`` holds besides the manifest.

    step:          optimizer updates done so far (the resumed run continues the batch stream there)
    history:       one dict per validation (see ``models.train.loop``)
    rng_state:     ``minigrad.rng.get_rng_state()`` at that step boundary
    best_metric:   best validation score so far (higher is better), or None
    best_step:     the step it was reached at, or None
    elapsed:       wall seconds spent training so far (summed over resumed runs)
    extra:         anything else a caller wants to keep (JSON)
    """

    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    rng_state: dict[str, Any] | None = None
    best_metric: float | None = None
    best_step: int | None = None
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "history": self.history,
            "rng_state": self.rng_state,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "elapsed": self.elapsed,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "TrainingState":
        try:
            state = cls(
                step=int(d["step"]),
                history=list(d.get("history") or []),
                rng_state=d.get("rng_state"),
                best_metric=None if d.get("best_metric") is None else float(d["best_metric"]),
                best_step=None if d.get("best_step") is None else int(d["best_step"]),
                elapsed=float(d.get("elapsed") or 0.0),
                extra=dict(d.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{where} is corrupt: bad training state ({err!s})") from None
        if state.step < 0:
            raise CheckpointError(f"{where} is corrupt: negative step {state.step}")
        return state


LAYOUT = checkpoint_dir.Layout(files=CHECKPOINT_FILES, state_file=STATE_FILE, format=FORMAT, best_dir=BEST_DIR)


# -- the directory (minigrad.checkpoint_dir with this layout) --------------------------------


def is_checkpoint(directory: str | os.PathLike) -> bool:
    """True if ``directory`` holds a committed checkpoint (a ``state.json`` of this format)."""
    return checkpoint_dir.is_complete(directory, LAYOUT)


def recover(directory: str | os.PathLike) -> bool:
    """Finish a swap a crash interrupted (``checkpoint_dir.recover``); True if something was recovered."""
    return checkpoint_dir.recover(directory, LAYOUT)


def users_entries(directory: str | os.PathLike) -> list[str]:
    """The entries of a checkpoint directory that no save wrote (files, directories, symlinks,
    FIFOs, hidden or not), sorted; every save keeps them. ``best/`` is not one of them."""
    return checkpoint_dir.users_entries(directory, LAYOUT)


def check_writable(directory: str | os.PathLike) -> None:
    """CheckpointError unless ``directory`` can take a checkpoint: absent, empty, or one already."""
    checkpoint_dir.check_writable(directory, LAYOUT)


def check_replaceable_best(directory: str | os.PathLike) -> None:
    """CheckpointError, naming them, if ``directory/best`` holds entries of the user's: a fresh
    run replacing the checkpoint there (``keep_best=False``) would have to delete them."""
    checkpoint_dir.check_replaceable_best(directory, LAYOUT)


# -- saving ---------------------------------------------------------------------------------


def _write_files(target: str, *, model_state: dict, optimizer_state: dict | None, config: dict,
                 task_state: dict, state: TrainingState) -> None:
    """Write the five files into the (new, empty) directory ``target``; state.json last."""
    save(model_state, os.path.join(target, MODEL_FILE), metadata={"format": FORMAT})
    save_tree(optimizer_state or {}, os.path.join(target, OPTIMIZER_FILE), metadata={"format": FORMAT})
    save_json(config, os.path.join(target, CONFIG_FILE))
    save_json(task_state, os.path.join(target, TASK_FILE))
    checkpoint_dir.write_state(target, LAYOUT, {"version": VERSION, **state.to_dict()})


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    model_state: dict,
    optimizer_state: dict | None,
    config: dict,
    task_state: dict,
    state: TrainingState,
    keep_best: bool = True,
) -> str:
    """Write a checkpoint to ``directory``, replacing an existing checkpoint there atomically.

    ``model_state`` is a state_dict, ``optimizer_state`` ``{"optimizer": ..., "scheduler": ...}``
    (or None), ``config`` and ``task_state`` JSON dicts. Every entry of the checkpoint being
    replaced that a save did not write (``users_entries``: a results.json written there,
    a plots/ directory, .notes, symlinks, FIFOs) is kept, as is its ``best/`` unless
    ``keep_best`` is False (a fresh run replacing another run's checkpoint); a ``best/``
    holding entries of the user's is then refused before anything is written. A directory
    that exists but is not a checkpoint (and is not empty) is refused. Both refusals are
    CheckpointError. Returns the path.
    """
    files = dict(model_state=model_state, optimizer_state=optimizer_state, config=config, task_state=task_state,
                 state=state)
    return checkpoint_dir.save(directory, lambda target: _write_files(target, **files), LAYOUT, keep_best=keep_best)


def save_best(directory: str | os.PathLike, **files: Any) -> str:
    """Write ``directory/best`` (same arguments as ``save_checkpoint``, without ``keep_best``)."""
    return checkpoint_dir.save_best(directory, lambda target: _write_files(target, **files), LAYOUT)


# -- loading --------------------------------------------------------------------------------

# Where a size of each model shows in its saved weights: (size, weight, axis). A size is a
# hyper-parameter of ``models.config_for(name)``, or ``src_vocab``/``tgt_vocab`` (the task's
# vocabularies). ``check_model_sizes`` compares them before a model is built.
_RNN_SIZES = (("src_vocab", "src_embed.weight", 0), ("tgt_vocab", "tgt_embed.weight", 0),
              ("embed_dim", "src_embed.weight", 1), ("hidden_dim", "encoder.weight_hh_l0", 1))
MODEL_SIZES: dict[str, tuple[tuple[str, str, int], ...]] = {
    "rnn": _RNN_SIZES,
    "rnn-attn": _RNN_SIZES,
    "rnn-luong": _RNN_SIZES,
    "transformer": (("src_vocab", "src_embed.embed.weight", 0), ("tgt_vocab", "tgt_embed.embed.weight", 0),
                    ("d_model", "src_embed.embed.weight", 1), ("ff_dim", "encoder.layers.0.ff.linear1.weight", 0)),
    "encoder": (("src_vocab", "embed.embed.weight", 0), ("tgt_vocab", "out_proj.bias", 0),
                ("d_model", "embed.embed.weight", 1), ("ff_dim", "encoder.layers.0.ff.linear1.weight", 0)),
    "lm": (("src_vocab", "tok_emb.weight", 0), ("d_model", "tok_emb.weight", 1), ("block_size", "pos_emb.weight", 0),
           ("ff_dim", "blocks.0.ff.linear1.weight", 0)),
}
# One weight per layer ("{}": the layer's index), counted for ``num_layers``.
LAYER_WEIGHTS = {"rnn": "encoder.weight_hh_l{}", "rnn-attn": "encoder.weight_hh_l{}", "rnn-luong": "encoder.weight_hh_l{}",
                 "transformer": "encoder.layers.{}.ff.linear1.weight", "encoder": "encoder.layers.{}.ff.linear1.weight",
                 "lm": "blocks.{}.ff.linear1.weight"}


def check_model_sizes(name: str, sizes: dict[str, Any], shapes: dict[str, tuple[int, ...]],
                      named: dict[str, str] | None = None) -> None:
    """CheckpointError unless the sizes a config gives model ``name`` fit its saved weights.

    ``sizes``: every hyper-parameter of the model (as ``models.config_for(name)`` fields) plus
    ``src_vocab``/``tgt_vocab``; ``shapes``: weight name -> shape, as saved. Each size of
    MODEL_SIZES must equal its weight's axis and ``num_layers`` the number of saved layers;
    ``named`` says where each size came from ("config.json model_options.embed_dim"), for
    the message, which names the size, its value and the saved shape. Nothing is built, so
    a size no machine could allocate is refused at once. The other options are left to the
    parameter count and ``load_state_dict``.
    """
    named = named or {}
    for size, weight, axis in MODEL_SIZES.get(name, ()):
        shape = shapes.get(weight)
        if shape is not None and size in sizes and (len(shape) <= axis or shape[axis] != sizes[size]):
            raise CheckpointError(f"{named.get(size, size)} is {sizes[size]!r}, but {MODEL_FILE} holds {weight} of shape "
                                  f"{tuple(shape)}")
    pattern = LAYER_WEIGHTS.get(name)
    if pattern is not None and "num_layers" in sizes:
        saved = 0
        while pattern.format(saved) in shapes:
            saved += 1
        if saved != sizes["num_layers"]:
            raise CheckpointError(f"{named.get('num_layers', 'num_layers')} is {sizes['num_layers']!r}, but {MODEL_FILE} "
                                  f"holds {saved} layer{'s' if saved != 1 else ''} ({pattern.format('N')})")



def read_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict, dict, TrainingState]:
    """The raw parts of a checkpoint: ``(model_state, config, task_state, state)`` after
    checking the manifest. CheckpointError naming the file for anything missing or corrupt."""
    path = checkpoint_dir.directory_path(directory)
    raw = checkpoint_dir.read_state(path, LAYOUT)
    state_path = os.path.join(path, STATE_FILE)
    if raw.get("version") != VERSION:
        raise CheckpointError(f"{state_path}: unsupported checkpoint version {raw.get('version')!r} (expected {VERSION})")
    checkpoint_dir.check_manifest(path, raw, LAYOUT)
    config = load_json(os.path.join(path, CONFIG_FILE))
    task_state = load_json(os.path.join(path, TASK_FILE))
    for filename, value in ((CONFIG_FILE, config), (TASK_FILE, task_state)):
        if not isinstance(value, dict):
            raise CheckpointError(f"{os.path.join(path, filename)} is corrupt: expected a JSON object")
    model_state = load(os.path.join(path, MODEL_FILE))
    return model_state, config, task_state, TrainingState.from_dict(raw, state_path)


def read_optimizer(directory: str | os.PathLike) -> dict:
    """``{"optimizer": ..., "scheduler": ...}`` as saved (for resuming)."""
    path = checkpoint_dir.directory_path(directory)
    tree = load_tree(os.path.join(path, OPTIMIZER_FILE))
    if not isinstance(tree, dict):
        raise CheckpointError(f"{os.path.join(path, OPTIMIZER_FILE)} is corrupt: expected a dict of optimizer state")
    return tree


def load_checkpoint(directory: str | os.PathLike, data_path: str | None = None, accept_changed_data: bool = False):
    """Rebuild ``(model, task, config, state)`` from a checkpoint directory.

    ``model`` is built with ``models.build`` from the saved config and loaded with the saved
    weights (in eval mode); ``task`` comes from ``tasks.from_state`` (``data_path`` replaces
    the stored data file of a ``file``/``text`` task; when the task reads it, it must hold
    the data task.json fingerprints, unless ``accept_changed_data``); ``config`` is a
    ``TrainConfig``; ``state`` a ``TrainingState``. CheckpointError (naming the file) when
    anything is missing, corrupt or inconsistent.
    """
    path = checkpoint_dir.directory_path(directory)
    model_state, config_dict, task_state, state = read_checkpoint(path)
    config_path = os.path.join(path, CONFIG_FILE)
    try:
        config = TrainConfig.from_dict(config_dict)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{config_path} is corrupt: {err}") from None
    try:
        task = tasks.from_state(task_state, path=data_path, accept_changed_data=accept_changed_data)
    except tasks.TaskError as err:
        raise CheckpointError(f"{os.path.join(path, TASK_FILE)} is corrupt: {err}") from None
    try:
        _check_config_fits_weights(path, config, task, model_state)
        model = build_model(config, task)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{config_path} does not describe a buildable model: {err}") from None
    try:
        model.load_state_dict(model_state)
    except (KeyError, ValueError, TypeError) as err:
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first)[:300]
        raise CheckpointError(f"{os.path.join(path, MODEL_FILE)} does not fit the model in {CONFIG_FILE}: {detail}") from None
    model.eval()
    return model, task, config, state


def _check_config_fits_weights(path: str, config: Any, task: Any, model_state: dict) -> None:
    """CheckpointError unless the model ``config.json`` and ``task.json`` describe is the one
    ``model.safetensors`` holds: the sizes (``check_model_sizes``), then the parameter count.
    Builds nothing (an untrusted config may ask for any size); TypeError/ValueError for
    hyper-parameters ``models.build`` would refuse."""
    vocab_sizes, options = model_arguments(config, task)
    hyper = replace(config_for(config.model), **options).validate()
    sizes = {f.name: getattr(hyper, f.name) for f in fields(hyper)}
    sizes.update(zip(("src_vocab", "tgt_vocab"), vocab_sizes))
    config_path, task_path = os.path.join(path, CONFIG_FILE), os.path.join(path, TASK_FILE)
    named = {key: f"{config_path} model_options.{key}" if key in config.model_options
             else f"{key} (the default: {config_path} does not set it)" for key in sizes}
    if "block_size" not in config.model_options and task.kind == "lm":
        named["block_size"] = f"{task_path} options.block_size"  # the lm reads the task's windows
    named.update(src_vocab=f"the vocabulary size in {task_path}", tgt_vocab=f"the target vocabulary size in {task_path}")
    check_model_sizes(config.model, sizes, {k: v.shape for k, v in model_state.items()}, named)
    expected = parameter_count(config.model, *vocab_sizes, **options)
    saved = sum(int(v.size) for v in model_state.values())
    if expected != saved:
        raise CheckpointError(f"{os.path.join(path, CONFIG_FILE)} describes a {config.model} model of {expected:,} "
                              f"parameters, but {MODEL_FILE} holds {saved:,}")
