"""``minigrad generate CKPT``: streamed sampling from a language-model checkpoint."""

from __future__ import annotations

import sys

import pytest

from minigrad.cli.commands.generate import command as generate
from minigrad.cli.main import cli
from testutils import TEXT, assert_usage_error


def run(runner, args, command=generate):
    return runner.invoke(command, [str(a) for a in args], catch_exceptions=False)


def test_same_seed_same_text(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    args = [ckpt, "--prompt", "def ", "--max-new-tokens", "40", "--seed", "7"]
    first, second = run(runner, args), run(runner, args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    assert first.stdout.startswith("def ") and first.stdout.endswith("\n")
    assert len(first.stdout) == len("def ") + 40 + 1  # one character per token, then a newline
    assert set(first.stdout) <= set(TEXT)  # only characters of the training text
    others = {run(runner, args[:-1] + [seed]).stdout for seed in ("8", "9", "10")}
    assert others - {first.stdout}, "different seeds should give different samples"


def test_seed_from_environment_and_random_seed_reported(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    args = [str(ckpt), "--prompt", "def ", "--max-new-tokens", "20"]
    with_flag = run(runner, args + ["--seed", "3"])
    from_env = runner.invoke(generate, args, env={"MINIGRAD_SEED": "3"}, catch_exceptions=False)
    assert from_env.stdout == with_flag.stdout and from_env.stderr == ""
    random = run(runner, args)
    assert random.exit_code == 0
    seed = random.stderr.split()[1]  # "seed N (pass --seed N to repeat this sample)"
    assert run(runner, args + ["--seed", seed]).stdout == random.stdout


def test_learned_the_text(runner, lm_checkpoint):
    ckpt, results = lm_checkpoint
    valid = results["metrics"]["valid"]
    assert valid["loss"] < 0.5  # the unigram baseline of this text is about 2.8 nats
    out = run(runner, [ckpt, "--prompt", "def f1(x):\n    return", "--max-new-tokens", "7", "--temperature", "0"])
    assert out.stdout[:-3] == "def f1(x):\n    return x + " and out.stdout[-3] in "01234", repr(out.stdout)


def test_greedy_ignores_the_seed_and_top_k_1_is_greedy(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    base = [ckpt, "--prompt", "def", "--max-new-tokens", "30"]
    greedy = run(runner, base + ["--temperature", "0", "--seed", "1"]).stdout
    assert run(runner, base + ["--temperature", "0", "--seed", "2"]).stdout == greedy
    assert run(runner, base + ["--top-k", "1", "--seed", "5"]).stdout == greedy
    assert run(runner, base + ["--top-p", "0.01", "--seed", "6"]).stdout == greedy  # the nucleus is the top token


@pytest.mark.filterwarnings("error")  # a NumPy RuntimeWarning fails the test
@pytest.mark.parametrize("option", [["--top-p", "1e-9"], ["--temperature", "1e-320"]])
def test_a_tiny_nucleus_or_temperature_samples_no_special_token(runner, lm_checkpoint, option):
    ckpt, _ = lm_checkpoint
    base = [ckpt, "--prompt", "def", "--max-new-tokens", "30", "--seed", "1"]
    result = run(runner, base + option)
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert "<" not in result.stdout  # none of <pad> <bos> <eos> <unk>
    assert result.stdout == run(runner, base + ["--temperature", "0"]).stdout  # greedy: the nucleus is the top token


def test_default_prompt_is_a_line_break(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    out = run(runner, [ckpt, "--max-new-tokens", "5", "--seed", "0"])
    assert out.exit_code == 0 and out.stdout.startswith("\n") and len(out.stdout) == 1 + 5 + 1


def test_long_prompt_and_zero_tokens(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    prompt = TEXT[:200]  # longer than the block size (16): the model reads its last 16 characters
    out = run(runner, [ckpt, "--prompt", prompt, "--max-new-tokens", "10", "--seed", "0"])
    assert out.exit_code == 0 and out.stdout.startswith(prompt)
    assert run(runner, [ckpt, "--prompt", "def", "--max-new-tokens", "0"]).stdout == "def\n"


def test_streams_tokens_as_they_are_sampled(runner, lm_checkpoint, monkeypatch):
    """Each token is written before the next one is drawn."""
    from minigrad.models.lm import LanguageModel

    ckpt, _ = lm_checkpoint
    real = LanguageModel.generate_stream
    written = []

    def spy(self, *args, **kwargs):
        stream = real(self, *args, **kwargs)

        def tokens():
            for token in stream:
                yield token
                sys.stdout.flush()
                written.append(len(sys.stdout.buffer.getvalue()))  # what the command wrote so far

        return tokens()

    monkeypatch.setattr(LanguageModel, "generate_stream", spy)
    out = run(runner, [ckpt, "--prompt", "def", "--max-new-tokens", "5", "--seed", "0"])
    assert out.exit_code == 0
    assert written == [4, 5, 6, 7, 8]  # "def" + one more character after every token


def test_registered_in_the_minigrad_group(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    args = [ckpt, "--prompt", "def", "--max-new-tokens", "12", "--seed", "4"]
    assert run(runner, ["generate", *args], command=cli).stdout == run(runner, args).stdout
    assert "generate" in run(runner, ["--help"], command=cli).stdout


# =============================================================================== bad input


def test_prompt_outside_the_vocabulary(runner, lm_checkpoint):
    ckpt, _ = lm_checkpoint
    out = run(runner, [ckpt, "--prompt", "déf €"])
    assert_usage_error(out, "outside the checkpoint's vocabulary", "'é'", "'€'")


def test_seq2seq_checkpoint_is_refused(runner, tmp_path):
    from minigrad.cli.train import main as train_main

    ckpt = tmp_path / "copy"
    trained = runner.invoke(train_main, ["--task", "copy", "--vocab-size", "4", "--max-len", "3", "--train-size", "50",
                                         "--valid-size", "8", "--test-size", "8", "--model", "rnn", "--embed-dim", "4",
                                         "--hidden-dim", "8", "--steps", "2", "--eval-interval", "0", "--quiet",
                                         "--save", str(ckpt)], catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    assert_usage_error(run(runner, [ckpt, "--prompt", "1 2"]), "needs a language-model checkpoint", "minigrad predict")


@pytest.mark.parametrize("args, fragments", [
    (["--temperature", "-1"], ["--temperature"]),
    (["--top-k", "0"], ["--top-k"]),
    (["--top-p", "0"], ["--top-p"]),
    (["--top-p", "1.5"], ["--top-p"]),
    (["--max-new-tokens", "-3"], ["--max-new-tokens"]),
    (["--seed", "-1"], ["--seed"]),
])
def test_bad_options(runner, lm_checkpoint, args, fragments):
    ckpt, _ = lm_checkpoint
    assert_usage_error(run(runner, [ckpt, "--prompt", "def", *args]), *fragments)


def test_missing_and_corrupt_checkpoints(runner, lm_checkpoint, tmp_path):
    assert_usage_error(run(runner, [tmp_path / "nowhere", "--prompt", "a"]), "nowhere")
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(lm_checkpoint[0], broken)
    with open(broken / "model.safetensors", "r+b") as f:
        f.seek(-8, 2)
        f.write(b"\x00" * 8)
    assert_usage_error(run(runner, [broken, "--prompt", "def"]), "model.safetensors")
