"""Write your own differentiable op as a ``minigrad.Function``, then prove its backward right.

An op is two static methods side by side: ``forward`` computes the output from ndarrays and
saves what backward will need; ``backward`` receives the gradient of the loss with respect
to the output and returns one gradient per input. The engine does the rest (it calls
backward in reverse topological order, sums gradients of tensors used twice, and undoes
broadcasting).

``minigrad.gradcheck`` compares the backward with central finite differences in float64.
Here it passes for two correct ops and catches two classic mistakes: a wrong derivative and
a forgotten input.

Run:  python examples/02_custom_function.py
"""

import numpy as np

import minigrad as mg
from minigrad.gradcheck import gradient_errors


class Softplus(mg.Function):
    """softplus(x) = log(1 + e^x); its derivative is the logistic sigmoid."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), stable for large |x|

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (1.0 + np.exp(-x))  # d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x)


class Hypot(mg.Function):
    """h = sqrt(a^2 + b^2) elementwise; dh/da = a / h, dh/db = b / h. Saves its output."""

    @staticmethod
    def forward(ctx, a, b):
        h = np.sqrt(a * a + b * b)
        ctx.save_for_backward(a, b, h)
        return h

    @staticmethod
    def backward(ctx, grad):
        a, b, h = ctx.saved
        # only compute what is needed; the engine sums each gradient back to its input's shape
        grad_a = grad * a / h if ctx.needs_input_grad[0] else None
        grad_b = grad * b / h if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class SoftplusWrongDerivative(Softplus):
    """A plausible slip: e^x instead of e^x / (1 + e^x)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * np.exp(x)


class HypotForgetsB(Hypot):
    """Another slip: the gradient of the second input is never passed on."""

    @staticmethod
    def backward(ctx, grad):
        a, b, h = ctx.saved
        return grad * a / h, None


def main() -> None:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.uniform(-3, 3, size=(2, 3)), requires_grad=True)
    a = mg.tensor(rng.uniform(0.5, 2, size=(2, 3)), requires_grad=True)
    b = mg.tensor(rng.uniform(0.5, 2, size=(3,)), requires_grad=True)  # broadcast against a

    # 1. use the op like any other, and read the gradient
    y = Softplus.apply(x).sum()
    y.backward()
    sigmoid = 1 / (1 + np.exp(-x.data))
    print("softplus'(x) from backward:", np.round(x.grad[0], 4))
    print("sigmoid(x) by hand:        ", np.round(sigmoid[0], 4))
    assert np.allclose(x.grad, sigmoid)

    # 2. gradcheck the correct ops: True means every element matched central differences
    assert mg.gradcheck(Softplus.apply, [x])
    assert mg.gradcheck(Hypot.apply, [a, b])  # b's gradient is summed over the broadcast axis
    for name, fn, inputs in (("Softplus", Softplus.apply, [x]), ("Hypot", Hypot.apply, [a, b])):
        errors = gradient_errors(fn, inputs)
        print(f"{name:8} gradcheck passes: max abs error {errors.max_abs:.1e}, max rel error {errors.max_rel:.1e}")
        assert errors.passed and errors.max_abs < 1e-8

    # 3. the deliberate mistakes are caught, and the message says where
    for name, fn, inputs, expected in (
        ("SoftplusWrongDerivative", SoftplusWrongDerivative.apply, [x], "input 0"),
        ("HypotForgetsB", HypotForgetsB.apply, [a, b], "input 1"),
    ):
        try:
            mg.gradcheck(fn, inputs)
        except mg.GradcheckError as err:
            print(f"{name} caught: {err}")
            assert expected in str(err)
        else:
            raise AssertionError(f"gradcheck did not catch {name}")
    wrong = gradient_errors(SoftplusWrongDerivative.apply, [x])
    print(f"  the wrong derivative is off by up to {wrong.max_rel:.0%} of the true gradient")
    assert not wrong.passed and wrong.max_rel > 1.0
    print("A backward you wrote is only as good as its gradcheck: run `minigrad gradcheck --function mod:fn` too.")


if __name__ == "__main__":
    main()
