"""Check analytic gradients against central finite differences in float64.

``gradcheck(fn, inputs)`` perturbs every element of every input that requires
grad by +-eps, and compares (f(x+eps) - f(x-eps)) / 2eps with what backward gives.
A scalar output is differentiated as it is; a non-scalar output (or several outputs)
is reduced through a fixed random projection ``sum(out * P)``, which checks the whole
vector-Jacobian product at once.
``gradient_errors`` does the same comparison and returns the errors as numbers
(``minigrad gradcheck`` prints them for every op of ``minigrad.optable``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _float64_inputs(inputs) -> list:
    """The inputs, each Tensor that requires grad replaced by a float64 leaf copy.

    The copies are in C order, so ``x.data.reshape(-1)`` is a view that perturbs the input
    (a transposed input would be copied). One Tensor may stand for the sequence, as
    torch.autograd.gradcheck also accepts.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    return [Tensor(np.array(x.data, dtype=np.float64, order="C"), requires_grad=True)
            if isinstance(x, Tensor) and x.requires_grad else x for x in inputs]


def _requiring_grad(inputs: list) -> list[int]:
    """Positions of the inputs that are Tensors requiring grad: the ones differentiated."""
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _scalar(result, projections: list[np.ndarray]) -> Tensor:
    total = None
    for out, proj in zip(_outputs(result), projections):
        term = (out * proj).sum()
        total = term if total is None else total + term
    return total


@dataclass
class GradientErrors:
    """How far the analytic gradients of ``fn`` are from central differences.

    ``inputs`` has one ``InputErrors`` per checked input (those requiring grad), in order.
    ``max_abs`` is the largest ``|analytic - numeric|`` over every checked element;
    ``max_rel`` the largest ``|analytic - numeric| / |numeric|`` over the elements whose
    numeric gradient exceeds ``atol`` in magnitude (elsewhere a ratio only measures noise;
    0.0 when there are none). ``passed`` applies ``gradcheck``'s rule to every element:
    ``|analytic - numeric| <= atol + rtol * |numeric|``.
    """

    inputs: list["InputErrors"]
    atol: float
    rtol: float
    projected: bool = False  # the gradients are of sum(out * P), P a fixed random array
    forward: list["InputErrors"] = field(default_factory=list)  # forward mode, with check_forward_ad

    @property
    def all_inputs(self) -> list["InputErrors"]:
        return self.inputs + self.forward

    @property
    def max_abs(self) -> float:
        return max((e.max_abs for e in self.all_inputs), default=0.0)

    @property
    def max_rel(self) -> float:
        return max((e.max_rel for e in self.all_inputs), default=0.0)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.all_inputs)


@dataclass
class InputErrors:
    """The analytic and numeric gradient of one input (``index`` is its 0-based position)."""

    index: int
    analytic: np.ndarray
    numeric: np.ndarray
    atol: float
    rtol: float

    @property
    def error(self) -> np.ndarray:
        return np.abs(self.analytic - self.numeric)

    @property
    def bad(self) -> np.ndarray:
        # written as "not within tolerance" so that a NaN gradient counts as wrong
        return ~(self.error <= self.atol + self.rtol * np.abs(self.numeric))

    @property
    def passed(self) -> bool:
        return not self.bad.any()

    @property
    def max_abs(self) -> float:
        return float(self.error.max()) if self.error.size else 0.0

    @property
    def max_rel(self) -> float:
        significant = np.abs(self.numeric) > self.atol
        if not significant.any():
            return 0.0
        return float((self.error[significant] / np.abs(self.numeric[significant])).max())

    def worst(self) -> tuple[int, ...]:
        """Index of the worst failing element (the worst element when none fails)."""
        error = self.error
        score = np.where(self.bad, error, -1.0) if self.bad.any() else error
        return tuple(int(w) for w in np.unravel_index(np.argmax(score), self.analytic.shape))


def gradient_errors(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    check_forward_ad: bool = False,
) -> GradientErrors:
    """Compute the analytic and the central-difference gradient of every input that
    requires grad, in float64, and return them with their errors (never raises for a
    wrong gradient: ``gradcheck`` is this plus the verdict). ``atol``/``rtol`` only
    decide ``passed`` and which elements count for ``max_rel``.

    With ``check_forward_ad`` the forward-mode derivatives are compared too: for each element
    j of each input, the jvp of ``fn`` along the unit tangent e_j, projected like the output,
    against the same central difference (``forward`` then holds one ``InputErrors`` per input).
    """
    prepared = _float64_inputs(inputs)
    checked = _requiring_grad(prepared)
    if not checked:
        raise ValueError("gradcheck: no input requires grad, nothing to check")

    with enable_grad():
        first = fn(*prepared)
        rng = np.random.default_rng(seed)
        outputs = _outputs(first)
        if not outputs:
            raise GradcheckError("gradcheck: fn returned no floating-point output")
        projected = len(outputs) > 1 or outputs[0].shape != ()
        projections = [rng.standard_normal(o.shape) if projected else np.ones(()) for o in outputs]
        loss = _scalar(first, projections)
        if loss.requires_grad:  # else the analytic gradients are zero: right for a constant output
            loss.backward()     # (sign, floor, a zero second derivative), and caught by the differences otherwise

    def evaluate() -> float:
        with enable_grad():
            return float(_scalar(fn(*prepared), projections).data)

    results = []
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
        results.append(InputErrors(i, analytic, numeric, atol, rtol))
    forward = [InputErrors(r.index, _forward_derivatives(fn, prepared, r.index, projections), r.numeric, atol, rtol)
               for r in results] if check_forward_ad else []
    return GradientErrors(results, atol, rtol, projected, forward)


