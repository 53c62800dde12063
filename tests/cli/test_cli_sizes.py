"""Sizes that cannot work end in one line before any work: a model too large for this machine
(refused before anything is allocated), task lengths no run can generate or train."""

from __future__ import annotations

import os

from minigrad import models
from minigrad.cli import memory
from minigrad.cli.main import cli
from minigrad.cli.train import main as train_main
from minigrad.models import checkpoint
from testutils import TINY, TINY_TASK, assert_usage_error, run, without


def test_a_hidden_size_no_machine_has_memory_for_is_one_line(runner):
    # About 1.1e11 parameters: 1.6 TiB with gradients and Adam's moments.
    line = assert_usage_error(run(runner, train_main, TINY_TASK + ["--hidden-dim", "100000", "--steps", "5", "--quiet"]),
                              "--hidden-dim 100000: the model (", "parameters) would need about", "TiB",
                              "this machine has", "available")
    count = models.parameter_count("rnn-attn", 9, 9, hidden_dim=100000)
    assert f"{count:,} parameters" in line


def test_a_model_just_over_the_available_memory_is_refused_before_it_is_built(runner, monkeypatch):
    needed = models.training_memory("rnn-attn", 9, 9, embed_dim=8, hidden_dim=16)
    monkeypatch.setattr(memory, "available_memory", lambda: needed - 1)
    result = run(runner, train_main, TINY)
    assert_usage_error(result, "--model rnn-attn with these sizes: the model",
                       f"about {memory.human_bytes(needed)} for its parameters",
                       f"this machine has {memory.human_bytes(needed - 1)} available")
    assert result.stdout == ""  # refused before the trainer built anything


def test_a_model_that_fits_exactly_trains(runner, monkeypatch):
    needed = models.training_memory("rnn-attn", 9, 9, embed_dim=8, hidden_dim=16)
    monkeypatch.setattr(memory, "available_memory", lambda: needed)
    result = run(runner, train_main, TINY + ["--steps", "2", "--eval-interval", "2"])
    assert result.exit_code == 0, result.output


def test_the_message_names_the_sizes_given_above_their_defaults(runner, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1)
    args = without(TINY_TASK, "--vocab-size") + ["--vocab-size", "30", "--model", "transformer", "--d-model", "128", "--ff-dim", "8", "--quiet"]
    assert_usage_error(run(runner, train_main, args), "Error: --d-model 128 --vocab-size 30: the model", "1 byte available")
    assert_usage_error(run(runner, train_main, ["--task", "add", "--quiet"]), "--model rnn-attn with these sizes")


def test_available_memory_reads_memavailable(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       2000 kB\nMemFree:         500 kB\nMemAvailable:   1500 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", str(meminfo))
    assert memory.available_memory() == 1500 * 1024


def test_available_memory_falls_back_to_sysconf(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "MEMINFO", str(tmp_path / "no-such-file"))
    pages = {"SC_PAGE_SIZE": 4096, "SC_AVPHYS_PAGES": 10}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    assert memory.available_memory() == 40960


def test_human_bytes_of_any_size():
    assert memory.human_bytes(512) == "512 bytes"
    assert memory.human_bytes(3 * 2**29) == "1.5 GiB"
    assert memory.human_bytes(160 * 2**30) == "160 GiB"
    assert memory.human_bytes(10**400).endswith(" TiB")  # no float overflow


def test_a_max_len_no_run_can_generate_is_one_line(runner):
    args = ["--max-len", "1000000", "--steps", "1", "--train-size", "100", "--quiet"]
    assert_usage_error(run(runner, train_main, args), "copy: --max-len must be <= 1000, got 1000000")


def test_a_checkpoint_whose_task_json_asks_for_a_huge_max_len_is_one_line(runner, trained, tmp_path):
    model_state, config, task_state, state = checkpoint.read_checkpoint(trained[0])
    task_state["options"]["max_len"] = 10**6
    crafted = tmp_path / "crafted"
    checkpoint.save_checkpoint(crafted, model_state=model_state, optimizer_state=None, config=config,
                               task_state=task_state, state=state)
    assert_usage_error(run(runner, cli, ["eval", crafted]), "task.json", "max_len must be <= 1000, got 1000000")
