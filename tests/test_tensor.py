"""Tensor creation, dtypes, conversion, indexing semantics, errors and numeric properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg


def test_dtype_rules():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool_
    assert mg.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert mg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert mg.tensor([1.0], dtype=mg.float64).dtype == np.float64


def test_creation_takes_tuple_or_varargs():
    assert mg.zeros((2, 3)).shape == mg.zeros(2, 3).shape == (2, 3)
    assert mg.ones(4).shape == (4,)
    assert mg.full((2, 2), 7.0).data.tolist() == [[7, 7], [7, 7]]
    assert mg.full((2,), 3).dtype == np.int64
    assert mg.arange(5).dtype == np.int64 and mg.arange(0, 1, 0.25).dtype == np.float32
    assert mg.zeros_like(mg.ones(2, dtype=np.float64)).dtype == np.float64
    assert mg.ones_like(mg.zeros(3)).data.sum() == 3
    assert mg.randn(2, 3).dtype == np.float32 and mg.rand((4,)).shape == (4,)


def test_manual_seed_makes_random_tensors_repeatable():
    mg.manual_seed(123)
    a = mg.randn(5).data.copy()
    mg.manual_seed(123)
    b = mg.randn(5).data
    np.testing.assert_array_equal(a, b)
    assert np.all((mg.rand(100).data >= 0) & (mg.rand(100).data < 1))


def test_item_numpy_shape_ndim_T():
    x = mg.tensor([[1.0, 2.0, 3.0]])
    assert x.shape == (1, 3) and x.ndim == 2
    assert x.T.shape == (3, 1)
    assert isinstance(x.numpy(), np.ndarray)
    assert mg.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="one-element"):
        x.item()


def test_ndarray_on_the_left_gives_a_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3, 4])


def test_python_scalars_keep_float32():
    x = mg.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (x + 0.5).dtype == np.float32 and (2 ** x).dtype == np.float32


def test_getitem_matches_numpy_and_scatter_adds_repeats():
    data = np.arange(12.0).reshape(3, 4)
    x = mg.tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x[::-1, 1:3].data, data[::-1, 1:3])
    np.testing.assert_array_equal(x[..., None, 0].data, data[..., None, 0])
    np.testing.assert_array_equal(x[data > 5].data, data[data > 5])
    x[[0, 0, 2], 1].sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = 2
    expected[2, 1] = 1
    np.testing.assert_array_equal(x.grad, expected)


def test_split_and_chunk_follow_numpy_and_pytorch():
    x = mg.arange(10.0) if False else mg.tensor(np.arange(10.0))
    assert [p.shape[0] for p in mg.split(x, 5)] == [2] * 5
    assert [p.shape[0] for p in mg.split(x, [3, 7])] == [3, 4, 3]
    assert [p.shape[0] for p in mg.chunk(x, 3)] == [4, 4, 2]
    assert [p.shape[0] for p in mg.chunk(x, 4)] == [3, 3, 3, 1]
    with pytest.raises(ValueError, match="equal"):
        mg.split(x, 3)


def test_pad_var_transpose_conventions():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert mg.pad(x, ((1, 0), (0, 2))).shape == (3, 5)
    assert mg.pad(x, ((1, 0), (0, 2)), value=9.0).data[0, 0] == 9.0
    assert x.var().item() == pytest.approx(np.var(np.arange(6.0)))
    assert x.var(axis=0, ddof=1).data.tolist() == pytest.approx(np.var(x.data, axis=0, ddof=1).tolist())
    assert mg.tensor(np.zeros((2, 3, 4))).transpose().shape == (4, 3, 2)
    assert mg.tensor(np.zeros((2, 3, 4))).transpose(1, 0, 2).shape == (3, 2, 4)
    assert mg.tensor(np.zeros((2, 3, 4))).swapaxes(0, 2).shape == (4, 3, 2)
    assert mg.tensor(np.zeros((2, 1))).expand(3, 2, 5).shape == (3, 2, 5)
    assert mg.tensor(np.zeros((2, 1))).expand((-1, 4)).shape == (2, 4)


@pytest.mark.parametrize(
    "call, kind, words",
    [
        (lambda: mg.zeros(4, 3) @ mg.zeros(4, 5), ValueError, ["matmul", "(4, 3)", "(4, 5)"]),
        (lambda: mg.zeros(2, 3) + mg.zeros(4), ValueError, ["add", "(2, 3)", "(4,)"]),
        (lambda: mg.zeros(2, 3).reshape(4), ValueError, ["reshape", "(2, 3)", "(4,)"]),
        (lambda: mg.zeros(2, 3)[5], IndexError, ["getitem", "(2, 3)"]),
        (lambda: mg.concat([mg.zeros(2, 3), mg.zeros(2, 4)], axis=0), ValueError, ["concat", "(2, 3)", "(2, 4)"]),
        (lambda: mg.zeros(2, 3).sum(axis=2), IndexError, ["sum", "axis 2"]),
        (lambda: mg.zeros(3).masked_fill(mg.zeros(3), 1.0), TypeError, ["masked_fill", "bool"]),
        (lambda: mg.zeros(2, 3).squeeze(1), ValueError, ["squeeze", "(2, 3)"]),
        (lambda: mg.softmax(mg.zeros(3), axis=1), IndexError, ["softmax", "axis 1"]),
    ],
)
def test_mistakes_raise_clear_errors(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize("symbol", ["==", "!=", "<", "<=", ">", ">="])
def test_comparison_of_unbroadcastable_shapes_is_a_shape_error(symbol):
    a, b = mg.zeros(2, 3), mg.zeros(4)
    with pytest.raises(mg.ShapeError) as info:
        eval(f"a {symbol} b")
    for w in [f"({symbol})", "(2, 3)", "(4,)"]:
        assert w in str(info.value)
    assert eval(f"a {symbol} mg.zeros(3)").shape == (2, 3)  # broadcasting still works


def test_transpose_of_two_axes_suggests_swapaxes():
    with pytest.raises(ValueError, match=r"not a permutation.*swapaxes\(1, 2\)"):
        mg.zeros(2, 3, 4).transpose(1, 2)
    assert mg.zeros(2, 3).transpose(1, 0).shape == (3, 2)  # a full permutation is still fine


def test_clip_takes_numpy_2_keyword_spellings():
    x = mg.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(x.clip(min=-1.0, max=1.0).data, [-1, 0.5, 1])
    np.testing.assert_array_equal(mg.clip(x, -1.0, 1.0).data, [-1, 0.5, 1])
    np.testing.assert_array_equal(x.clip(max=0.0).data, [-2, 0, 0])


def test_setitem_only_outside_the_graph():
    x = mg.zeros(3)
    x[1] = 5.0
    assert x.data.tolist() == [0, 5, 0]
    y = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        y[0] = 1.0


floats = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3), elements=floats), st.floats(-50, 50))
def test_softmax_rows_sum_to_one_and_are_shift_invariant(a, shift):
    y = mg.softmax(mg.tensor(a), axis=-1).data
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(mg.softmax(mg.tensor(a + shift), axis=-1).data, y, atol=1e-12)


def test_softmax_is_stable_for_huge_logits_and_fully_masked_rows():
    x = mg.tensor([[1e4, 0.0, -1e4], [-np.inf, -np.inf, -np.inf]], requires_grad=True)
    y = mg.softmax(x, axis=-1)
    assert np.all(np.isfinite(y.data))
    np.testing.assert_allclose(y.data[0], [1, 0, 0])
    np.testing.assert_array_equal(y.data[1], [0, 0, 0])
    (y * mg.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad[1], [0, 0, 0])
    assert np.all(np.isfinite(mg.log_softmax(mg.tensor([1e4, 0.0])).data))


def test_masked_fill_then_softmax_gives_zero_weight_where_masked():
    scores = mg.tensor(np.random.default_rng(0).standard_normal((2, 4)), requires_grad=True)
    mask = mg.tensor(np.array([[True, True, False, False], [False] * 4]))
    w = mg.softmax(mg.masked_fill(scores, ~mask, -np.inf), axis=-1)
    np.testing.assert_array_equal(w.data[0, 2:], 0)
    np.testing.assert_array_equal(w.data[1], 0)
    w.sum().backward()
    assert np.all(np.isfinite(scores.grad))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=floats), st.data())
def test_reshape_and_transpose_round_trip(a, data):
    x = mg.tensor(a)
    perm = data.draw(st.permutations(range(a.ndim)))
    back = x.transpose(*perm).transpose(*np.argsort(perm).tolist())
    np.testing.assert_array_equal(back.data, a)
    np.testing.assert_array_equal(x.reshape(-1).reshape(a.shape).data, a)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3), elements=floats))
def test_gradient_of_sum_is_ones(a):
    x = mg.tensor(a, requires_grad=True)
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones_like(a))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=floats))
def test_reductions_match_numpy(a):
    x = mg.tensor(a)
    for axis in (None, 0, -1):
        for keepdims in (False, True):
            for name in ("sum", "mean", "max", "min", "var"):
                np.testing.assert_allclose(
                    getattr(x, name)(axis=axis, keepdims=keepdims).data,
                    getattr(np, name)(a, axis=axis, keepdims=keepdims),
                    rtol=1e-9, atol=1e-9,
                )


def test_matmul_matches_numpy_for_1d_and_batched_broadcasting():
    rng = np.random.default_rng(1)
    for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (3, 4)), ((5, 1, 2, 3), (4, 3, 2))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        np.testing.assert_allclose((mg.tensor(a) @ mg.tensor(b)).data, a @ b, rtol=1e-12)


def test_tensor_copies_its_input_and_from_numpy_shares():
    array = np.array([1.0, 2.0], dtype=np.float32)
    t = mg.tensor(array)
    array[0] = 9.0
    assert t.data.tolist() == [1, 2] and not np.shares_memory(mg.tensor(t).data, t.data)
    shared = mg.from_numpy(array)
    assert shared.data is array and isinstance(shared, mg.Tensor) and not shared.requires_grad
    shared.data[1] = 7.0
    assert array.tolist() == [9, 7]
    assert mg.from_numpy(np.zeros(2)).dtype == np.float64  # dtype kept, as torch.from_numpy
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy([1.0, 2.0])


def test_parameters_built_from_one_array_are_not_aliased():
    array = np.ones(3, dtype=np.float32)
    a, b = mg.tensor(array, requires_grad=True), mg.tensor(array, requires_grad=True)
    opt = mg.optim.SGD([a], lr=0.5)
    a.sum().backward()
    opt.step()
    assert a.data.tolist() == [0.5] * 3
    assert b.data.tolist() == [1.0] * 3 and array.tolist() == [1.0] * 3


def test_name_defaults_to_none():
    x = mg.tensor([1.0], requires_grad=True)
    assert x.name is None and (x * 2).name is None and mg.zeros(2).name is None and x.detach().name is None
    x.name = "x"
    assert x.name == "x"


def test_comparing_with_none_gives_a_python_bool():
    t = mg.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 (the operator is what is tested)
    assert (None == t) is False and t not in [None]  # noqa: E711
    assert (t == mg.tensor([1.0, 0.0])).data.tolist() == [True, False]


def test_bitwise_ops_on_integers_logical_on_bools():
    a, b = np.array([6, 3, -4]), np.array([3, 5, 1])
    ta, tb = mg.tensor(a), mg.tensor(b)
    np.testing.assert_array_equal((ta & tb).data, a & b)
    np.testing.assert_array_equal((ta | tb).data, a | b)
    np.testing.assert_array_equal((ta ^ tb).data, a ^ b)
    np.testing.assert_array_equal((~ta).data, ~a)
    np.testing.assert_array_equal((5 & ta).data, 5 & a)
    np.testing.assert_array_equal((1 | ta).data, 1 | a)
    np.testing.assert_array_equal((1 ^ ta).data, 1 ^ a)
    assert (ta & tb).dtype == np.int64
    m, n = mg.tensor([True, True, False]), mg.tensor([True, False, False])
    assert (m & n).data.tolist() == [True, False, False] and (m | n).dtype == np.bool_
    assert (m ^ n).data.tolist() == [False, True, False] and (~m).data.tolist() == [False, False, True]
    assert (True ^ m).data.tolist() == [False, False, True]


def test_bitwise_ops_reject_float_tensors():
    for call in (lambda: mg.ones(2) & mg.ones(2), lambda: mg.ones(2) | True, lambda: ~mg.ones(2)):
        with pytest.raises(TypeError, match="bool .*integer"):
            call()


def test_floordiv_and_mod_follow_numpy_outside_the_graph():
    a, b = np.array([7.5, -7.5, 3.0]), np.array([2.0, 2.0, -2.0])
    ta, tb = mg.tensor(a), mg.tensor(b)
    np.testing.assert_array_equal((ta // tb).data, a // b)
    np.testing.assert_array_equal((ta % tb).data, a % b)
    np.testing.assert_array_equal((7 // tb).data, 7 // b)
    np.testing.assert_array_equal((7 % tb).data, 7 % b)
    i = mg.tensor([-7, 7])
    assert (i // 2).data.tolist() == [-4, 3] and (i % 3).data.tolist() == [2, 1] and (i // 2).dtype == np.int64
    x = mg.tensor([3.5, -2.0], requires_grad=True)
    with mg.no_grad():
        assert not (x % 2).requires_grad and not (x // 2).requires_grad
    assert not (x.detach() // 2).requires_grad


@pytest.mark.parametrize(
    "call", [lambda x: x // 2, lambda x: 7 // x], ids=["x//2", "7//x"]
)
def test_floordiv_refuses_operands_requiring_grad(call):
    x = mg.tensor([3.5, -2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        call(x)


@pytest.mark.torch
def test_bitwise_floordiv_mod_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")
    a, b = np.array([6, 3, -4, -7]), np.array([3, 5, 1, 2])
    fa, fb = np.array([7.5, -7.5, 3.0, -1.0], dtype=np.float32), np.array([2.0, 2.0, -2.0, 3.0], dtype=np.float32)
    for x, y in ((a, b), (fa, fb)):
        cases = [lambda p, q: p // q, lambda p, q: p % q, lambda p, q: 7 // q, lambda p, q: 7 % q]
        if x.dtype.kind == "i":
            cases += [lambda p, q: p & q, lambda p, q: p | q, lambda p, q: p ^ q, lambda p, q: ~p]
        for op in cases:
            ours = op(mg.tensor(x), mg.tensor(y)).data
            theirs = op(torch.tensor(x), torch.tensor(y)).numpy()
            np.testing.assert_array_equal(ours, theirs)


def test_transpose_takes_numpy_axes_keyword():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.transpose(axes=(1, 0, 2))
    np.testing.assert_array_equal(y.data, x.data.transpose(1, 0, 2))
    assert x.transpose(axes=[2, 0, 1]).shape == (4, 2, 3) and x.transpose(axes=None).shape == (4, 3, 2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="axes"):
        x.transpose(1, 0, 2, axes=(1, 0, 2))


def test_creation_refuses_text_ragged_lists_and_fractional_sizes():
    with pytest.raises(TypeError, match="numbers and booleans"):
        mg.tensor("abc")
    with pytest.raises(ValueError, match="tensor: cannot make a tensor of list data"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="shape must be ints"):
        mg.zeros(2.5)
    assert mg.zeros(np.int64(3)).shape == (3,)
