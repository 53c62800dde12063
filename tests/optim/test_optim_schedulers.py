"""Learning-rate schedulers: lr sequences against their closed forms, state dicts, the factory."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, get_scheduler
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR, ExponentialLR, InverseSqrtLR, LambdaLR, LinearLR, LinearWarmup, LRScheduler, MultiStepLR, StepLR,
    WarmupCosine,
)

BASE = 0.5


def optimizer(lrs=(BASE,)):
    groups = [{"params": [mg.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0])


def lr_sequence(scheduler: LRScheduler, n: int) -> list[float]:
    """The lr the optimizer holds for updates 1..n (one scheduler.step() after each)."""
    lrs = []
    for _ in range(n):
        lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        assert scheduler.get_last_lr()[0] == lrs[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


CLOSED_FORMS = {
    "step": (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda e: BASE * 0.5 ** (e // 3)),
    "multistep": (lambda o: MultiStepLR(o, milestones=[5, 2], gamma=0.1),
                  lambda e: BASE * 0.1 ** ((e >= 2) + (e >= 5))),
    "exponential": (lambda o: ExponentialLR(o, gamma=0.8), lambda e: BASE * 0.8**e),
    "cosine": (
        lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.01),
        lambda e: 0.01 + (BASE - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2,
    ),
    "linear": (
        lambda o: LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
        lambda e: BASE * (0.25 + 0.75 * min(e, 8) / 8),
    ),
    "lambda": (lambda o: LambdaLR(o, lambda e: 0.9**e), lambda e: BASE * 0.9**e),
    "warmup": (lambda o: LinearWarmup(o, warmup_steps=4), lambda e: BASE * min(1.0, (e + 1) / 4)),
    "warmup_cosine": (
        lambda o: WarmupCosine(o, warmup_steps=5, total_steps=20, min_lr=0.05),
        lambda e: BASE * (e + 1) / 5 if e < 5
        else 0.05 + (BASE - 0.05) * (1 + math.cos(math.pi * min(1.0, (e - 5) / 15))) / 2,
    ),
    "inverse_sqrt": (
        lambda o: InverseSqrtLR(o, warmup_steps=6),
        lambda e: BASE * math.sqrt(6) * min((e + 1) ** -0.5, (e + 1) * 6**-1.5),
    ),
    "inverse_sqrt_d_model": (
        lambda o: InverseSqrtLR(o, warmup_steps=6, d_model=64),
        lambda e: BASE * 64**-0.5 * min((e + 1) ** -0.5, (e + 1) * 6**-1.5),
    ),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_lr_sequence_matches_closed_form(name):
    build, formula = CLOSED_FORMS[name]
    scheduler = build(optimizer())
    np.testing.assert_allclose(lr_sequence(scheduler, 30), [formula(e) for e in range(30)], rtol=1e-12)
    assert scheduler.last_epoch == 30


def test_schedule_landmarks():
    warm = WarmupCosine(optimizer(), warmup_steps=4, total_steps=10)
    lrs = lr_sequence(warm, 12)
    assert lrs[0] == BASE / 4 and lrs[3] == BASE and lrs[4] == BASE  # updates 4 and 5 at the peak
    assert lrs[9] > 0 and lrs[10] == 0.0 and lrs[11] == 0.0  # min_lr only after update 10
    peak = lr_sequence(InverseSqrtLR(optimizer(), warmup_steps=8), 20)
    assert max(peak) == pytest.approx(BASE) and int(np.argmax(peak)) == 7
    assert lr_sequence(LinearWarmup(optimizer(), warmup_steps=0), 3) == [BASE] * 3


def test_every_group_is_scheduled_from_its_own_base_lr():
    opt = optimizer(lrs=(0.5, 0.1))
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()
    assert scheduler.get_last_lr() == [0.25, 0.05]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.5, 0.1]
    per_group = LambdaLR(optimizer(lrs=(1.0, 2.0)), [lambda e: 1.0, lambda e: 0.5])
    assert per_group.get_last_lr() == [1.0, 1.0]


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_state_dict_resumes_the_schedule(name):
    build, _ = CLOSED_FORMS[name]
    opt = optimizer()
    scheduler = build(opt)
    lr_sequence(scheduler, 7)
    opt_state, sched_state = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in sched_state and "lr_lambdas" not in sched_state

    # Either loading order works: the scheduler's state dict also restores the groups' lr.
    new_opt = optimizer(lrs=(123.0,))
    new_opt.load_state_dict(opt_state)  # restores lr and initial_lr
    resumed = build(new_opt)
    resumed.load_state_dict(sched_state)
    other_opt = optimizer(lrs=(123.0,))
    other = build(other_opt)
    other_opt.load_state_dict(opt_state)
    other.load_state_dict(sched_state)
    assert lr_sequence(other, 10) == lr_sequence(build(optimizer()), 17)[7:]
    assert resumed.last_epoch == 7
    assert lr_sequence(resumed, 10) == lr_sequence(scheduler, 10)


def test_scheduler_state_dict_mismatch():
    scheduler = StepLR(optimizer(), step_size=2)
    with pytest.raises(ValueError, match="2 base lrs"):
        scheduler.load_state_dict({**scheduler.state_dict(), "base_lrs": [0.1, 0.2]})
    with pytest.raises(ValueError, match="unexpected keys"):
        scheduler.load_state_dict(CosineAnnealingLR(optimizer(), T_max=3).state_dict())


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(ValueError, match="initial_lr"):
        StepLR(optimizer(), step_size=2, last_epoch=4)
    opt = optimizer()
    StepLR(opt, step_size=2)
    assert StepLR(opt, step_size=2, last_epoch=4).get_last_lr() == [BASE * 0.1**2]  # last_epoch 5


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be >= 1, got 0"),
        (lambda o: StepLR(o, step_size=2.5), TypeError, "step_size must be an int"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be >= 1"),
        (lambda o: LinearLR(o, start_factor=0.0), ValueError, r"start_factor must be in \(0, 1\], got 0.0"),
        (lambda o: LinearLR(o, end_factor=1.5), ValueError, "end_factor must be in"),
        (lambda o: WarmupCosine(o, warmup_steps=10, total_steps=10), ValueError, "greater than warmup_steps"),
        (lambda o: WarmupCosine(o, warmup_steps=1, total_steps=10, min_lr=-1), ValueError, "Invalid min_lr: -1"),
        (lambda o: InverseSqrtLR(o, warmup_steps=0), ValueError, "warmup_steps must be >= 1"),
        (lambda o: LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]), ValueError, "expected 1 lr_lambdas"),
        (lambda o: StepLR(object(), step_size=1), TypeError, "expected a minigrad Optimizer"),
    ],
)
def test_validation(build, error, message):
    with pytest.raises(error, match=message):
        build(optimizer())


# --------------------------------------------------------------------------- factory


@pytest.mark.parametrize(
    "name, kwargs, cls",
    [
        ("constant", {}, LambdaLR),
        ("step", {"step_size": 3, "gamma": 0.5}, StepLR),
        ("cosine", {"total_steps": 10, "min_lr": 0.01}, CosineAnnealingLR),
        ("warmup", {"warmup_steps": 4}, LinearWarmup),
        ("warmup_cosine", {"warmup_steps": 5, "total_steps": 20, "min_lr": 0.05}, WarmupCosine),
        ("inverse_sqrt", {"warmup_steps": 6}, InverseSqrtLR),
    ],
)
def test_get_scheduler_builds_each_name(name, kwargs, cls):
    # the unused shared keywords (None or irrelevant) are accepted and ignored
    scheduler = get_scheduler(name, optimizer(), **{"d_model": None, **kwargs})
    assert type(scheduler) is cls
    if name == "constant":
        assert lr_sequence(scheduler, 5) == [BASE] * 5
    else:
        key = {"cosine": "cosine", "step": "step", "warmup": "warmup"}.get(name, name)
        np.testing.assert_allclose(lr_sequence(scheduler, 25), [CLOSED_FORMS[key][1](e) for e in range(25)])


def test_get_scheduler_errors():
    with pytest.raises(ValueError, match="unknown scheduler 'cosin'; valid names: constant, step, cosine, warmup, "
                                         "warmup_cosine, inverse_sqrt"):
        get_scheduler("cosin", optimizer())
    with pytest.raises(TypeError, match="needs total_steps"):
        get_scheduler("cosine", optimizer())
    with pytest.raises(TypeError, match="unexpected keyword"):
        get_scheduler("cosine", optimizer(), total_step=10)


def test_scheduler_with_adam_changes_the_update():
    p = mg.tensor(np.zeros(1), requires_grad=True)
    opt = Adam([p], lr=1.0, eps=0.0)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    deltas = []
    for _ in range(3):
        before = p.data.copy()
        p.grad = np.ones(1)
        opt.step()
        scheduler.step()
        deltas.append(float(before[0] - p.data[0]))
    np.testing.assert_allclose(deltas, [1.0, 0.5, 0.25])
