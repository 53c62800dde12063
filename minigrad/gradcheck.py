"""Check analytic gradients against central finite differences in float64.

``gradcheck(fn, inputs)`` perturbs every element of every input that requires
grad by +-eps, and compares (f(x+eps) - f(x-eps)) / 2eps with what backward gives.
A non-scalar output is reduced through a fixed random projection
``sum(out * P)``, which checks the whole Jacobian-vector product at once.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .autograd import enable_grad
from .errors import GradcheckError
from .tensor import Tensor


def _outputs(result) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [r for r in result if isinstance(r, Tensor) and np.issubdtype(r.dtype, np.floating)]
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(result).__name__}")


def _scalar(result, projections: list[np.ndarray]) -> Tensor:
    total = None
    for out, proj in zip(_outputs(result), projections):
        term = (out * proj).sum()
        total = term if total is None else total + term
    return total


def gradcheck(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Return True if ``fn``'s analytic gradients match central differences.

    Every input Tensor that requires grad is converted to float64 (the check is
    meaningless in float32) and checked element by element. Raises
    ``GradcheckError`` naming the input (0-based), the worst element's index,
    the analytic and numeric values and the error.
    """
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            prepared.append(Tensor(x.data.astype(np.float64), requires_grad=True))
        else:
            prepared.append(x)
    checked = [i for i, x in enumerate(prepared) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, nothing to check")

    with enable_grad():
        first = fn(*prepared)
        rng = np.random.default_rng(seed)
        projections = [rng.standard_normal(o.shape) for o in _outputs(first)]
        if not projections:
            raise GradcheckError("gradcheck: fn returned no floating-point output")
        loss = _scalar(first, projections)
        if not loss.requires_grad:
            raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
        loss.backward()

    def evaluate() -> float:
        with enable_grad():
            return float(_scalar(fn(*prepared), projections).data)

    for i in checked:
        x = prepared[i]
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs the input
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = evaluate()
            flat[j] = original - eps
            minus = evaluate()
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric)
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            worst = np.unravel_index(np.argmax(np.where(bad, error, -1)), x.shape)
            worst = tuple(int(w) for w in worst)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} is wrong at index {worst}: analytic {analytic[worst]:.6g}, "
                f"numeric {numeric[worst]:.6g}, error {error[worst]:.3g} > atol {atol} + rtol {rtol} * |numeric|"
            )
    return True
