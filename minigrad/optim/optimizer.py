"""``Optimizer``: parameter groups, per-parameter state, and position-keyed state dicts.

An optimizer holds ``param_groups``, a list of dicts each with a ``"params"`` list of
Tensors and that group's options (``"lr"``, ``"weight_decay"``, ...), and ``state``, a dict
from each parameter to its named slots (``"step"``, ``"exp_avg"``, ``"momentum_buffer"``).
A subclass states its update rule in ``_update(param, grad, group, state)``; ``step()`` calls
it for every parameter whose ``.grad`` is not None.

Updates work directly on ``param.data`` in place (the same ndarray object), so they never
build a graph and every other holder of that array sees the new values.

``state_dict()`` names parameters by their position (0, 1, 2, ... across the groups in
order), never by object, so the state loads into a fresh optimizer built over new parameter
objects of the same shapes -- which is what resuming from a checkpoint needs.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping
from numbers import Real
from typing import Any, Callable, Union

import numpy as np

from ..autograd import enable_grad, no_grad
from ..errors import ShapeError
from ..tensor import Tensor

ParamsT = Union[Iterable[Tensor], Iterable[Mapping[str, Any]]]


# --------------------------------------------------------------------------- validation helpers


def check_number(owner: str, what: str, value: Any) -> None:
    """Raise TypeError unless ``value`` is a real number (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}")


def check_non_negative(owner: str, what: str, value: Any) -> None:
    """Raise ``ValueError("<owner>: Invalid <what>: <value>")`` unless ``value >= 0`` (NaN fails).

    The wording after the owner is PyTorch's ("Invalid learning rate: -1").
    """
    check_number(owner, what, value)
    if not value >= 0:
        raise ValueError(f"{owner}: Invalid {what}: {value}")


# --------------------------------------------------------------------------- the base class


class Optimizer:
    """Base class of every optimizer: parameter groups, state, ``step``, state dicts.

    ``params`` is either an iterable of Tensors (one group using ``defaults``) or an iterable
    of dicts, each a parameter group with a ``"params"`` entry and any options that override
    ``defaults`` for that group::

        SGD([{"params": model.encoder.parameters()},
             {"params": model.decoder.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)

    A parameter may appear only once across all groups (ValueError otherwise). Parameters
    must be floating-point leaf tensors.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts, got a single Tensor; "
                "wrap it in a list"
            )
        if isinstance(params, Mapping):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Append a parameter group (a dict with ``"params"`` and optional per-group options).

        Options the group does not give are filled from ``defaults``; the group's values are
        validated like the constructor's arguments.
        """
        name = type(self).__name__
        if not isinstance(param_group, Mapping):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be given in an ordered collection, not a set")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                hint = " (did you pass named_parameters()?)" if isinstance(p, tuple) else ""
                raise TypeError(f"{name}: parameter {i} of a group is a {type(p).__name__}, not a Tensor{hint}")
            if not np.issubdtype(p.data.dtype, np.floating):
                raise TypeError(f"{name}: can only optimize floating-point tensors, parameter {i} is {p.data.dtype}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf tensor (parameter {i} was produced by an op)")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a parameter appears more than once in one parameter group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        group["params"] = params
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check (and normalise) one group's hyper-parameters; subclasses extend this."""
        check_non_negative(type(self).__name__, "learning rate", group["lr"])

    # ------------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif isinstance(p.grad, np.ndarray) and p.grad.flags.writeable:
                    p.grad.fill(0)
                else:
                    p.grad = np.zeros_like(p.data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s value (or None).

        ``closure``, if given, re-evaluates the model and returns the loss (it runs with
        gradients enabled, before the update). Parameters whose ``.grad`` is None are skipped.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                for pi, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue
                    grad = self._checked_grad(p, gi, pi)
                    self._update(p, grad, group, self.state[p])
        return loss

    def _checked_grad(self, p: Tensor, gi: int, pi: int) -> np.ndarray:
        grad = p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
        where = f"{type(self).__name__}.step: parameter {pi} of group {gi}"
        if grad.shape != p.data.shape:
            raise ShapeError(f"{where}: grad of shape {grad.shape} does not match the parameter's shape {p.data.shape}")
        if not p.data.flags.writeable:
            raise ValueError(f"{where}: the parameter's data array is read-only; optimizers update it in place")
        return grad

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        """Apply this optimizer's rule to one parameter, in place on ``param.data``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, with parameters named by position.

        Returns ``{"state": {index: {slot: ndarray or number}}, "param_groups": [{option: value,
        ..., "params": [indices]}]}``. Indices count parameters across the groups in order.
        Arrays are copies, so later steps do not change a state dict already taken.
        """
        groups = []
        state: dict[int, dict[str, Any]] = {}
        index = 0
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {k: _copy_value(v) for k, v in self.state[p].items()}
                index += 1
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()`` (possibly from another optimizer over other parameter objects).

        The number of groups and of parameters in each group must match; array slots must
        have their parameter's shape and are cast to its dtype. Group options (lr, betas, ...)
        are taken from the state dict. On any error nothing is changed.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups', got {got}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, Mapping) or "params" not in saved:
                raise ValueError(f"{name}: parameter group {gi} of the state dict has no 'params' list")
            indices = list(saved["params"])
            if len(indices) != len(group["params"]):
                raise ValueError(
                    f"{name}: parameter group {gi} has {len(indices)} parameters in the state dict "
                    f"but {len(group['params'])} in this optimizer"
                )
            for index, p in zip(indices, group["params"]):
                index = _as_index(name, index)
                if index in by_index:
                    raise ValueError(f"{name}: parameter index {index} is listed twice in the state dict")
                by_index[index] = p

        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, slots in state_dict["state"].items():
            index = _as_index(name, key)
            if index not in by_index:
                raise ValueError(f"{name}: the state dict has state for parameter {index}, which no group lists")
            if not isinstance(slots, Mapping):
                raise ValueError(f"{name}: state of parameter {index} must be a dict of slots, got {type(slots).__name__}")
            p = by_index[index]
            new_state[p] = {slot: _cast_slot(name, index, slot, value, p) for slot, value in slots.items()}

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            merged = dict(group)
            merged.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            merged["params"] = group["params"]
            self._validate_group(merged)
            new_groups.append(merged)

        self.param_groups[:] = new_groups  # keep the list object: schedulers may hold it
        self.state = new_state

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _copy_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _as_index(owner: str, key: Any) -> int:
    """Parameter indices are ints; accept digit strings too (a state dict that went through JSON)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise ValueError(f"{owner}: parameter indices must be integers, got {key!r}")


def _cast_slot(owner: str, index: int, slot: str, value: Any, p: Tensor) -> Any:
    """A fresh copy of one saved state slot, shaped and typed for parameter ``p``."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        if slot == "step" and value.ndim == 0:  # e.g. a 0-d array from another framework
            return int(value)
        if value.ndim > 0 and value.shape != p.data.shape:
            raise ShapeError(
                f"{owner}: state '{slot}' of parameter {index} has shape {value.shape}, "
                f"the parameter has shape {p.data.shape}"
            )
        dtype = p.data.dtype if np.issubdtype(value.dtype, np.floating) else value.dtype
        return np.array(value, dtype=dtype, order="C", copy=True)
    return copy.deepcopy(value)
