"""Forward mode and reverse mode: the same chain rule, read in two directions.

Forward mode carries a tangent with every value (a dual number x + u*eps with eps^2 = 0), so
one pass gives J u, a column of the Jacobian. Reverse mode runs the chain rule backwards from
a cotangent v, so one backward pass gives v^T J, a row. For f: R^n -> R^m the full Jacobian
costs n forward passes (``jacfwd``) or m backward passes (``jacrev``): forward mode wins when
n << m, reverse mode when n >> m, which is why training (one scalar loss, millions of inputs)
uses reverse mode.

Run:  python examples/08_forward_vs_reverse_mode.py
"""

import math
import time

import numpy as np

import minigrad as mg
from minigrad import func

# ---------------------------------------------------------------- 1. dual numbers by hand
# f(x) = sin-free and small: f(x) = x^2 * exp(x). Carry (value, tangent) through each step.
x, dx = 0.5, 1.0                          # the tangent of the input: d x / d x = 1
a, da = x * x, 2 * x * dx                 # a = x^2
b, db = math.exp(x), math.exp(x) * dx     # b = exp(x)
f, df = a * b, da * b + a * db            # the product rule, applied to the tangents
print(f"by hand:      f(0.5) = {f:.6f}, f'(0.5) = {df:.6f}")

value, tangent = func.jvp(lambda t: t * t * mg.exp(t), (mg.tensor(0.5, dtype=mg.float64),),
                          (mg.tensor(1.0, dtype=mg.float64),))
print(f"func.jvp:     f(0.5) = {value.item():.6f}, f'(0.5) = {tangent.item():.6f}")
assert abs(value.item() - f) < 1e-12 and abs(tangent.item() - df) < 1e-12

# reverse mode gives the same number from the other end: a cotangent of 1 on the output
out, vjp_fn = func.vjp(lambda t: t * t * mg.exp(t), mg.tensor(0.5, dtype=mg.float64))
(gradient,) = vjp_fn(mg.tensor(1.0, dtype=mg.float64))
print(f"func.vjp:     f'(0.5) = {gradient.item():.6f}")
assert abs(gradient.item() - df) < 1e-12

# ---------------------------------------------------------------- 2. a column and a row
rng = np.random.default_rng(0)
W = mg.tensor(rng.standard_normal((3, 4)), dtype=mg.float64)


def layer(x):  # R^4 -> R^3
    return mg.tanh(W @ x)


x0 = mg.tensor(rng.standard_normal(4), dtype=mg.float64)
jacobian = func.jacrev(layer)(x0).data                       # (3, 4)
e1 = mg.tensor([0.0, 1.0, 0.0, 0.0], dtype=mg.float64)
_, column = func.jvp(layer, (x0,), (e1,))                   # J e1: column 1, one forward pass
_, row_fn = func.vjp(layer, x0)
(row,) = row_fn(mg.tensor([0.0, 0.0, 1.0], dtype=mg.float64))  # e3^T J: row 2, one backward pass
assert np.allclose(column.data, jacobian[:, 1]) and np.allclose(row.data, jacobian[2])
print("jvp gives a column of the Jacobian, vjp a row:", np.round(column.data, 4), np.round(row.data, 4))

# ---------------------------------------------------------------- 3. who wins, and why


def timed(fn, *args, repeat=3):
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


for n, m in ((200, 2), (2, 200)):
    A = mg.tensor(rng.standard_normal((m, n)) / math.sqrt(n), dtype=mg.float64)

    def f(x, A=A):  # R^n -> R^m
        return mg.tanh(A @ mg.tanh(x))

    x = mg.tensor(rng.standard_normal(n), dtype=mg.float64)
    rev, fwd = func.jacrev(f)(x), func.jacfwd(f)(x)
    assert np.allclose(rev.data, fwd.data)
    t_rev, t_fwd = timed(func.jacrev(f), x), timed(func.jacfwd(f), x)
    winner = "jacrev" if t_rev < t_fwd else "jacfwd"
    print(f"f: R^{n} -> R^{m}: jacrev ({m} backward passes) {t_rev * 1e3:6.1f} ms, "
          f"jacfwd ({n} forward passes) {t_fwd * 1e3:6.1f} ms -> {winner}")
    # with 100x more passes for the loser, the pass count decides, whatever the machine's noise
    assert winner == ("jacrev" if n > m else "jacfwd")
