"""Autodiff by hand versus minigrad on one scalar expression.

    f(x, y) = tanh(x * y + y) * exp(x)

We write the chain rule out by hand (the local derivative of each step, multiplied
backwards from the output), then ask minigrad for the same two numbers.

Run:  python examples/01_autodiff_by_hand.py
"""

import math

import minigrad as mg


def by_hand(x: float, y: float) -> tuple[float, float, float]:
    # forward, one named intermediate per op
    a = x * y          # a = x y
    b = a + y          # b = a + y
    c = math.tanh(b)   # c = tanh(b)
    d = math.exp(x)    # d = e^x
    f = c * d          # f = c d
    # backward: start from df/df = 1 and multiply by each local derivative
    df_dc = d
    df_dd = c
    df_db = df_dc * (1 - c * c)        # tanh' = 1 - tanh^2
    df_da = df_db * 1.0                # b = a + y
    df_dy = df_db * 1.0 + df_da * x    # y reaches f through b directly and through a
    df_dx = df_da * y + df_dd * d      # x reaches f through a and through d (exp' = exp)
    return f, df_dx, df_dy


def with_minigrad(x: float, y: float) -> tuple[float, float, float]:
    tx = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    ty = mg.tensor(y, dtype=mg.float64, requires_grad=True)
    f = mg.tanh(tx * ty + ty) * mg.exp(tx)
    f.backward()
    return f.item(), float(tx.grad), float(ty.grad)


def main() -> None:
    x, y = 0.5, -1.25
    hand = by_hand(x, y)
    auto = with_minigrad(x, y)
    print(f"{'':10}{'f':>12}{'df/dx':>12}{'df/dy':>12}")
    print(f"{'by hand':10}" + "".join(f"{v:12.6f}" for v in hand))
    print(f"{'minigrad':10}" + "".join(f"{v:12.6f}" for v in auto))
    assert all(abs(h - a) < 1e-12 for h, a in zip(hand, auto)), "hand and minigrad disagree"
    print("The two agree to 1e-12: reverse-mode autodiff is the chain rule, applied mechanically.")


if __name__ == "__main__":
    main()
