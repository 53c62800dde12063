"""A checkpoint's config is checked against its weight shapes before any model is built.

An untrusted config.json saying ``embed_dim: 1000000000`` (or a task.json with an absurd
block_size) ended in a MemoryError traceback; it is one line naming the size, its value
and the saved shape, exit status 2, for every command that loads a checkpoint.
"""

from __future__ import annotations

import shutil

import pytest

from minigrad import models
from minigrad.cli.main import cli
from minigrad.cli.train import main as train_main
from minigrad.errors import CheckpointError
from minigrad.models import checkpoint as ckpt
from testutils import assert_usage_error, edit_checkpoint_json, run

HUGE = 1_000_000_000

# Non-default sizes, so a size read from the wrong weight or axis cannot pass by chance.
SIZES = {
    "rnn": dict(embed_dim=3, hidden_dim=5, num_layers=2),
    "rnn-attn": dict(embed_dim=3, hidden_dim=5, num_layers=2, bidirectional=True, cell="lstm"),
    "rnn-luong": dict(embed_dim=3, hidden_dim=5, num_layers=2),
    "transformer": dict(d_model=6, num_heads=2, ff_dim=7, num_layers=3),
    "encoder": dict(d_model=6, num_heads=2, ff_dim=7, num_layers=3),
    "lm": dict(d_model=6, num_heads=2, ff_dim=7, num_layers=3, block_size=9),
}


def _sizes(name: str, model) -> dict:
    sizes = dict(vars(model.config))
    sizes.update(src_vocab=11) if name == "lm" else sizes.update(src_vocab=11, tgt_vocab=13)
    return sizes


def _built(name: str):
    return models.build(name, 11, **SIZES[name]) if name == "lm" else models.build(name, 11, 13, **SIZES[name])


def test_every_model_has_its_sizes_listed():
    assert set(ckpt.MODEL_SIZES) == set(models.names()) == set(ckpt.LAYER_WEIGHTS)


@pytest.mark.parametrize("name", models.names())
def test_the_sizes_of_a_built_model_fit_its_weights_and_any_other_is_named(name):
    model = _built(name)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    sizes = _sizes(name, model)
    ckpt.check_model_sizes(name, sizes, shapes)
    checked = [size for size, weight, _ in ckpt.MODEL_SIZES[name] if weight in shapes] + ["num_layers"]
    assert len(checked) >= 4
    for size in checked:
        with pytest.raises(CheckpointError, match=f"{size} is {sizes[size] + 1}, but model.safetensors holds"):
            ckpt.check_model_sizes(name, {**sizes, size: sizes[size] + 1}, shapes)


# -- through the commands ----------------------------------------------------------------------------


@pytest.fixture
def ckpt_copy(tmp_path, trained):
    """A private copy of the session's checkpoint (rnn-attn, embed 8, hidden 16, a 9-token vocabulary)."""
    copy = tmp_path / "ckpt"
    shutil.copytree(trained[0], copy)
    return copy


def _set_model_option(directory, key: str, value) -> None:
    edit_checkpoint_json(directory, ckpt.CONFIG_FILE, lambda config: config["model_options"].update({key: value}))


@pytest.mark.parametrize("command", [["eval", "{ckpt}"], ["predict", "{ckpt}", "1 2"], ["attention", "{ckpt}", "1 2"]])
def test_an_absurd_embed_dim_is_one_line_naming_it(runner, ckpt_copy, command):
    _set_model_option(ckpt_copy, "embed_dim", HUGE)
    args = [a.format(ckpt=ckpt_copy) for a in command]
    assert_usage_error(run(runner, cli, args), f"{ckpt_copy / 'config.json'} model_options.embed_dim is {HUGE}",
                       "src_embed.weight of shape (9, 8)")


@pytest.mark.parametrize("key, fragment", [("hidden_dim", "encoder.weight_hh_l0 of shape (48, 16)"),
                                           ("num_layers", "holds 1 layer")])
def test_resume_refuses_a_config_that_does_not_fit_the_weights(runner, ckpt_copy, key, fragment):
    _set_model_option(ckpt_copy, key, HUGE)
    assert_usage_error(run(runner, train_main, ["--resume", ckpt_copy, "--steps", "40", "--quiet"]),
                       f"model_options.{key} is {HUGE}", fragment)


def test_a_task_json_with_an_absurd_block_size_is_refused_by_generate(runner, tmp_path):
    data = tmp_path / "text.txt"
    data.write_text("the quick brown fox jumps over the lazy dog. " * 20)
    save = tmp_path / "lm"
    args = ["--task", "text", "--data", data, "--block-size", "8", "--d-model", "8", "--num-heads", "2",
            "--ff-dim", "16", "--steps", "1", "--batch-size", "4", "--eval-interval", "0", "--quiet", "--save", save]
    assert run(runner, train_main, args).exit_code == 0
    edit_checkpoint_json(save, ckpt.TASK_FILE, lambda task: task["options"].update(block_size=HUGE))
    assert_usage_error(run(runner, cli, ["generate", save, "--prompt", "the"]),
                       f"{save / 'task.json'} options.block_size is {HUGE}", "pos_emb.weight of shape (8, 8)")


def test_a_task_json_with_an_absurd_decode_length_is_refused_by_predict(runner, tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{w}\t{w[::-1]}\n" for w in ["cat", "dog", "bird", "fish", "frog", "mouse"]))
    save = tmp_path / "ckpt"
    args = ["--task", "file", "--data", data, "--embed-dim", "8", "--hidden-dim", "16", "--steps", "1",
            "--batch-size", "4", "--eval-interval", "0", "--quiet", "--save", save]
    assert run(runner, train_main, args).exit_code == 0
    edit_checkpoint_json(save, ckpt.TASK_FILE, lambda task: task.update(max_tgt_len=HUGE))
    assert_usage_error(run(runner, cli, ["predict", save, "cat"]), "task.json", f"max_tgt_len ({HUGE})")
