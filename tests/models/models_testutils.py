"""Shared helpers for tests/models (imported by the test modules beside it)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import minigrad as mg
from minigrad import nn


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
    return mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def copy_batch(rng: np.random.Generator, batch: int = 8, length: int = 5, vocab: int = 8,
               bos: int = 1, eos: int = 2, first: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A copy task batch: src (B, L) of tokens in [first, vocab), tgt_in = BOS + src,
    tgt_out = src + EOS."""
    src = rng.integers(first, vocab, size=(batch, length))
    tgt_in = np.concatenate([np.full((batch, 1), bos), src], axis=1)
    tgt_out = np.concatenate([src, np.full((batch, 1), eos)], axis=1)
    return src, tgt_in, tgt_out


__all__ = ["gradcheck_params", "randn", "copy_batch"]
