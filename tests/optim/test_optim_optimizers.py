"""SGD, Adam, AdamW: hand-computed updates, groups, state dicts, validation, Optimizer mechanics."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import kernels
from minigrad.optim import SGD, Adam, AdamW, Optimizer


def param(values, dtype=np.float64) -> mg.Tensor:
    return mg.tensor(np.array(values, dtype=dtype), requires_grad=True)


def take_step(opt: Optimizer, p: mg.Tensor, grad) -> np.ndarray:
    p.grad = np.array(grad, dtype=p.data.dtype)
    opt.step()
    return p.data.copy()


# --------------------------------------------------------------------------- hand-computed updates


def test_sgd_plain():
    p = param([1.0, 2.0])
    np.testing.assert_allclose(take_step(SGD([p], lr=0.1), p, [0.5, -1.0]), [0.95, 2.1])


def test_sgd_momentum_first_buffer_is_the_gradient():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [0.9])  # b = g = 1
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [0.71])  # b = 0.9 + 1 = 1.9
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.9])


def test_sgd_nesterov():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [0.81])  # g + 0.9 * 1 = 1.9
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [0.539])  # g + 0.9 * 1.9 = 2.71


def test_sgd_dampening_and_weight_decay():
    p = param([2.0])
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [1.88])  # g = 1 + 0.2; b = 1.2 (no dampening)
    # g = 1 + 0.1 * 1.88 = 1.188; b = 0.9 * 1.2 + 0.5 * 1.188 = 1.674
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [1.88 - 0.1674])


def test_adam_two_steps_by_hand():
    p = param([0.0])
    opt = Adam([p], lr=1.0, betas=(0.9, 0.999), eps=0.0)
    # step 1: m_hat = g, v_hat = g^2, so the update is lr * sign(g)
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [-1.0])
    # step 2 with g = 3: m = 0.09 + 0.3, v = 0.000999 + 0.009
    m_hat = 0.39 / (1 - 0.9**2)
    v_hat = 0.009999 / (1 - 0.999**2)
    np.testing.assert_allclose(take_step(opt, p, [3.0]), [-1.0 - m_hat / math.sqrt(v_hat)], rtol=1e-12)
    assert opt.state[p]["step"] == 2
    np.testing.assert_allclose(opt.state[p]["exp_avg"], [0.39])
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"], [0.009999])


def test_adam_l2_goes_through_the_gradient():
    p = param([1.0])
    opt = Adam([p], lr=0.1, eps=0.0, weight_decay=0.5)
    take_step(opt, p, [1.0])  # g = 1.5
    np.testing.assert_allclose(opt.state[p]["exp_avg"], [0.15])


def test_adamw_decays_weights_directly():
    p = param([1.0])
    opt = AdamW([p], lr=0.1, eps=0.0, weight_decay=0.1)
    np.testing.assert_allclose(take_step(opt, p, [1.0]), [1.0 * (1 - 0.01) - 0.1])
    np.testing.assert_allclose(opt.state[p]["exp_avg"], [0.1])  # gradient untouched by decay
    assert AdamW([param([1.0])]).param_groups[0]["weight_decay"] == 1e-2


@pytest.mark.parametrize("cls, wd", [(Adam, 0.0), (Adam, 0.1), (AdamW, 0.1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_step_equals_reference_step(cls, wd, dtype):
    # step() on the Numba kernel against _reference_step() on its NumPy reference (the rule itself is
    # checked against closed forms above and against PyTorch in test_optim_torch_parity.py)
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (5,), ()]
    fused = [param(rng.normal(size=s), dtype) for s in shapes]
    plain = [param(p.data.copy(), dtype) for p in fused]
    opt_fused = cls(fused, lr=0.01, weight_decay=wd)
    opt_plain = cls(plain, lr=0.01, weight_decay=wd)
    with kernels.use_backend("numba"):
        for _ in range(5):
            for a, b in zip(fused, plain):
                a.grad = rng.normal(size=a.shape).astype(dtype)
                b.grad = a.grad.copy()
            opt_fused.step()
            opt_plain._reference_step()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a.data, b.data, **tol)
        for slot in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_allclose(opt_fused.state[a][slot], opt_plain.state[b][slot], **tol)


# --------------------------------------------------------------------------- Optimizer mechanics


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps), lambda ps: AdamW(ps)])
def test_update_in_place_without_graph_and_skips_missing_grads(make):
    a, b = param([1.0, 2.0]), param([3.0])
    data_a, data_b = a.data, b.data
    opt = make([a, b])
    a.grad = np.ones(2)
    opt.step()
    assert a.data is data_a and b.data is data_b  # same ndarray objects
    assert not np.allclose(a.data, [1.0, 2.0])
    np.testing.assert_array_equal(b.data, [3.0])  # no grad: untouched, no state
    assert b not in opt.state or not opt.state[b]
    assert a.grad_fn is None and a.is_leaf


def test_step_keeps_dtype_and_handles_non_contiguous_parameters():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    p = mg.tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    p.data = base.T  # a strided view: the kernel needs C order, the update must still land in base
    opt = Adam([p], lr=0.5)
    p.grad = np.ones((4, 3), dtype=np.float32)
    opt.step()
    assert p.data.dtype == np.float32
    np.testing.assert_allclose(base.T, np.arange(12, dtype=np.float32).reshape(3, 4).T - 0.5, rtol=1e-6)


def test_float32_params_with_float64_grads():
    p = param([1.0, 2.0], np.float32)
    for opt in (SGD([p], lr=0.1, momentum=0.5), Adam([p], lr=0.1)):
        p.grad = np.ones(2, dtype=np.float64)
        opt.step()
        assert p.data.dtype == np.float32


def test_zero_grad():
    p = param([1.0, 2.0])
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(2)
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and not grad.any()
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_called_and_its_loss_returned():
    p = param([2.0])
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == 4.0
    np.testing.assert_allclose(p.data, [1.0])  # 2 - 0.25 * 4


def test_param_groups_use_their_own_options():
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0  # filled from the defaults
    a.grad, b.grad = np.ones(1), np.ones(1)
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.5])
    opt.param_groups[0]["lr"] = 1.0  # writable, used by the next step
    opt.step()
    np.testing.assert_allclose(a.data, [-0.1])


def test_add_param_group():
    a, b = param([1.0]), param([2.0])
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda p: SGD([p, p], lr=0.1), ValueError, "appears more than once"),
        (lambda p: SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError, "more than one parameter group"),
        (lambda p: SGD(p, lr=0.1), TypeError, "single Tensor"),
        (lambda p: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: SGD([("w", p)], lr=0.1), TypeError, "named_parameters"),
        (lambda p: SGD([mg.tensor([1, 2])], lr=0.1), TypeError, "floating-point"),
        (lambda p: SGD([p * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda p: SGD([p], lr=-0.1), ValueError, r"^SGD: Invalid learning rate: -0\.1$"),
        (lambda p: SGD([p], lr="0.1"), TypeError, "learning rate must be a number"),
        (lambda p: SGD([p], lr=0.1, momentum=-1), ValueError, "SGD: Invalid momentum value: -1"),
        (lambda p: SGD([p], lr=0.1, weight_decay=-1e-4), ValueError, "SGD: Invalid weight_decay value: -0.0001"),
        (lambda p: SGD([p], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires a momentum > 0"),
        (lambda p: SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "zero dampening"),
        (lambda p: Adam([p], lr=-0.1), ValueError, r"^Adam: Invalid learning rate: -0\.1$"),
        (lambda p: Adam([p], lr=float("nan")), ValueError, "Adam: Invalid learning rate: nan"),
        (lambda p: Adam([p], betas=(1.0, 0.999)), ValueError, "Adam: Invalid beta parameter at index 0: 1.0"),
        (lambda p: Adam([p], betas=(0.9, -0.1)), ValueError, "Adam: Invalid beta parameter at index 1: -0.1"),
        (lambda p: Adam([p], betas=0.9), ValueError, "betas must be a pair"),
        (lambda p: Adam([p], eps=-1e-8), ValueError, "Adam: Invalid epsilon value: -1e-08"),
        (lambda p: Adam([p], weight_decay=-1.0), ValueError, "Adam: Invalid weight_decay value: -1.0"),
        (lambda p: AdamW([p], lr=-2), ValueError, "AdamW: Invalid learning rate: -2"),
        (lambda p: Adam([{"params": [p], "lr": -3}]), ValueError, "Adam: Invalid learning rate: -3"),
    ],
)
def test_validation_messages(build, error, message):
    with pytest.raises(error, match=message):
        build(param([1.0]))


def test_grad_shape_mismatch_is_named():
    p = param([1.0, 2.0])
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"parameter 0 of group 0: grad of shape \(3,\) .* \(2,\)"):
        SGD([p], lr=0.1).step()


def test_repr_lists_groups():
    text = repr(Adam([param([1.0])], lr=0.5))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text


# --------------------------------------------------------------------------- state dicts


def quadratic_grads(params, targets):
    """Gradient of sum_i 0.5 * ||p_i - t_i||^2 * (1 + |p_i|): nonlinear so every state slot matters."""
    for p, t in zip(params, targets):
        d = p.data - t
        p.grad = d * (1 + np.abs(p.data)) + 0.5 * d * d * np.sign(p.data)


def make_params(rng, dtype=np.float64):
    return [param(rng.normal(size=s), dtype) for s in [(3, 2), (4,), ()]]


OPTIMIZERS = {
    "sgd": lambda groups: SGD(groups, lr=0.05, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda groups: SGD(groups, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda groups: Adam(groups, lr=0.02, weight_decay=0.01),
    "adamw": lambda groups: AdamW(groups, lr=0.02),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_resumes_exactly_on_new_parameter_objects(name, dtype):
    rng = np.random.default_rng(1)
    params = make_params(rng, dtype)
    targets = [rng.normal(size=p.shape) for p in params]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}]  # noqa: E731
    opt = OPTIMIZERS[name](groups(params))
    for _ in range(3):
        quadratic_grads(params, targets)
        opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1, 2]
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]

    # A fresh optimizer over new objects, built with other hyper-parameters: loading restores them.
    fresh = [param(p.data.copy(), dtype) for p in params]
    resumed = type(opt)(groups(fresh), lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.1 and resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(4):
        quadratic_grads(params, targets)
        quadratic_grads(fresh, targets)
        opt.step()
        resumed.step()
    for a, b in zip(params, fresh):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_a_snapshot():
    p = param([1.0, 2.0])
    opt = Adam([p], lr=0.1)
    take_step(opt, p, [1.0, 1.0])
    saved = opt.state_dict()
    snapshot = saved["state"][0]["exp_avg"].copy()
    take_step(opt, p, [1.0, 1.0])
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], snapshot)
    assert saved["state"][0]["step"] == 1


def test_load_state_dict_accepts_string_indices_and_casts_dtype():
    p = param([1.0, 2.0], np.float32)
    opt = Adam([p])
    opt.load_state_dict({
        "state": {"0": {"step": np.array(4.0), "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
        "param_groups": [{"lr": 0.5, "betas": [0.8, 0.9], "eps": 1e-8, "weight_decay": 0.0, "params": [0]}],
    })
    state = opt.state[p]
    assert state["step"] == 4 and isinstance(state["step"], int)
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg"].flags.c_contiguous
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda sd: sd["param_groups"].append({"params": []}), "has 2 parameter groups, this optimizer has 1"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "group 0 has 1 parameters in the state dict but 2"),
        (lambda sd: sd["state"][0].update(exp_avg=np.zeros(5)), r"'exp_avg' of parameter 0 has shape \(5,\)"),
        (lambda sd: sd["state"].update({7: {}}), "state for parameter 7"),
        (lambda sd: sd.pop("state"), "expected a dict with keys 'state' and 'param_groups'"),
        (lambda sd: sd["param_groups"][0].update(lr=-1.0), "Invalid learning rate: -1.0"),
    ],
)
def test_load_state_dict_validation_leaves_the_optimizer_unchanged(mutate, message):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(1)
    opt.step()
    sd = opt.state_dict()
    mutate(sd)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_adam_refuses_a_parameter_dtype_its_fused_kernel_cannot_take(cls):
    p = param(np.ones(3), np.float16)
    p.grad = np.ones(3, np.float16)
    with pytest.raises(TypeError, match=rf"^{cls.__name__}.step: the parameter must be float32 or float64, got float16$"):
        cls([p]).step()
