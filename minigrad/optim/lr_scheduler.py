"""Learning-rate schedules, PyTorch style: each ``step()`` writes a new ``group["lr"]``.

Usage is PyTorch's: build the scheduler after the optimizer, call ``optimizer.step()`` then
``scheduler.step()`` once per training step (or epoch)::

    opt = Adam(model.parameters(), lr=1e-3)
    sched = WarmupCosine(opt, warmup_steps=100, total_steps=5000)
    for batch in batches:
        ...; opt.step(); sched.step()

``last_epoch`` counts the ``step()`` calls: building the scheduler already performs the
first one (``last_epoch = 0``), so the lr used by the ``k``-th optimizer update (k = 1, 2, ...)
is the schedule at ``last_epoch = k - 1``. Each group's starting lr is remembered as
``group["initial_lr"]`` (the "base lr"), and every schedule here is a closed form of
``(base_lr, last_epoch)``: setting ``group["lr"]`` by hand between steps is overwritten by the
next ``step()``, not compounded.

``state_dict()`` holds only numbers and lists (JSON-friendly); ``load_state_dict`` restores
``last_epoch``, the base lrs and the groups' current lr.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

from .optimizer import Optimizer, check_non_negative, check_number


def _check_int(owner: str, what: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {what} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {what} must be >= {minimum}, got {value}")


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` as a closed form of ``base_lrs`` and ``last_epoch``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a minigrad Optimizer, got {type(optimizer).__name__}")
        _check_int(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{name}: resuming with last_epoch={last_epoch} needs param_groups[{i}]['initial_lr'] "
                        "(set when a scheduler was first built; load the optimizer's state_dict first)"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The lr of every group at ``self.last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def step(self) -> None:
        """Advance ``last_epoch`` by one and write the schedule's lr into every group."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs written by the latest ``step()``, one per parameter group."""
        return list(self._last_lr)

    _not_saved = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (and, for ``LambdaLR``, the functions)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` taken from a scheduler of the same class and groups.

        Each group's ``"lr"`` is set to the saved last lr, so it does not matter whether the
        optimizer's state dict is loaded before or after the scheduler is built.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or "last_epoch" not in state_dict:
            raise ValueError(f"{name}: expected a scheduler state dict with a 'last_epoch' entry")
        base_lrs = state_dict.get("base_lrs", self.base_lrs)
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(base_lrs)} base lrs, "
                f"the optimizer has {len(self.optimizer.param_groups)} parameter groups"
            )
        unknown = sorted(set(state_dict) - set(self.state_dict()))
        if unknown:
            raise ValueError(f"{name}: unexpected keys {unknown} (a state dict of another scheduler class?)")
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in state_dict.items()})
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(last_epoch)``; ``lr_lambda`` is one function or one per group.

    The functions are not part of ``state_dict()``: rebuild the scheduler with them, then load.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
        last_epoch: int = -1,
    ):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * groups
        else:
            self.lr_lambdas = list(lr_lambda)
            if len(self.lr_lambdas) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per group), got {len(self.lr_lambdas)}")
            for i, fn in enumerate(self.lr_lambdas):
                if not callable(fn):
                    raise TypeError(f"LambdaLR: lr_lambda {i} is not callable: {fn!r}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (last_epoch // step_size)``: decay by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        _check_int("StepLR", "step_size", step_size, 1)
        check_non_negative("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= last_epoch)``: decay by ``gamma`` at each milestone."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        for milestone in milestones:
            _check_int("MultiStepLR", "a milestone", milestone, 0)
        check_non_negative("MultiStepLR", "gamma", gamma)
        self.milestones = sorted(milestones)  # PyTorch counts repeated milestones twice; so does this
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        passed = sum(1 for milestone in self.milestones if milestone <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** last_epoch``: decay by ``gamma`` every step."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        check_non_negative("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from ``base_lr`` to ``eta_min`` over ``T_max`` steps (SGDR without restarts).

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2``.
    This is the closed form PyTorch's recursive version approximates; like it, the cosine
    keeps going past ``T_max`` (rising again), so set ``T_max`` to the training length.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        check_non_negative("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Multiply ``base_lr`` by a factor going linearly from ``start_factor`` to ``end_factor``.

    ``lr = base_lr * (start_factor + (end_factor - start_factor) * min(last_epoch, total_iters) / total_iters)``;
    constant at ``base_lr * end_factor`` once ``last_epoch >= total_iters``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        check_number("LinearLR", "start_factor", start_factor)
        check_number("LinearLR", "end_factor", end_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        _check_int("LinearLR", "total_iters", total_iters, 1)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class LinearWarmup(LRScheduler):
    """Linear warmup to ``base_lr`` over ``warmup_steps`` updates, then constant.

    ``lr = base_lr * min(1, (last_epoch + 1) / warmup_steps)``: the first update uses
    ``base_lr / warmup_steps`` (never 0), update number ``warmup_steps`` the full ``base_lr``.
    ``warmup_steps=0`` means no warmup.
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, last_epoch: int = -1):
        _check_int("LinearWarmup", "warmup_steps", warmup_steps, 0)
        self.warmup_steps = warmup_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = 1.0 if self.warmup_steps == 0 else min(1.0, (self.last_epoch + 1) / self.warmup_steps)
        return [base * factor for base in self.base_lrs]


class WarmupCosine(LRScheduler):
    """Linear warmup for ``warmup_steps`` updates, then cosine decay to ``min_lr`` at ``total_steps``.

    With ``s = last_epoch`` (0 for the first update), ``W = warmup_steps``, ``T = total_steps``::

        s <  W:  lr = base_lr * (s + 1) / W
        s >= W:  lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * min(1, (s - W) / (T - W)))) / 2

    so updates ``W`` and ``W + 1`` both use ``base_lr``, the decay reaches ``min_lr`` right
    after the ``T``-th update and stays there (no update in a run of ``T`` is wasted on
    lr 0). ``min_lr`` is an absolute lr, the same for every group.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        min_lr: float = 0.0,
        last_epoch: int = -1,
    ):
        _check_int("WarmupCosine", "warmup_steps", warmup_steps, 0)
        _check_int("WarmupCosine", "total_steps", total_steps, 1)
        if total_steps <= warmup_steps:
            raise ValueError(
                f"WarmupCosine: total_steps ({total_steps}) must be greater than warmup_steps ({warmup_steps})"
            )
        check_non_negative("WarmupCosine", "min_lr", min_lr)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        s, warmup = self.last_epoch, self.warmup_steps
        if s < warmup:
            return [base * (s + 1) / warmup for base in self.base_lrs]
        progress = min(1.0, (s - warmup) / (self.total_steps - warmup))
        cosine = (1 + math.cos(math.pi * progress)) / 2
        return [self.min_lr + (base - self.min_lr) * cosine for base in self.base_lrs]


class InverseSqrtLR(LRScheduler):
    """The schedule of "Attention Is All You Need": linear warmup, then decay as 1/sqrt(step).

    With ``s = last_epoch + 1`` (the paper's step number, 1 for the first update) and
    ``W = warmup_steps``:

    - ``d_model=None`` (default): ``lr = base_lr * sqrt(W) * min(s**-0.5, s * W**-1.5)``,
      normalised so the peak, reached at ``s = W``, equals ``base_lr``.
    - ``d_model`` given: ``lr = base_lr * d_model**-0.5 * min(s**-0.5, s * W**-1.5)``, the
      paper's formula times ``base_lr``; use ``lr=1.0`` in the optimizer for the paper's exact
      values (which also used Adam with betas (0.9, 0.98), eps 1e-9, W = 4000).
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, d_model: int | None = None, last_epoch: int = -1):
        _check_int("InverseSqrtLR", "warmup_steps", warmup_steps, 1)
        if d_model is not None:
            _check_int("InverseSqrtLR", "d_model", d_model, 1)
        self.warmup_steps = warmup_steps
        self.d_model = d_model
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        s, warmup = self.last_epoch + 1, self.warmup_steps
        shape = min(s**-0.5, s * warmup**-1.5)
        scale = math.sqrt(warmup) if self.d_model is None else self.d_model**-0.5
        return [base * scale * shape for base in self.base_lrs]


# --------------------------------------------------------------------------- factory


def _constant(optimizer: Optimizer, last_epoch: int = -1) -> LambdaLR:
    return LambdaLR(optimizer, _one, last_epoch=last_epoch)


def _one(_: int) -> float:
    return 1.0


# name -> (builder, {factory keyword: builder keyword}, required factory keywords)
_SCHEDULERS: dict[str, tuple[Callable[..., LRScheduler], dict[str, str], tuple[str, ...]]] = {
    "constant": (_constant, {}, ()),
    "step": (StepLR, {"step_size": "step_size", "gamma": "gamma"}, ("step_size",)),
    "cosine": (CosineAnnealingLR, {"total_steps": "T_max", "min_lr": "eta_min"}, ("total_steps",)),
    "warmup": (LinearWarmup, {"warmup_steps": "warmup_steps"}, ("warmup_steps",)),
    "warmup_cosine": (
        WarmupCosine,
        {"warmup_steps": "warmup_steps", "total_steps": "total_steps", "min_lr": "min_lr"},
        ("warmup_steps", "total_steps"),
    ),
    "inverse_sqrt": (InverseSqrtLR, {"warmup_steps": "warmup_steps", "d_model": "d_model"}, ("warmup_steps",)),
}
SCHEDULER_NAMES: tuple[str, ...] = tuple(_SCHEDULERS)
_FACTORY_KEYWORDS = ("total_steps", "warmup_steps", "min_lr", "step_size", "gamma", "d_model", "last_epoch")


def get_scheduler(name: str, optimizer: Optimizer, **kwargs: Any) -> LRScheduler:
    """Build a scheduler by name, for command lines and config files.

    Names: ``constant`` (lr never changes), ``step`` (StepLR: ``step_size``, ``gamma``),
    ``cosine`` (CosineAnnealingLR: ``total_steps`` -> T_max, ``min_lr`` -> eta_min),
    ``warmup`` (LinearWarmup: ``warmup_steps``), ``warmup_cosine`` (WarmupCosine:
    ``warmup_steps``, ``total_steps``, ``min_lr``), ``inverse_sqrt`` (InverseSqrtLR:
    ``warmup_steps``, ``d_model``).

    Keywords come from one shared vocabulary (``total_steps, warmup_steps, min_lr, step_size,
    gamma, d_model, last_epoch``) so a caller can pass all its schedule options whatever the
    name; keywords a schedule does not use are ignored, keywords outside the vocabulary are a
    TypeError, and an unknown name is a ValueError listing the valid ones.
    """
    if name not in _SCHEDULERS:
        raise ValueError(f"get_scheduler: unknown scheduler {name!r}; valid names: {', '.join(SCHEDULER_NAMES)}")
    unknown = sorted(set(kwargs) - set(_FACTORY_KEYWORDS))
    if unknown:
        raise TypeError(f"get_scheduler: unexpected keyword(s) {unknown}; accepted: {', '.join(_FACTORY_KEYWORDS)}")
    builder, mapping, required = _SCHEDULERS[name]
    missing = [key for key in required if kwargs.get(key) is None]
    if missing:
        raise TypeError(f"get_scheduler: the {name!r} schedule needs {', '.join(missing)}")
    args = {target: kwargs[key] for key, target in mapping.items() if kwargs.get(key) is not None}
    if "last_epoch" in kwargs:
        args["last_epoch"] = kwargs["last_epoch"]
    return builder(optimizer, **args)
