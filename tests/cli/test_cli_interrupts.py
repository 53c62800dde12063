"""Ctrl-C at any moment of a run, and the end of input at an --interactive prompt.

A Ctrl-C ends with the last completed step saved (with --save), one line saying where,
and exit status 130; never Click's "Aborted!". The interrupts here are real SIGINTs
(``signal.raise_signal``) delivered from a hook at a chosen point of the run, so every
test is deterministic.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys

import pytest

from minigrad.cli import render
from minigrad.cli.train import main as train_main
from minigrad.models import checkpoint as ckpt
from minigrad.models import training
from minigrad.models.train import loop  # the loop looks its helpers up here: the hooks go there
from testutils import TINY, assert_usage_error, run, without

# Validation only at the end, so until then nothing is saved.
END_ONLY = without(TINY, "--eval-interval") + ["--eval-interval", "0"]


def sigint_on_call(monkeypatch, owner, name: str, call: int = 1) -> None:
    """Deliver a real SIGINT to this process at the start of the ``call``-th call of ``owner.name``."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            signal.raise_signal(signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


def one_line_exit_130(result) -> str:
    """Exit status 130 and exactly one line on stderr, without a traceback or "Aborted!"."""
    assert result.exit_code == 130, (result.exit_code, result.output)
    assert "Traceback" not in result.output and "Aborted" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def saved_step(directory) -> int:
    """The step of the complete checkpoint in ``directory`` (manifest checked)."""
    return ckpt.read_checkpoint(directory)[3].step


# -- after the last step: validation, final evaluation, the summary --------------------------------


def test_ctrl_c_while_the_minigrad_train_process_evaluates_saves_the_last_step(tmp_path):
    """minigrad-train in a process of its own, as a user runs it: a SIGINT while it evaluates after
    the 40 steps saves step 40 and says so in one line, exit status 130."""
    hook = ("import os, signal, sys\n"
            "from minigrad.models.train import loop\n"
            "original = loop.evaluate\n"
            "def evaluate(*args, **kwargs):\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    return original(*args, **kwargs)\n"
            "loop.evaluate = evaluate\n"
            "from minigrad.cli.train import main\n"
            "sys.argv[0] = 'minigrad-train'\n"
            "main()\n")
    args = ["--steps", "40", "--eval-interval", "0", "--eval-size", "1000", "--save", "ck", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_SEED"}
    done = subprocess.run([sys.executable, "-c", hook, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["Interrupted after step 40; checkpoint saved to ck "
                                                "(continue with --resume ck)"]
    assert saved_step(tmp_path / "ck") == 40


@pytest.mark.parametrize("owner, name, call", [
    (loop, "evaluate", 1),        # the end-of-run validation (nothing saved before it)
    (ckpt, "_write_files", 1),        # the middle of the save that validation makes
    (loop, "evaluate", 3),        # the final evaluation, on valid
    (render, "metrics_table", 1),     # printing the results
], ids=["validation", "saving", "final-evaluation", "summary"])
def test_ctrl_c_after_the_last_step_keeps_it_saved(runner, tmp_path, monkeypatch, owner, name, call):
    save = tmp_path / "ck"
    sigint_on_call(monkeypatch, owner, name, call)
    line = one_line_exit_130(run(runner, train_main, END_ONLY + ["--save", save]))
    assert line == f"Interrupted after step 30; checkpoint saved to {save} (continue with --resume {save})"
    assert saved_step(save) == 30
    assert sorted(os.listdir(tmp_path)) == ["ck"]  # no temporary directory left behind


def test_ctrl_c_during_validation_without_save_is_one_line(runner, monkeypatch):
    sigint_on_call(monkeypatch, loop, "evaluate")
    line = one_line_exit_130(run(runner, train_main, END_ONLY))
    assert line == "Interrupted after step 30 (use --save DIR to keep a checkpoint)"


# -- before the first step -------------------------------------------------------------------------


@pytest.mark.parametrize("owner, name", [(loop, "build_model"), (training.Trainer, "_loss")],
                         ids=["building-the-model", "first-step"])
def test_ctrl_c_before_the_first_step_leaves_no_checkpoint(runner, tmp_path, monkeypatch, owner, name):
    sigint_on_call(monkeypatch, owner, name)
    line = one_line_exit_130(run(runner, train_main, END_ONLY + ["--save", tmp_path / "ck"]))
    assert line == "Interrupted before the first step; nothing was saved"
    assert os.listdir(tmp_path) == []


def test_ctrl_c_before_the_first_step_without_save(runner, monkeypatch):
    sigint_on_call(monkeypatch, training.Trainer, "_loss")
    assert one_line_exit_130(run(runner, train_main, END_ONLY)) == "Interrupted before the first step"


def test_ctrl_c_before_a_resumed_run_trains_leaves_its_checkpoint(runner, tmp_path, monkeypatch, trained):
    import shutil

    save = tmp_path / "ck"
    shutil.copytree(trained[0], save)
    sigint_on_call(monkeypatch, training.Trainer, "_loss")
    line = one_line_exit_130(run(runner, train_main, ["--resume", save, "--steps", "40", "--quiet"]))
    assert line == f"Interrupted after step 30; checkpoint saved to {save} (continue with --resume {save})"
    assert saved_step(save) == 30


# -- --interactive: Ctrl-C or the end of input at a prompt ---------------------------------------


@pytest.mark.parametrize("answers, prompt", [("", "Task"), ("reverse\n", "Model"), ("reverse\nrnn\n", "Steps")])
def test_interactive_at_the_end_of_input_is_one_error_line(runner, answers, prompt):
    args = without(TINY, "--task", "--model", "--steps") + ["--interactive"]
    line = assert_usage_error(run(runner, train_main, args, input=answers), f"the {prompt!r} prompt", "--interactive")
    assert "Aborted" not in line


class _CtrlCInput(io.RawIOBase):
    """Standard input on which reading is interrupted by a SIGINT (a Ctrl-C at the prompt)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        signal.raise_signal(signal.SIGINT)
        return 0


def test_ctrl_c_at_an_interactive_prompt(runner, tmp_path):
    args = without(TINY, "--task", "--model", "--steps") + ["--interactive", "--save", tmp_path / "ck"]
    line = one_line_exit_130(run(runner, train_main, args, input=io.BufferedReader(_CtrlCInput())))
    assert line == "Interrupted before the first step; nothing was saved"
    assert os.listdir(tmp_path) == []


def test_ctrl_c_in_another_command_is_one_line(runner, monkeypatch, trained):
    from minigrad.cli.main import cli

    sigint_on_call(monkeypatch, training, "evaluate")
    assert one_line_exit_130(run(runner, cli, ["eval", trained[0]])) == "Interrupted"
