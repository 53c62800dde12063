"""The Hypothesis gradient suite: every op of ``minigrad.optable`` is gradchecked in float64
on drawn shapes and arguments, and on the table's own fixed examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.ops
from gradcases import NON_DIFFERENTIABLE, STRATEGIES, values
from minigrad import forward_ad as fwAD
from minigrad import func
from minigrad import optable
from minigrad.gradcheck import gradient_errors
from testutils import custom_function

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _draw_inputs(data, entry: optable.OpEntry) -> tuple[list[mg.Tensor], dict]:
    """Shapes and kwargs from the op's strategy, values in its domain (``exclude`` rejected):
    the input Tensors (requiring grad) and the kwargs."""
    shapes, kwargs = data.draw(STRATEGIES[entry.name])
    arrays = [values(data.draw, s, lo, hi) for s, (lo, hi) in zip(shapes, entry.domains(len(shapes)))]
    if entry.exclude is not None:
        assume(not entry.exclude(*arrays, **kwargs))
    return [mg.tensor(a, requires_grad=True) for a in arrays], kwargs


def for_each_op(hypothesis_settings: settings):
    """A test ``test(entry, data)`` parametrized over the op table, with Hypothesis's ``data``
    under ``hypothesis_settings`` (the test draws its inputs with ``_draw_inputs``)."""
    def decorate(test):
        drawn = hypothesis_settings(given(data=st.data())(test))
        return pytest.mark.parametrize("entry", optable.OPS, ids=lambda e: e.name)(drawn)

    return decorate


def _check_drawn(checker, entry: optable.OpEntry, data, **options) -> None:
    """``checker`` (gradcheck or gradgradcheck) passes for ``entry.fn`` on drawn inputs, with the
    entry's eps and tolerances."""
    tensors, kwargs = _draw_inputs(data, entry)
    assert checker(lambda *ts: entry.fn(*ts, **kwargs), tensors, eps=entry.eps, atol=entry.atol, rtol=entry.rtol,
                   **options)


@for_each_op(SETTINGS)
def test_gradient_matches_central_differences(entry: optable.OpEntry, data):
    _check_drawn(mg.gradcheck, entry, data)


SECOND_ORDER = settings(SETTINGS, max_examples=5)


@for_each_op(SECOND_ORDER)
def test_second_derivative_matches_central_differences(entry: optable.OpEntry, data):
    """gradgradcheck: the gradient of <d fn / d inputs, v> in the inputs and in v, for drawn shapes."""
    _check_drawn(mg.gradgradcheck, entry, data)


FORWARD = settings(SETTINGS, max_examples=6)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@for_each_op(FORWARD)
def test_forward_mode_matches_central_differences(entry: optable.OpEntry, data):
    """gradcheck(check_forward_ad=True): one jvp per input element against the same differences."""
    _check_drawn(mg.gradcheck, entry, data, check_forward_ad=True)


@for_each_op(FORWARD)
def test_jvp_is_the_transpose_of_vjp(entry: optable.OpEntry, data):
    """<v, J u> by forward mode equals <J^T v, u> by reverse mode, for random u and v."""
    tensors, kwargs = _draw_inputs(data, entry)
    rng = np.random.default_rng(len(tensors))
    us = [rng.standard_normal(t.shape) for t in tensors]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t, u) for t, u in zip(tensors, us)]
        outs = [o for o in _as_list(entry.fn(*duals, **kwargs)) if o.dtype.kind == "f"]
        tangents = [fwAD.unpack_dual(o).tangent for o in outs]
    vs = [rng.standard_normal(o.shape) for o in outs]
    forward = sum(float(np.sum(v * (0 if t is None else t.data))) for v, t in zip(vs, tangents))
    outs = [o for o in _as_list(entry.fn(*tensors, **kwargs)) if o.dtype.kind == "f"]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    grads = mg.autograd.grad([o for o, _ in live], tensors, [v for _, v in live], allow_unused=True) if live else []
    reverse = sum(float(np.sum(g.data * u)) for g, u in zip(grads, us) if g is not None)
    tol = 1e-9 if all(o.dtype == np.float64 for o in outs) else 1e-5  # astype rounds to float32
    assert forward == pytest.approx(reverse, rel=tol, abs=tol)


