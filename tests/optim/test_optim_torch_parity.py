"""Parity with PyTorch CPU: optimizer trajectories, scheduler lr sequences, gradient clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, AdamW, clip_grad_norm_
from minigrad.optim import lr_scheduler as ours

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")

pytestmark = pytest.mark.torch

STEPS = 20


# --------------------------------------------------------------------------- optimizers


def linear_regression_problem(seed: int = 0):
    """Least squares 0.5 * ||X @ W.T + c - Y||^2 / n: a weight matrix and a bias, two parameters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(16, 5))
    Y = rng.normal(size=(16, 3))
    W0 = rng.normal(size=(3, 5))
    c0 = rng.normal(size=(3,))
    return X, Y, W0, c0


def grads_of(X, Y, W, c):
    residual = (X @ W.T + c - Y) / len(X)  # (n, 3)
    return residual.T @ X, residual.sum(axis=0)


CASES = {
    "sgd": (SGD, torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    "sgd_dampening": (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.05)),
    "adam": (Adam, torch.optim.Adam, dict(lr=0.05)),
    "adam_weight_decay": (Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamw": (AdamW, torch.optim.AdamW, dict(lr=0.05)),
    "adamw_strong_decay": (AdamW, torch.optim.AdamW, dict(lr=0.05, eps=1e-6, weight_decay=0.3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_trajectory_matches_torch(name):
    ours_cls, torch_cls, hyper = CASES[name]
    X, Y, W0, c0 = linear_regression_problem()
    W, c = mg.tensor(W0.copy(), requires_grad=True), mg.tensor(c0.copy(), requires_grad=True)
    tW = torch.tensor(W0.copy(), requires_grad=True)
    tc = torch.tensor(c0.copy(), requires_grad=True)
    # two groups, the bias at half the lr, to cover per-group options as well
    opt = ours_cls([{"params": [W]}, {"params": [c], "lr": hyper["lr"] / 2}], **hyper)
    topt = torch_cls([{"params": [tW]}, {"params": [tc], "lr": hyper["lr"] / 2}], **hyper)
    for _ in range(STEPS):
        W.grad, c.grad = grads_of(X, Y, W.data, c.data)
        gW, gc = grads_of(X, Y, tW.detach().numpy(), tc.detach().numpy())
        tW.grad, tc.grad = torch.from_numpy(gW), torch.from_numpy(gc)
        opt.step()
        topt.step()
    np.testing.assert_allclose(W.data, tW.detach().numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(c.data, tc.detach().numpy(), rtol=1e-11, atol=1e-12)
    assert not np.allclose(W.data, W0)  # it moved


# --------------------------------------------------------------------------- schedulers


def paired_optimizers(lrs=(0.5, 0.2)):
    ours_groups = [{"params": [mg.tensor(np.zeros(1), requires_grad=True)], "lr": lr} for lr in lrs]
    torch_groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(ours_groups, lr=lrs[0]), torch.optim.SGD(torch_groups, lr=lrs[0])


def warmup_cosine_lambda(warmup, total, min_ratio):
    def factor(e):
        if e < warmup:
            return (e + 1) / warmup
        progress = min(1.0, (e - warmup) / (total - warmup))
        return min_ratio + (1 - min_ratio) * (1 + math.cos(math.pi * progress)) / 2
    return factor


def inverse_sqrt_lambda(warmup):
    return lambda e: math.sqrt(warmup) * min((e + 1) ** -0.5, (e + 1) * warmup**-1.5)


SCHEDULES = {
    "step": (lambda o: ours.StepLR(o, step_size=4, gamma=0.3),
             lambda t: torch.optim.lr_scheduler.StepLR(t, step_size=4, gamma=0.3)),
    "multistep": (lambda o: ours.MultiStepLR(o, milestones=[9, 3, 20, 3], gamma=0.5),
                  lambda t: torch.optim.lr_scheduler.MultiStepLR(t, milestones=[9, 3, 20, 3], gamma=0.5)),
    "exponential": (lambda o: ours.ExponentialLR(o, gamma=0.9),
                    lambda t: torch.optim.lr_scheduler.ExponentialLR(t, gamma=0.9)),
    "cosine": (lambda o: ours.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
               lambda t: torch.optim.lr_scheduler.CosineAnnealingLR(t, T_max=10, eta_min=0.01)),
    "linear": (lambda o: ours.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
               lambda t: torch.optim.lr_scheduler.LinearLR(t, start_factor=0.1, end_factor=0.9, total_iters=12)),
    "lambda": (lambda o: ours.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.95**e]),
               lambda t: torch.optim.lr_scheduler.LambdaLR(t, [lambda e: 1 / (1 + e), lambda e: 0.95**e])),
    "warmup": (lambda o: ours.LinearWarmup(o, warmup_steps=6),
               lambda t: torch.optim.lr_scheduler.LambdaLR(t, lambda e: min(1.0, (e + 1) / 6))),
    # min_lr is absolute: 0.0 keeps the torch LambdaLR equivalent the same for both groups
    "warmup_cosine": (lambda o: ours.WarmupCosine(o, warmup_steps=5, total_steps=20),
                      lambda t: torch.optim.lr_scheduler.LambdaLR(t, warmup_cosine_lambda(5, 20, 0.0))),
    "inverse_sqrt": (lambda o: ours.InverseSqrtLR(o, warmup_steps=7),
                     lambda t: torch.optim.lr_scheduler.LambdaLR(t, inverse_sqrt_lambda(7))),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_scheduler_matches_torch(name):
    build_ours, build_torch = SCHEDULES[name]
    opt, topt = paired_optimizers()
    sched, tsched = build_ours(opt), build_torch(topt)
    for _ in range(30):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups],
                                   rtol=1e-10, atol=1e-15)
        assert sched.last_epoch == tsched.last_epoch
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


def test_warmup_cosine_min_lr_matches_torch():
    opt, topt = paired_optimizers(lrs=(0.5,))
    sched = ours.WarmupCosine(opt, warmup_steps=3, total_steps=12, min_lr=0.05)
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, warmup_cosine_lambda(3, 12, 0.05 / 0.5))
    for _ in range(20):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-10)
        topt.step()
        sched.step()
        tsched.step()


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=s).astype(np.float32) for s in [(4, 3), (7,), (2, 2, 2)]]
    params = []
    for g in grads:
        p = mg.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = g.copy()
        params.append(p)
    tparams = []
    for g in grads:
        t = torch.zeros(g.shape, requires_grad=True)
        t.grad = torch.from_numpy(g.copy())
        tparams.append(t)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-6)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-6, atol=1e-7)
