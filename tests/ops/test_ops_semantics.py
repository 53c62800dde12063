"""Op semantics pinned against NumPy and PyTorch: custom-Function context, split/chunk bounds,
pow at zero, Python-scalar dtypes, NumPy spellings, fresh outputs of no-op views, axis errors,
differentiable clip bounds, and errors naming the op the user called."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

rng = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: oracle test skipped")


# ---------------------------------------------------------------- 1. needs_input_grad inside forward


class _Recorder(mg.Function):
    seen: dict = {}

    @staticmethod
    def forward(ctx, x, s):
        _Recorder.seen["forward"] = ctx.needs_input_grad
        if ctx.needs_input_grad[1]:  # what PyTorch users do: save only what backward will need
            ctx.save_for_backward(x)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        _Recorder.seen["backward"] = ctx.needs_input_grad
        return grad * 3.0, None


def test_needs_input_grad_is_set_when_forward_runs_and_in_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    out = _Recorder.apply(x, mg.tensor(3.0))
    assert _Recorder.seen["forward"] == (True, False)
    assert out.grad_fn.saved == ()  # the scale needs no grad, so nothing was saved
    out.sum().backward()
    assert _Recorder.seen["backward"] == (True, False)
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_needs_input_grad_in_forward_counts_non_tensor_inputs_as_false():
    _Recorder.apply(mg.tensor([1.0]), 2.0)
    assert _Recorder.seen["forward"] == (False, False)


# ---------------------------------------------------------------- 2. split and chunk


@pytest.mark.parametrize("indices", [[-3], [2, -2], [8, -5], [5, 3], [12, 20], [-20, 3], [0], [10], [], [3, 3]])
def test_split_indices_are_numpy_slice_bounds(indices):
    data = np.arange(20.0).reshape(10, 2)
    pieces = mg.split(mg.tensor(data), indices, axis=0)
    expected = np.split(data, indices, axis=0)
    assert [p.shape for p in pieces] == [e.shape for e in expected]
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.data, e)


def test_split_with_negative_indices_routes_each_gradient_to_its_rows():
    x = mg.tensor(np.zeros((10, 2)), requires_grad=True)
    a, b, c = mg.split(x, [2, -2])
    assert (a.shape, b.shape, c.shape) == ((2, 2), (6, 2), (2, 2))
    (a.sum() + 2 * b.sum() + 3 * c.sum()).backward()
    np.testing.assert_array_equal(x.grad[:, 0], [1, 1, 2, 2, 2, 2, 2, 2, 3, 3])


def test_chunk_of_an_empty_axis_gives_chunks_empty_pieces():
    pieces = mg.chunk(mg.zeros(0, 2), 3)
    assert [p.shape for p in pieces] == [(0, 2)] * 3
    assert [p.shape for p in mg.chunk(mg.zeros(2, 0), 2, axis=1)] == [(2, 0)] * 2


@pytest.mark.torch
@pytest.mark.parametrize("shape, chunks, axis", [((0, 2), 3, 0), ((0,), 1, 0), ((2, 0), 4, -1), ((5,), 3, 0),
                                                 ((6,), 4, 0), ((1,), 3, 0), ((7, 2), 7, 0), ((3, 4), 2, 1)])
def test_chunk_matches_torch(shape, chunks, axis):
    torch = _torch()
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    ours = mg.chunk(mg.tensor(data), chunks, axis)
    theirs = torch.chunk(torch.from_numpy(data), chunks, dim=axis)
    assert [p.shape for p in ours] == [tuple(t.shape) for t in theirs]
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.data, t.numpy())


# ---------------------------------------------------------------- 3. pow at base 0


def test_pow_with_exponent_zero_has_zero_gradient_at_base_zero():
    x = mg.tensor([0.0, 1.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


_BASES = [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.5]
_EXPONENTS = [0.0, 1.0, -1.0, 0.5, 2.0, 0.0, -2.0]


def test_pow_tensor_exponent_gradients_at_base_zero():
    a = mg.tensor(_BASES, requires_grad=True)
    b = mg.tensor(_EXPONENTS, requires_grad=True)
    with np.errstate(divide="ignore"):
        (a ** b).sum().backward()
    # d/da = b a^(b-1), 0 where b == 0; d/db = a^b log a, 0 where a == 0 and b >= 0
    np.testing.assert_array_equal(a.grad[:5], [0.0, 1.0, -np.inf, np.inf, 0.0])
    np.testing.assert_array_equal(b.grad[:5], [0.0, 0.0, -np.inf, 0.0, 0.0])
    assert b.grad[5] == pytest.approx(np.log(2.0))


@pytest.mark.torch
def test_pow_gradients_match_torch_at_zero():
    torch = _torch()
    a, b = mg.tensor(_BASES, requires_grad=True), mg.tensor(_EXPONENTS, requires_grad=True)
    ta, tb = torch.tensor(_BASES, requires_grad=True), torch.tensor(_EXPONENTS, requires_grad=True)
    with np.errstate(divide="ignore"):
        (a ** b).sum().backward()
    (ta ** tb).sum().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-6)
    x, tx = mg.tensor([0.0, 1.0, 2.0], requires_grad=True), torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    (tx ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


# ---------------------------------------------------------------- 4. Python scalars and dtypes


@pytest.mark.parametrize("call, dtype", [
    (lambda: mg.where(np.array([True, False]), 0.0, float("-inf")), np.float32),
    (lambda: mg.where(mg.tensor([True, False]), 1.0, 2), np.float32),
    (lambda: mg.add(1.0, 2.0), np.float32),
    (lambda: mg.maximum(1.0, 0.0), np.float32),
    (lambda: mg.mul(2, 3.5), np.float32),
    (lambda: mg.add(1, 2), np.int64),
    (lambda: mg.minimum(True, False), np.bool_),
    (lambda: mg.clip(3.0, 0.0, 1.0), np.float32),
])
def test_python_scalars_alone_take_the_default_dtypes(call, dtype):
    assert call().dtype == dtype


@pytest.mark.parametrize("call, dtype", [
    (lambda: mg.add(mg.tensor([1.0], dtype=mg.float64), 1.0), np.float64),
    (lambda: mg.add(mg.tensor([1.0]), 1.0), np.float32),
    (lambda: mg.where(np.array([True]), mg.tensor([1.0], dtype=mg.float64), 0.0), np.float64),
    (lambda: mg.add(np.float64(1.0), 2.0), np.float64),
    (lambda: mg.add(np.ones(1, dtype=np.float16), 2.0), np.float16),
    (lambda: mg.mul(mg.tensor([2]), 3), np.int64),
])
def test_python_scalars_beside_arrays_stay_weak_as_in_numpy_2(call, dtype):
    assert call().dtype == dtype


@pytest.mark.torch
def test_scalar_only_dtypes_match_torch():
    torch = _torch()
    mask = [True, False]
    assert str(mg.where(np.array(mask), 0.0, float("-inf")).dtype) == \
        str(torch.where(torch.tensor(mask), 0.0, float("-inf")).dtype).removeprefix("torch.")
    assert str(mg.maximum(1.0, 0.0).dtype) == str(torch.maximum(torch.tensor(1.0), torch.tensor(0.0)).dtype)[6:]


# ---------------------------------------------------------------- 5. NumPy spellings and 0-d softmax


def test_transpose_takes_numpy_axes_keyword():
    data = rng.standard_normal((2, 3, 4))
    out = mg.transpose(mg.tensor(data), axes=(1, 0, 2))
    np.testing.assert_array_equal(out.data, np.transpose(data, axes=(1, 0, 2)))
    assert mg.transpose(mg.tensor(data), axes=None).shape == (4, 3, 2)
    with pytest.raises(TypeError, match="transpose"):
        mg.transpose(mg.tensor(data), 1, 0, 2, axes=(1, 0, 2))


def test_broadcast_to_takes_an_int_shape():
    x = mg.tensor([2.0], requires_grad=True)
    out = mg.broadcast_to(x, 3)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x.data, 3))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0])


def test_concat_axis_none_flattens_like_numpy():
    a, b, c = np.arange(4.0).reshape(2, 2), np.float64(7.0), np.arange(3.0)
    out = mg.concat([mg.tensor(a), mg.tensor(b), mg.tensor(c)], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a, b, c], axis=None))
    x = mg.tensor(a, requires_grad=True)
    (mg.concat([x, mg.tensor(c)], axis=None) * mg.arange(7.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1], [2, 3]])


@pytest.mark.parametrize("fn, value", [(mg.softmax, 1.0), (mg.log_softmax, 0.0)])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_of_a_0d_tensor(fn, value, axis):
    x = mg.tensor(3.0, requires_grad=True)
    out = fn(x, axis=axis)
    assert out.shape == () and out.item() == value
    out.backward()
    assert x.grad == 0.0
    with pytest.raises(IndexError, match=fn.__name__):
        fn(x, axis=1)


@pytest.mark.torch
def test_softmax_of_a_0d_tensor_matches_torch():
    torch = _torch()
    for ours, theirs in ((mg.softmax, torch.softmax), (mg.log_softmax, torch.log_softmax)):
        x, tx = mg.tensor(-1.5, requires_grad=True), torch.tensor(-1.5, requires_grad=True)
        out, tout = ours(x, axis=-1), theirs(tx, -1)
        (out * 2.0).backward()
        (tout * 2.0).backward()
        assert out.shape == tuple(tout.shape) and out.item() == tout.item()
        assert x.grad == tx.grad.item()


# ---------------------------------------------------------------- 6. unchanged shapes still give a new tensor


@pytest.mark.parametrize("call", [
    lambda x: x.reshape(3),
    lambda x: x.reshape(-1),
    lambda x: x.flatten(),
    lambda x: x.squeeze(),
    lambda x: mg.broadcast_to(x, (3,)),
    lambda x: x.expand(3),
    lambda x: x.expand(-1),
], ids=["reshape", "reshape-1", "flatten", "squeeze", "broadcast_to", "expand", "expand-1"])
def test_shape_ops_to_the_same_shape_return_a_new_non_leaf(call):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = call(x)
    assert y is not x and y.shape == x.shape
    assert y.grad_fn is not None and not y.is_leaf
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    constant = mg.tensor([1.0, 2.0, 3.0])
    assert call(constant) is not constant


# ---------------------------------------------------------------- 7. out-of-range axes


@pytest.mark.parametrize("call, op", [
    (lambda x: x.sum(axis=2), "sum"),
    (lambda x: mg.softmax(x, axis=-3), "softmax"),
    (lambda x: x.squeeze(axis=4), "squeeze"),
    (lambda x: x.unsqueeze(4), "unsqueeze"),  # NumPy's expand_dims: out of range for the 3-d result
    (lambda x: mg.concat([x, x], axis=2), "concat"),
    (lambda x: mg.split(x, 2, axis=2), "split"),
    (lambda x: mg.chunk(x, 2, axis=-3), "chunk"),
    (lambda x: x.flatten(0, 5), "flatten"),
    (lambda x: x.transpose(0, 2), "transpose"),
    (lambda x: x.permute(0, 2), "permute"),
    (lambda x: x.std(axis=3), "std"),
    (lambda x: x.argmax(axis=2), "argmax"),
])
def test_an_out_of_range_axis_is_both_value_and_index_error_naming_the_op(call, op):
    x = mg.zeros(2, 3)
    with pytest.raises(np.exceptions.AxisError) as info:
        call(x)
    assert isinstance(info.value, ValueError) and isinstance(info.value, IndexError)
    ndim = 3 if op == "unsqueeze" else 2
    assert str(info.value).startswith(f"{op}: axis ") and f"dimension {ndim}" in str(info.value)


# ---------------------------------------------------------------- 8. clip with tensor bounds


def test_clip_sends_the_gradient_to_the_active_bound():
    x = mg.tensor([-2.0, 0.0, 0.5, 2.0], requires_grad=True)
    lo = mg.tensor([-1.0, -1.0, 0.5, -1.0], requires_grad=True)
    hi = mg.tensor(1.0, requires_grad=True)
    out = mg.clip(x, lo, hi)
    np.testing.assert_array_equal(out.data, [-1.0, 0.0, 0.5, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 0])  # a tie with a bound goes to the input
    np.testing.assert_array_equal(lo.grad, [1, 0, 0, 0])
    assert hi.grad == 1.0


def test_clip_with_tensor_bounds_passes_gradcheck():
    x = mg.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    lo = mg.tensor(rng.uniform(-1.5, -0.2, (4,)), requires_grad=True)
    hi = mg.tensor(rng.uniform(0.2, 1.5, (3, 1)), requires_grad=True)
    assert mg.gradcheck(lambda a, b, c: mg.clip(a, b, c), [x, lo, hi])
    assert mg.gradcheck(lambda a, c: mg.clip(a, max=c), [x, hi])


@pytest.mark.torch
@pytest.mark.parametrize("bounds", ["both", "min", "max", "crossed"])
def test_clip_gradients_match_torch_clamp(bounds):
    torch = _torch()
    x = rng.uniform(-2, 2, (5, 4))
    lo, hi = rng.uniform(-1, 0, (4,)), rng.uniform(0, 1, (5, 1))
    if bounds == "crossed":
        lo = rng.uniform(1.2, 2, (4,))  # every lower bound above every upper one: the output is hi
    kw = {"both": ("lo", "hi"), "min": ("lo",), "max": ("hi",), "crossed": ("lo", "hi")}[bounds]
    values = {"lo": lo, "hi": hi}
    ours = {k: mg.tensor(v, requires_grad=True) for k, v in values.items() if k in kw}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in values.items() if k in kw}
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = rng.standard_normal(np.broadcast_shapes(x.shape, *(v.shape for v in ours.values())))
    out = mg.clip(mx, ours.get("lo"), ours.get("hi"))
    tout = torch.clamp(tx, theirs.get("lo"), theirs.get("hi"))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(mx.grad, tx.grad.numpy())
    for k in kw:
        np.testing.assert_allclose(ours[k].grad, theirs[k].grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- 9. errors name the op the user called


@pytest.mark.parametrize("call, words", [
    (lambda: mg.zeros(2, 3).expand(4, 4), ["expand:", "(2, 3)", "(4, 4)"]),
    (lambda: mg.zeros(2, 3).expand(5, -1, 2), ["expand:", "(2, 3)", "(5, 2, 2)"]),
    (lambda: F.mse_loss(mg.zeros(2, 3), mg.zeros(4)), ["mse_loss:", "(2, 3)", "(4,)"]),
    (lambda: mg.zeros(2, 3).permute(0, 0), ["permute:", "(2, 3)"]),
    (lambda: mg.clip(mg.zeros(2, 3), mg.zeros(4), 1.0), ["clip:", "(2, 3)", "(4,)"]),
])
def test_shape_errors_name_the_op_that_was_called(call, words):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(words[0]), message
    for w in words[1:]:
        assert w in message


def test_matmul_with_an_empty_inner_dimension_has_zero_gradients():
    """(2, 3, 0) @ (0, 4): the product is zeros and so are both gradients (as torch)."""
    a = mg.tensor(np.zeros((2, 3, 0)), requires_grad=True)
    b = mg.tensor(np.zeros((0, 4)), requires_grad=True)
    out = a @ b
    np.testing.assert_array_equal(out.data, np.zeros((2, 3, 4)))
    out.sum().backward()
    assert a.grad.shape == (2, 3, 0) and b.grad.shape == (0, 4) and b.grad.dtype == b.data.dtype


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_softmax_over_an_empty_axis_is_empty_in_both_backends(backend):
    from minigrad import kernels

    with kernels.use_backend(backend):
        x = mg.tensor(np.zeros((3, 0), np.float32), requires_grad=True)
        y, z = mg.functional.softmax(x, axis=-1), mg.functional.log_softmax(x, axis=-1)
        (y.sum() + z.sum()).backward()
        assert y.shape == z.shape == x.grad.shape == (3, 0)
