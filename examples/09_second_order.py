"""Second derivatives: Newton's method with ``hessian``, and the sharpest direction of a
network's loss by power iteration with ``hvp``.

Newton's method steps by -H^-1 g: on a smooth bowl it converges in a handful of steps where
gradient descent needs hundreds. For a network, forming H is too expensive (n^2 entries), but a
Hessian-vector product H v costs about one gradient (forward mode carried through the backward
pass), which is all power iteration needs to find the largest eigenvalue: the curvature that
limits a stable learning rate (lr < 2 / lambda_max for gradient descent).

Run:  python examples/09_second_order.py
"""

import numpy as np

import minigrad as mg
from minigrad import func, nn

# ---------------------------------------------------------------- 1. Newton's method


def rosenbrock(p):  # minimum 0 at (1, 1), a curved valley that slows gradient descent
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 10 * (y - x * x) ** 2


p = mg.tensor([-1.2, 1.0], dtype=mg.float64)
for step in range(8):
    g = func.grad(rosenbrock)(p).data
    H = func.hessian(rosenbrock)(p).data               # jacfwd(jacrev(f)): forward over reverse
    p = mg.tensor(p.data - np.linalg.solve(H, g), dtype=mg.float64)
    print(f"Newton step {step + 1}: p = ({p.data[0]:+.6f}, {p.data[1]:+.6f}), f = {rosenbrock(p).item():.3e}")
assert np.allclose(p.data, [1.0, 1.0], atol=1e-8)

# ---------------------------------------------------------------- 2. the sharpest direction
mg.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
for param in net.parameters():
    param.data = param.data.astype(np.float64)
rng = np.random.default_rng(1)
X = mg.tensor(rng.standard_normal((32, 3)))
Y = mg.tensor(np.sin(X.data.sum(axis=1, keepdims=True)))
names = [name for name, _ in net.named_parameters()]
shapes = [p.shape for p in net.parameters()]
sizes = [int(np.prod(s)) for s in shapes]


def loss_of_flat(theta):
    """The loss as a function of all parameters in one flat vector (so H is a matrix)."""
    pieces = mg.split(theta, list(np.cumsum(sizes)[:-1]))
    params = {n: piece.reshape(s) for n, piece, s in zip(names, pieces, shapes)}
    return ((func.functional_call(net, params, (X,)) - Y) ** 2).mean()


theta = mg.tensor(np.concatenate([p.data.reshape(-1) for p in net.parameters()]))
v = rng.standard_normal(theta.size)
for _ in range(100):  # power iteration: v <- H v / |H v|
    v /= np.linalg.norm(v)
    _, (hv,) = func.hvp(loss_of_flat, (theta,), (mg.tensor(v),))
    estimate, v = float(v @ hv.data), hv.data
print(f"largest Hessian eigenvalue by power iteration with hvp ({theta.size} parameters): {estimate:.6f}")

dense = func.hessian(loss_of_flat)(theta).data     # 41 x 41: fine here, impossible for a real model
eigenvalues = np.linalg.eigvalsh(dense)
print(f"largest eigenvalue of the dense Hessian (eigvalsh):                 {eigenvalues[-1]:.6f}")
assert np.allclose(dense, dense.T, atol=1e-10)
# power iteration finds the eigenvalue of largest magnitude; here that is the largest one
assert abs(eigenvalues[-1]) >= abs(eigenvalues[0])
assert abs(estimate - eigenvalues[-1]) < 1e-6 * abs(eigenvalues[-1])
print(f"so plain gradient descent on this loss is stable only for lr < {2 / eigenvalues[-1]:.3f}")
