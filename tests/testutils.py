"""Helpers shared by the test folders (``tests/`` is on sys.path, so ``from testutils import ...``).

Sections: ops with a deliberately wrong rule (for the checkers' tests), the CLI (tiny
training arguments, running a command, the one-line-error assertion, a trained checkpoint),
models and layers (gradient checks through their parameters, random inputs, a copy batch),
and kernels (dtypes, tolerances, running a kernel under both backends).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.kernels import use_backend

# -- ops with a deliberately wrong rule ----------------------------------------------------------


def custom_function(name: str, forward: Callable[..., Any], backward: Callable[..., Any]) -> type[mg.Function]:
    """A ``Function`` subclass called ``name`` that saves its inputs: ``forward(*inputs)`` gives the
    output, ``backward(grad, *inputs)`` one gradient per input. The tests of gradcheck and
    gradgradcheck build their wrong ops with it, so the wrong rule is the one line to read."""

    def forward_(ctx, *inputs):
        ctx.save_for_backward(*inputs)
        return forward(*inputs)

    def backward_(ctx, grad):
        return backward(grad, *ctx.saved)

    return type(name, (mg.Function,), {"forward": staticmethod(forward_), "backward": staticmethod(backward_)})


# -- the CLI -------------------------------------------------------------------------------------

# A copy task small enough to train in a second or two.
TINY_TASK = ["--task", "copy", "--vocab-size", "5", "--min-len", "1", "--max-len", "4",
             "--train-size", "300", "--valid-size", "24", "--test-size", "24"]
TINY_MODEL = ["--model", "rnn-attn", "--embed-dim", "8", "--hidden-dim", "16"]
TINY_RUN = ["--batch-size", "16", "--steps", "30", "--eval-interval", "10", "--lr", "0.01", "--quiet"]
TINY = TINY_TASK + TINY_MODEL + TINY_RUN


def without(args: list[str], *flags: str) -> list[str]:
    """``args`` minus each of ``flags`` and the value after it (a flag without value: just it)."""
    out, skip = [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in flags:
            skip = i + 1 < len(args) and not args[i + 1].startswith("--")
            continue
        out.append(arg)
    return out


def run(runner: CliRunner, command, args, **kwargs):
    """Invoke ``command`` (the group or minigrad-train) and return the Result."""
    return runner.invoke(command, [str(a) for a in args], catch_exceptions=False, **kwargs)


def edit_checkpoint_json(directory, filename: str, edit) -> None:
    """Apply ``edit(dict)`` to a JSON file of a checkpoint and update the manifest in state.json,
    as a crafted (or older) checkpoint would have it: the checkpoint stays intact."""
    path, state_path = Path(directory) / filename, Path(directory) / "state.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    data = path.read_bytes()
    state = json.loads(state_path.read_text())
    state["files"][filename] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    state_path.write_text(json.dumps(state))


def train_and_save(base: Path, args: list[str]) -> tuple[Path, Path, dict]:
    """Run ``minigrad-train *args --save base/ckpt --output base/results.json`` (MINIGRAD_SEED unset).

    Returns (checkpoint dir, results path, the results.json dict); fails the test on a non-zero exit.
    """
    from minigrad.cli.train import main as train_main

    save, output = base / "ckpt", base / "results.json"
    result = CliRunner().invoke(train_main, [*args, "--save", str(save), "--output", str(output)],
                                catch_exceptions=False, env={"MINIGRAD_SEED": None})
    assert result.exit_code == 0, result.output
    return save, output, json.loads(output.read_text())


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


def one_error_line(result, *fragments: str) -> str:
    """Exit status 2 and the whole output (stdout and stderr) one 'Error:' line containing each of
    ``fragments``: no usage block, no traceback, nothing printed before the error. Returns the line."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def module_file(name: str, text: str):
    """A pytest fixture: ``text`` written to ``tmp_path / name``, a module a command imports as
    ``FILE:FUNCTION``."""

    @pytest.fixture
    def fixture(tmp_path):
        path = tmp_path / name
        path.write_text(text)
        return path

    return fixture


# The language-model CLI tests: the training text and tiny options.
# Short lines over a small alphabet: a 2-layer model of width 16 learns them in 200 steps (about a second).
TEXT = "".join(f"def f{i % 7}(x):\n    return x + {i % 5}\n" for i in range(120))
TINY_LM = ["--model", "lm", "--d-model", "16", "--num-heads", "2", "--ff-dim", "32", "--num-layers", "2",
           "--block-size", "16", "--batch-size", "16", "--steps", "200", "--eval-interval", "50", "--lr", "0.01",
           "--quiet"]


# -- models and layers ---------------------------------------------------------------------------


