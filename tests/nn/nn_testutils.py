"""Shared helpers for tests/nn (imported by the test modules beside it)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import minigrad as mg
from minigrad import nn


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


def randn(rng: np.random.Generator, *shape: int, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


__all__ = ["flat_outputs", "gradcheck_module", "randn"]
