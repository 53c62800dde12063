"""Helpers of the language-model CLI tests: the training text, tiny options, the one-line-error assertion."""

from __future__ import annotations

# Short lines over a small alphabet: a 2-layer model of width 16 learns them in 200 steps (about a second).
TEXT = "".join(f"def f{i % 7}(x):\n    return x + {i % 5}\n" for i in range(120))
TINY_LM = ["--model", "lm", "--d-model", "16", "--num-heads", "2", "--ff-dim", "32", "--num-layers", "2",
           "--block-size", "16", "--batch-size", "16", "--steps", "200", "--eval-interval", "50", "--lr", "0.01",
           "--quiet"]


def assert_usage_error(result, *fragments: str) -> str:
    """Exit status 2, one 'Error:' line on stderr, no traceback; returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