def _forward_derivatives(fn: Callable, prepared: list, i: int, projections: list[np.ndarray]) -> np.ndarray:
    """d sum(out * P) / d x_i[j] for every element j, each by one jvp along the unit tangent e_j."""
    from .forward_ad import dual_level, make_dual, unpack_dual

    x = prepared[i]
    columns = np.zeros(x.shape)
    for j in range(x.size):
        tangent = np.zeros(x.size)
        tangent[j] = 1.0
        with dual_level() as level:
            args = list(prepared)
            args[i] = make_dual(x, tangent.reshape(x.shape), level)
            outs = _outputs(fn(*args))
            total = 0.0
            for out, proj in zip(outs, projections):
                t = unpack_dual(out, level).tangent
                total += 0.0 if t is None else float(np.sum(t.data * proj))
        columns.reshape(-1)[j] = total
    return columns


def gradcheck(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    check_forward_ad: bool = False,
) -> bool:
    """Return True if ``fn``'s analytic gradients match central differences (and, with
    ``check_forward_ad``, its forward-mode derivatives too: a jvp per input element).

    Every input Tensor that requires grad is converted to float64 (the check is
    meaningless in float32) and checked element by element. Raises
    ``GradcheckError`` naming the input (0-based), the worst element's index,
    the analytic and numeric values and the error: for a scalar output the true
    gradients; for any other output, the gradients of the projection ``sum(out * P)``
    (the message says so). ``gradient_errors`` gives the same comparison as numbers
    instead of a verdict.
    """
    errors = gradient_errors(fn, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, check_forward_ad=check_forward_ad)
    of = " of sum(output * P), P a fixed random array," if errors.projected else ""
    for kind, results in (("gradient", errors.inputs), ("forward-mode derivative (jvp)", errors.forward)):
        for result in results:
            if result.passed:
                continue
            worst = result.worst()
            raise GradcheckError(
                f"gradcheck: {kind}{of} of input {result.index} is wrong at index {worst}: "
                f"analytic {result.analytic[worst]:.6g}, numeric {result.numeric[worst]:.6g}, "
                f"error {result.error[worst]:.3g} > atol {atol} + rtol {rtol} * |numeric|"
            )
    return True


def gradgradcheck(
    fn: Callable,
    inputs: Sequence,
    grad_outputs: Sequence | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Return True if the second derivatives of ``fn`` match central differences of its
    gradients (torch.autograd.gradgradcheck).

    The checked function is ``g(inputs, v) = d/d inputs <fn(inputs), v>``, computed with
    ``autograd.grad(..., create_graph=True)``, and ``gradcheck`` differentiates ``g`` with
    respect to every input that requires grad and to ``v`` (the ``grad_outputs``: one per
    floating-point output of ``fn``, random float64 of its shape when not given). Raises
    ``GradcheckError`` like ``gradcheck``; input indices count the inputs, then the ``v``s.
    """
    first, args = first_derivatives(fn, inputs, grad_outputs, seed)
    return gradcheck(first, args, eps=eps, atol=atol, rtol=rtol, seed=seed)


def first_derivatives(fn: Callable, inputs: Sequence, grad_outputs: Sequence | None = None,
                      seed: int = 0) -> tuple[Callable, list]:
    """``(g, args)`` such that ``g(*args)`` is the tuple of first derivatives
    ``d/d inputs <fn(inputs), v>`` (recorded, so ``gradcheck(g, args)`` checks second order)."""
    from . import autograd

    inputs = _float64_inputs(inputs)
    with enable_grad():
        outputs = _outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng([seed, 1])
        grad_outputs = [rng.standard_normal(o.shape) for o in outputs]
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    vs = [Tensor(np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64), requires_grad=True)
          for v in grad_outputs]
    if len(vs) != len(outputs):
        raise ValueError(f"gradgradcheck: {len(vs)} grad_outputs for {len(outputs)} outputs")
    n = len(inputs)
    differentiable = _requiring_grad(inputs)

    def derivatives(*args):
        xs, v = list(args[:n]), list(args[n:])
        outs = _outputs(fn(*xs))
        grads = autograd.grad(outs, [xs[i] for i in differentiable], v, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return derivatives, [*inputs, *vs]
