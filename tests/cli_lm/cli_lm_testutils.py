"""Helpers of the language-model CLI tests: the training text, tiny options, the one-line-error assertion."""

from __future__ import annotations

from cli_runs import assert_usage_error  # noqa: F401  (shared with the other CLI test folder)

# Short lines over a small alphabet: a 2-layer model of width 16 learns them in 200 steps (about a second).
TEXT = "".join(f"def f{i % 7}(x):\n    return x + {i % 5}\n" for i in range(120))
TINY_LM = ["--model", "lm", "--d-model", "16", "--num-heads", "2", "--ff-dim", "32", "--num-layers", "2",
           "--block-size", "16", "--batch-size", "16", "--steps", "200", "--eval-interval", "50", "--lr", "0.01",
           "--quiet"]