@for_each_op(FORWARD)
def test_forward_over_reverse_equals_reverse_over_reverse(entry: optable.OpEntry, data):
    """The Hessian-vector product of <fn(x), v> two ways: jvp of the gradient (the saved values a
    backward rule reads must carry their tangents) and the gradient of <gradient, u>."""
    tensors, kwargs = _draw_inputs(data, entry)
    rng = np.random.default_rng(7)
    outs = [o for o in _as_list(entry.fn(*tensors, **kwargs)) if o.dtype.kind == "f"]
    vs = [rng.standard_normal(o.shape) for o in outs]
    us = [rng.standard_normal(t.shape) for t in tensors]

    def scalar(*xs):
        parts = [(o * v).sum() for o, v in zip(_as_list(entry.fn(*xs, **kwargs)), vs) if o.dtype.kind == "f"]
        return sum(parts[1:], parts[0])

    argnums = tuple(range(len(tensors)))
    _, forward = func.jvp(lambda *xs: func.grad(scalar, argnums=argnums)(*xs), tuple(tensors), tuple(
        mg.tensor(u) for u in us))
    xs = [mg.tensor(t.data, requires_grad=True) for t in tensors]
    grads = mg.autograd.grad(scalar(*xs), xs, create_graph=True, allow_unused=True)
    terms = [(g * mg.tensor(u)).sum() for g, u in zip(grads, us) if g is not None and g.requires_grad]
    if not terms:
        return
    reverse = mg.autograd.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f.data, 0 if r is None else r.data, rtol=1e-7, atol=1e-9)


def _function_classes():
    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {c for c in walk(mg.Function) if c.__module__.startswith("minigrad.ops.") and "forward" in vars(c)}


def test_every_op_has_a_forward_mode_rule():
    """Each op (a Function in minigrad.ops) has a jvp rule, or (a fused op) a reference composition
    whose primitives have them; higher derivatives are checked per table entry above."""
    missing = sorted(c.__qualname__ for c in _function_classes() if c.jvp is None and c.reference is None)
    assert not missing, f"Functions without a jvp rule or a reference: {missing}"


def test_every_table_example_passes_and_reports_small_errors():
    rows = optable.check_ops()
    assert [r.op for r in rows] == [e.name for e in optable.OPS]
    failed = [f"{r.op}: {r.failure}" for r in rows if not r.passed]
    assert not failed, failed
    for row, entry in zip(rows, optable.OPS):
        assert len(row.shapes) == len(entry.examples) >= 2
        assert 0.0 <= row.max_abs <= entry.atol + 10 * entry.rtol


def _public_ops() -> set[str]:
    return {name for name in dir(minigrad.ops) if not name.startswith("_") and callable(getattr(minigrad.ops, name))
            and not isinstance(getattr(minigrad.ops, name), type(minigrad))}


def test_every_public_op_has_a_table_entry_and_a_strategy():
    differentiable = _public_ops() - set(NON_DIFFERENTIABLE)
    missing_entry = differentiable - set(optable.ENTRIES)
    assert not missing_entry, f"ops without an entry in minigrad/optable.py: {sorted(missing_entry)}"
    missing_strategy = set(optable.ENTRIES) - set(STRATEGIES)
    assert not missing_strategy, f"ops without a Hypothesis strategy in tests/gradcases.py: {sorted(missing_strategy)}"
    assert not set(STRATEGIES) - set(optable.ENTRIES), "a strategy for an op that is not in the table"
    assert set(NON_DIFFERENTIABLE) <= _public_ops(), "NON_DIFFERENTIABLE names an op that does not exist"
    assert not set(NON_DIFFERENTIABLE) & set(optable.ENTRIES)


def test_a_wrong_backward_is_caught():
    BadSquare = custom_function("BadSquare", lambda x: x * x, lambda grad, x: 2.01 * x * grad)  # 0.5% off

    x = mg.tensor(np.linspace(0.5, 2.0, 6), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"input 0 is wrong at index \(\d,\): analytic -?[\d.]+, numeric"):
        mg.gradcheck(lambda t: BadSquare.apply(t), [x])


DoubledSquare = custom_function("DoubledSquare", lambda x: x * x, lambda grad, x: 4 * x * grad)  # twice too large


def test_a_scalar_output_reports_the_true_gradients():
    x = mg.tensor(1.25, dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: DoubledSquare.apply(t), [x])
    assert "gradient of input 0 is wrong at index (): analytic 5, numeric 2.5," in str(info.value)


def test_a_non_scalar_output_says_its_numbers_are_projected():
    x = mg.tensor([1.25, 2.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"gradient of sum\(output \* P\), P a fixed random array, of input 0"):
        mg.gradcheck(lambda t: DoubledSquare.apply(t), [x])


def test_a_missing_gradient_contribution_is_caught():
    HalfSum = custom_function("HalfSum", lambda a, b: a + b, lambda grad, a, b: (grad, None))  # forgets b

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(lambda x, y: HalfSum.apply(x, y), [a, b])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inputs_in_any_memory_layout_are_perturbed(dtype):
    """A transposed (Fortran-ordered) input is checked like any other, not against a zero numeric gradient."""
    # Tensor() shares the array, keeping its layout (mg.tensor copies into C order)
    x = mg.Tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(dtype).T, requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert mg.gradcheck(lambda t: (t * t * t).sum(), [x])
    result = gradient_errors(lambda t: (t * t).sum(), [x]).inputs[0]
    assert np.all(result.numeric != 0)
    np.testing.assert_allclose(result.numeric, result.analytic, rtol=1e-6)


def test_a_single_tensor_is_accepted_as_the_inputs():
    x = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: (t.exp() * t).sum(), x)
