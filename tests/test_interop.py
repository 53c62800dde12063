"""NumPy functions on Tensors (NEP 13/18) run minigrad's ops: the result is a Tensor with the
same values and gradients as the minigrad call; nothing silently leaves the graph."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import interop

A = np.array([[0.5, -1.5, 2.0], [1.0, 3.0, -0.25]])
B = np.array([[2.0, 0.5, -1.0], [0.75, -2.0, 1.5]])

# (id, NumPy call, the minigrad call it must equal)
CASES = [
    ("add", lambda a, b: np.add(a, b), lambda a, b: a + b),
    ("ndarray+tensor", lambda a, b: B + a, lambda a, b: mg.tensor(B) + a),
    ("subtract", lambda a, b: np.subtract(a, b), lambda a, b: a - b),
    ("multiply", lambda a, b: np.multiply(a, b), lambda a, b: a * b),
    ("divide", lambda a, b: np.divide(a, b), lambda a, b: a / b),
    ("power", lambda a, b: np.power(np.abs(a), b), lambda a, b: mg.abs(a) ** b),
    ("negative", lambda a, b: np.negative(a), lambda a, b: -a),
    ("matmul", lambda a, b: np.matmul(a, b.T), lambda a, b: a @ b.T),
    ("dot", lambda a, b: np.dot(a, b.T), lambda a, b: a @ b.T),
    ("exp", lambda a, b: np.exp(a), lambda a, b: mg.exp(a)),
    ("log", lambda a, b: np.log(np.abs(a)), lambda a, b: mg.log(mg.abs(a))),
    ("sqrt", lambda a, b: np.sqrt(np.abs(a)), lambda a, b: mg.sqrt(mg.abs(a))),
    ("tanh", lambda a, b: np.tanh(a), lambda a, b: mg.tanh(a)),
    ("maximum", lambda a, b: np.maximum(a, b), mg.maximum),
    ("minimum", lambda a, b: np.minimum(a, b), mg.minimum),
    ("sum", lambda a, b: np.sum(a, axis=0, keepdims=True), lambda a, b: a.sum(axis=0, keepdims=True)),
    ("mean", lambda a, b: np.mean(a, axis=1), lambda a, b: a.mean(axis=1)),
    ("max", lambda a, b: np.max(a, axis=1), lambda a, b: a.max(axis=1)),
    ("amin", lambda a, b: np.amin(a), lambda a, b: a.min()),
    ("var", lambda a, b: np.var(a, axis=1, ddof=1), lambda a, b: a.var(axis=1, ddof=1)),
    ("std", lambda a, b: np.std(a), lambda a, b: a.std()),
    ("concatenate", lambda a, b: np.concatenate([a, b], axis=1), lambda a, b: mg.concat([a, b], axis=1)),
    ("stack", lambda a, b: np.stack([a, b]), lambda a, b: mg.stack([a, b])),
    ("where", lambda a, b: np.where(A > 0, a, b), lambda a, b: mg.where(mg.tensor(A > 0), a, b)),
    ("clip", lambda a, b: np.clip(a, -1.0, 1.0), lambda a, b: a.clip(-1.0, 1.0)),
    ("pad", lambda a, b: np.pad(a, ((1, 0), (0, 2))), lambda a, b: mg.pad(a, ((1, 0), (0, 2)))),
    ("reshape", lambda a, b: np.reshape(a, (3, 2)), lambda a, b: a.reshape(3, 2)),
    ("transpose", lambda a, b: np.transpose(a), lambda a, b: a.T),
    ("swapaxes", lambda a, b: np.swapaxes(a, 0, 1), lambda a, b: a.swapaxes(0, 1)),
    ("expand_dims", lambda a, b: np.expand_dims(a, 1), lambda a, b: a.unsqueeze(1)),
    ("squeeze", lambda a, b: np.squeeze(np.expand_dims(a, 0), 0), lambda a, b: a),
    ("broadcast_to", lambda a, b: np.broadcast_to(a, (4, 2, 3)), lambda a, b: a.broadcast_to((4, 2, 3))),
    ("take_along_axis", lambda a, b: np.take_along_axis(a, np.array([[2], [0]]), 1),
     lambda a, b: a.take_along_axis(np.array([[2], [0]]), 1)),
    ("copy", lambda a, b: np.copy(a), lambda a, b: a.clone()),
    # elementwise math (minigrad.ops.pointwise); the domain-limited ones on tanh(a) in (-1, 1)
    ("sin", lambda a, b: np.sin(a), lambda a, b: mg.sin(a)),
    ("cos", lambda a, b: np.cos(a), lambda a, b: mg.cos(a)),
    ("tan", lambda a, b: np.tan(np.tanh(a)), lambda a, b: mg.tan(mg.tanh(a))),
    ("arcsin", lambda a, b: np.arcsin(np.tanh(a)), lambda a, b: mg.arcsin(mg.tanh(a))),
    ("arccos", lambda a, b: np.arccos(np.tanh(a)), lambda a, b: mg.arccos(mg.tanh(a))),
    ("arctan", lambda a, b: np.arctan(a), lambda a, b: mg.arctan(a)),
    ("sinh", lambda a, b: np.sinh(a), lambda a, b: mg.sinh(a)),
    ("cosh", lambda a, b: np.cosh(a), lambda a, b: mg.cosh(a)),
    ("arcsinh", lambda a, b: np.arcsinh(a), lambda a, b: mg.arcsinh(a)),
    ("arccosh", lambda a, b: np.arccosh(a * a + 1.5), lambda a, b: mg.arccosh(a * a + 1.5)),
    ("arctanh", lambda a, b: np.arctanh(np.tanh(a) * 0.9), lambda a, b: mg.arctanh(mg.tanh(a) * 0.9)),
    ("log2", lambda a, b: np.log2(a * a + 0.5), lambda a, b: mg.log2(a * a + 0.5)),
    ("log10", lambda a, b: np.log10(a * a + 0.5), lambda a, b: mg.log10(a * a + 0.5)),
    ("log1p", lambda a, b: np.log1p(a * a), lambda a, b: mg.log1p(a * a)),
    ("exp2", lambda a, b: np.exp2(a), lambda a, b: mg.exp2(a)),
    ("expm1", lambda a, b: np.expm1(a), lambda a, b: mg.expm1(a)),
    ("square", lambda a, b: np.square(a), lambda a, b: mg.square(a)),
    ("reciprocal", lambda a, b: np.reciprocal(b), lambda a, b: mg.reciprocal(b)),
    ("sign", lambda a, b: a * np.sign(b), lambda a, b: a * mg.sign(b)),
    ("floor", lambda a, b: a * np.floor(b), lambda a, b: a * mg.floor(b)),
    ("ceil", lambda a, b: a * np.ceil(b), lambda a, b: a * mg.ceil(b)),
    ("trunc", lambda a, b: a * np.trunc(b), lambda a, b: a * mg.trunc(b)),
    ("rint", lambda a, b: a * np.rint(b), lambda a, b: a * mg.round(b)),
    ("round", lambda a, b: a * np.round(b, 1), lambda a, b: a * mg.round(b, 1)),
    ("arctan2", lambda a, b: np.arctan2(a, b), mg.arctan2),
    ("hypot", lambda a, b: np.hypot(a, b), mg.hypot),
    ("logaddexp", lambda a, b: np.logaddexp(a, b), mg.logaddexp),
    ("copysign", lambda a, b: np.copysign(a, b), mg.copysign),
    ("fmod", lambda a, b: np.fmod(a, b), mg.fmod),
    ("remainder", lambda a, b: np.remainder(a, b), lambda a, b: a % b),
    # products, scans and sorting (minigrad.ops.scan)
    ("prod", lambda a, b: np.prod(a, axis=1, keepdims=True), lambda a, b: a.prod(axis=1, keepdims=True)),
    ("cumsum", lambda a, b: np.cumsum(a, axis=1), lambda a, b: a.cumsum(axis=1)),
    ("cumsum_flat", lambda a, b: np.cumsum(a), lambda a, b: mg.cumsum(a)),
    ("cumprod", lambda a, b: np.cumprod(a, axis=0), lambda a, b: a.cumprod(axis=0)),
    ("sort", lambda a, b: np.sort(a, axis=0), lambda a, b: a.sort(axis=0)),
    ("sum_dtype", lambda a, b: np.sum(a, dtype=np.float32), lambda a, b: a.sum(dtype=mg.float32)),
    # linear algebra (A is 2x3 with distinct singular values)
    ("svd", lambda a, b: np.linalg.svd(a, full_matrices=False)[1], lambda a, b: mg.linalg.svd(a, False)[1]),
    ("svd_values", lambda a, b: np.linalg.svd(a, compute_uv=False), lambda a, b: mg.linalg.svdvals(a)),
    ("svdvals", lambda a, b: np.linalg.svdvals(b), lambda a, b: mg.linalg.svdvals(b)),
]


@pytest.mark.parametrize("name,numpy_call,minigrad_call", CASES, ids=[c[0] for c in CASES])
def test_a_numpy_call_equals_the_minigrad_op_in_value_and_gradient(name, numpy_call, minigrad_call):
    results = []
    for call in (numpy_call, minigrad_call):
        a = mg.tensor(A, requires_grad=True)
        b = mg.tensor(B, requires_grad=True)
        out = call(a, b)
        assert isinstance(out, mg.Tensor) and out.requires_grad, f"{name} left the graph"
        (out * mg.tensor(np.linspace(-1, 1, out.size).reshape(out.shape))).sum().backward()
        results.append((out.data, a.grad, b.grad))
    (value, ga, gb), (want, wa, wb) = results
    np.testing.assert_allclose(value, want, rtol=1e-12)
    for got, expected in ((ga, wa), (gb, wb)):
        assert (got is None) == (expected is None)
        if got is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_split_gives_tensors_in_the_graph():
    t = mg.tensor(A, requires_grad=True)
    first, second = np.split(t, [1], axis=0)
    (first.sum() * 2 + second.sum()).backward()
    np.testing.assert_array_equal(t.grad, [[2, 2, 2], [1, 1, 1]])


@pytest.mark.parametrize("call", [lambda t: t > 0, lambda t: np.greater(t, 0), lambda t: np.isnan(t),
                                  lambda t: np.equal(t, t)])
def test_comparisons_and_tests_give_bool_tensors_outside_the_graph(call):
    out = call(mg.tensor(A, requires_grad=True))
    assert isinstance(out, mg.Tensor) and out.dtype == np.bool_ and not out.requires_grad


def test_functions_that_only_inspect_run_on_the_data():
    t = mg.tensor(A, requires_grad=True)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    assert np.allclose(t, A) and np.array_equal(t, A) and np.count_nonzero(t) == 6


def test_like_factories_give_constant_tensors():
    t = mg.tensor(A, requires_grad=True)
    z = np.zeros_like(t)
    assert isinstance(z, mg.Tensor) and not z.requires_grad and z.shape == (2, 3) and not z.data.any()
    assert np.full_like(t, 7.0).tolist() == [[7.0] * 3] * 2


@pytest.mark.parametrize("call,name", [
    (lambda t: np.cbrt(t), "np.cbrt"),
    (lambda t: np.sinc(t), "np.sinc"),
    (lambda t: np.linalg.det(t[:, :2]), "np.linalg.det"),
])
def test_a_numpy_function_without_a_minigrad_op_is_a_type_error_naming_it(call, name):
    with pytest.raises(TypeError, match=f"^{name.replace('.', '[.]')} has no minigrad equivalent"):
        call(mg.tensor(A, requires_grad=True))


@pytest.mark.parametrize("call,message", [
    (lambda t: np.add(t, t, out=np.empty((2, 3))), r"np.add\(..., out=...\) is not supported"),
    (lambda t: np.add.at(t, [0], 1.0), r"np.add.at is not supported"),
    (lambda t: np.exp(t, dtype=np.float32), r"np.exp\(..., dtype=...\) is not supported"),
    (lambda t: np.sum(t, out=np.empty(())), r"np.sum: \['out'\] not supported"),
    (lambda t: np.where(t > 0), r"np.where\(condition\) with one argument"),
    (lambda t: np.pad(t, 1, mode="symmetric"), r"np.pad\(mode='symmetric', \[\]\) is not supported"),
])
def test_what_would_leave_the_graph_is_refused_with_one_line(call, message):
    with pytest.raises(TypeError, match=message):
        call(mg.tensor(A, requires_grad=True))


def test_asarray_still_gives_the_data_without_the_graph():
    t = mg.tensor(A, requires_grad=True)
    assert np.asarray(t) is t.data and np.array(t).tolist() == A.tolist()


# NumPy functions on shape and indexing: the same call on the ndarray and on the Tensor agree in value,
# and the Tensor's result carries the graph (its gradient is checked by tests/test_gradients.py).
SAME_AS_NUMPY = [
    ("flip", lambda x: np.flip(x, 1)),
    ("roll", lambda x: np.roll(x, (1, -1), axis=(0, 1))),
    ("repeat", lambda x: np.repeat(x, [1, 0, 2], axis=1)),
    ("tile", lambda x: np.tile(x, (2, 1, 2))),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1)),
    ("atleast_3d", lambda x: np.atleast_3d(x)),
    ("tril", lambda x: np.tril(x, 1)),
    ("triu", lambda x: np.triu(x, -1)),
    ("diag", lambda x: np.diag(np.diag(x, 1), -1)),
    ("diagonal", lambda x: np.diagonal(x, offset=-1, axis1=1, axis2=0)),
    ("trace", lambda x: np.trace(x, 1)),
    ("meshgrid", lambda x: np.meshgrid(x[0], x[1, :2])[1]),
    ("hstack", lambda x: np.hstack([x, x[:, :1]])),
    ("vstack", lambda x: np.vstack([x, x[0]])),
    ("dstack", lambda x: np.dstack([x, x])),
    ("array_split", lambda x: np.array_split(x, 2, axis=1)[0]),
    ("pad reflect", lambda x: np.pad(x, ((1, 1), (2, 0)), mode="reflect")),
    ("pad edge", lambda x: np.pad(x, 2, mode="edge")),
    ("pad wrap", lambda x: np.pad(x, ((0, 3), (1, 4)), mode="wrap")),
    ("einsum", lambda x: np.einsum("ij,kj->ik", x, x)),
    ("einsum ellipsis", lambda x: np.einsum("...j,j", x, x[0])),
    ("einsum trace", lambda x: np.einsum("ii", x[:, :2])),
    ("tensordot", lambda x: np.tensordot(x, x, axes=([0], [0]))),
    ("dot nd", lambda x: np.dot(np.stack([x, x]), x.T)),
    ("inner", lambda x: np.inner(x, x)),
    ("outer", lambda x: np.outer(x, x[0])),
    ("kron", lambda x: np.kron(x, x[:1])),
    ("linalg.norm", lambda x: np.linalg.norm(x, axis=1)),
    ("linalg.norm inf", lambda x: np.linalg.norm(x, np.inf)),
]


@pytest.mark.parametrize("call", [c[1] for c in SAME_AS_NUMPY], ids=[c[0] for c in SAME_AS_NUMPY])
def test_shape_functions_give_numpys_values_and_keep_the_graph(call):
    out = call(mg.tensor(A, requires_grad=True))
    assert isinstance(out, mg.Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, call(A))