def gradcheck_params(module: nn.Module, fn: Callable[..., mg.Tensor], names: Sequence[str],
                     inputs: Sequence[Any] = (), **tolerances) -> bool:
    """Gradcheck ``fn(*inputs)`` in float64 w.r.t. the inputs that require grad AND the
    parameters ``names`` (dotted) of ``module``, which gradcheck's float64 copies replace
    inside the module on every call (``nn.utils.swap_tensors``). Each named parameter must
    receive a non-zero gradient, so a parameter the output ignores cannot pass vacuously."""
    module.double()
    module.zero_grad()
    out = fn(*inputs)
    (out * np.random.default_rng(1).standard_normal(out.shape)).sum().backward()
    for name in names:
        grad = module.get_parameter(name).grad
        assert grad is not None and np.abs(grad).max() > 0, f"parameter {name} gets no gradient"
    module.zero_grad()
    params = [mg.tensor(module.get_parameter(name).data.copy(), requires_grad=True) for name in names]
    inputs = [mg.tensor(x.data.astype(np.float64), requires_grad=True)
              if isinstance(x, mg.Tensor) and x.requires_grad else x for x in inputs]
    n = len(inputs)

    def call(*tensors):
        with nn.utils.swap_tensors(module, dict(zip(names, tensors[n:]))):
            return fn(*tensors[:n])

    return mg.gradcheck(call, list(inputs) + params, **tolerances)


def randn(rng: np.random.Generator, *shape: int, requires_grad: bool = True, dtype=np.float64) -> mg.Tensor:
    """A standard-normal Tensor of ``shape`` (float64 unless ``dtype``) drawn from ``rng``."""
    return mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def copy_batch(rng: np.random.Generator, batch: int = 8, length: int = 5, vocab: int = 8,
               bos: int = 1, eos: int = 2, first: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A copy task batch: src (B, L) of tokens in [first, vocab), tgt_in = BOS + src,
    tgt_out = src + EOS."""
    src = rng.integers(first, vocab, size=(batch, length))
    tgt_in = np.concatenate([np.full((batch, 1), bos), src], axis=1)
    tgt_out = np.concatenate([src, np.full((batch, 1), eos)], axis=1)
    return src, tgt_in, tgt_out


def flat_outputs(result: Any) -> tuple:
    """(out, h) / (out, (h, c)) / h / (h, c) -> a flat tuple of Tensors."""
    if isinstance(result, mg.Tensor):
        return (result,)
    flat: list = []
    for item in result:
        flat.extend(flat_outputs(item))
    return tuple(flat)


def gradcheck_module(module: nn.Module, inputs: Sequence[Any], call: Callable | None = None, **tolerances) -> bool:
    """Gradcheck ``module`` in float64 w.r.t. every input Tensor that requires grad AND every
    parameter, through ``functional_call`` (gradcheck perturbs its own float64 copies, so the
    parameters are passed in as inputs and swapped into the module on each call).

    ``call(module, *inputs)`` defaults to ``module(*inputs)``; its result may be nested tuples.
    """
    module.double()
    names = [name for name, _ in module.named_parameters()]
    params = [mg.tensor(p.data.copy(), requires_grad=True) for _, p in module.named_parameters()]
    inputs = [mg.tensor(x.data.astype(np.float64), requires_grad=True)
              if isinstance(x, mg.Tensor) and x.requires_grad else x for x in inputs]
    n = len(inputs)
    call = call or (lambda m, *xs: m(*xs))

    def fn(*tensors):
        xs, ps = tensors[:n], tensors[n:]
        with nn.utils.swap_tensors(module, dict(zip(names, ps))):
            return flat_outputs(call(module, *xs))

    return mg.gradcheck(fn, list(inputs) + params, **tolerances)


# -- kernels -------------------------------------------------------------------------------------

DTYPES = (np.float32, np.float64)

# Agreement between the Numba kernels and the NumPy references. float32 differs by
# summation order, float64 accumulators inside the kernels and the vectorized exp/tanh/erf:
# a few ulps of the largest magnitude involved. float64 must agree to ~1e-12 relative.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}

dtypes = st.sampled_from(DTYPES)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def both_backends(fn, *args, **kwargs):
    """Return (numba result, numpy result) of the public kernel ``fn``."""
    with use_backend("numba"):
        fast = fn(*args, **kwargs)
    with use_backend("numpy"):
        slow = fn(*args, **kwargs)
    return fast, slow


def random_array(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


def non_contiguous(x: np.ndarray) -> np.ndarray:
    """A non-contiguous array equal to ``x`` (every other element of a larger buffer)."""
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype) if x.ndim else None
    if big is None:
        return x.copy()
    big[..., ::2] = x
    out = big[..., ::2]
    assert not out.flags.c_contiguous or x.shape[-1] <= 1
    return out


def assert_close(actual, expected, dtype, scale: float = 1.0, rtol: float | None = None) -> None:
    """Assert same shape, exact dtype, and values equal within the dtype's tolerance.

    ``scale`` multiplies the absolute tolerance (for quantities of magnitude ``scale``).
    """
    dtype = np.dtype(dtype)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype, (actual.dtype, dtype)
    assert actual.shape == np.shape(expected), (actual.shape, np.shape(expected))
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(
        actual, expected, rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] * scale
    )
