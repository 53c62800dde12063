"""``minigrad.nn.utils``: gradient clipping (implemented in ``minigrad.optim.clip``) and
``functional_call``.

``clip_grad_norm_(params, max_norm)`` returns the total norm before clipping.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

from ..optim.clip import clip_grad_norm_, clip_grad_value_
from ..tensor import Tensor
from .module import Module

__all__ = ["clip_grad_norm_", "clip_grad_value_", "functional_call", "swap_tensors"]


@contextlib.contextmanager
def swap_tensors(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[Module]:
    """Within the ``with`` block, the parameters and buffers named in ``tensors`` (dotted
    names as in ``state_dict``) are replaced by the given Tensors (any Tensor, graph
    outputs included); the originals are put back afterwards, even on error."""
    saved: list[tuple[dict, str, Any]] = []
    try:
        for key, value in tensors.items():
            if not isinstance(value, Tensor):
                raise TypeError(f"swap_tensors: value for {key!r} must be a Tensor, got {type(value).__name__}")
            path, _, name = key.rpartition(".")
            owner = module.get_submodule(path)
            for registry in (owner._parameters, owner._buffers):
                if name in registry:
                    saved.append((registry, name, registry[name]))
                    registry[name] = value
                    break
            else:
                where = f"{type(owner).__name__} at {path or '<root>'!r}"
                raise KeyError(f"swap_tensors: {where} has no parameter or buffer {name!r}")
        yield module
    finally:
        for registry, name, original in reversed(saved):
            registry[name] = original


def functional_call(module: Module, tensors: Mapping[str, Tensor], args: Any = (), kwargs: Mapping | None = None) -> Any:
    """Call ``module(*args, **kwargs)`` with some parameters/buffers replaced by ``tensors``
    (name -> Tensor), like ``torch.func.functional_call``. Used to gradcheck a layer with
    respect to its parameters, and to differentiate through weights computed by a graph."""
    if not isinstance(args, tuple):
        args = (args,)
    with swap_tensors(module, tensors):
        return module(*args, **(kwargs or {}))
