"""PyTorch spellings a user reaches for: formatting and Python-number conversion, callable
``size``, torch-named methods (clone, to, t, clamp, any/all, isnan, zero_/fill_, ...), the
``cat``/``clamp`` aliases, and the clear error for ``dim=``/``keepdim=`` on NumPy-spelled methods."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minigrad as mg


# ------------------------------------------------------------------ format, round, scalars


def test_format_spec_formats_a_one_element_tensor():
    loss = mg.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{mg.tensor([[2.5]]):>6.1f}" == "   2.5"
    assert f"{mg.tensor(7):d}" == "7"
    assert f"{loss}" == str(loss) and format(mg.zeros(2, 3)) == str(mg.zeros(2, 3))


def test_format_spec_on_a_multi_element_tensor_is_a_type_error():
    with pytest.raises(TypeError, match=r"one-element.*\(2, 3\)"):
        f"{mg.zeros(2, 3):.4f}"


def test_round_gives_a_python_number():
    assert round(mg.tensor(2.675, dtype=mg.float64), 2) == round(2.675, 2)
    assert round(mg.tensor([1.256]), 2) == pytest.approx(1.26) and isinstance(round(mg.tensor(1.2), 1), float)
    r = round(mg.tensor(2.6))
    assert r == 3 and type(r) is int
    with pytest.raises(ValueError, match=r"round.*\(3,\)"):
        round(mg.zeros(3))


def test_float_int_bool_of_one_element_and_errors_naming_the_shape():
    assert float(mg.tensor([[1.5]])) == 1.5 and int(mg.tensor(3.9)) == 3
    assert bool(mg.tensor([1.0])) is True and bool(mg.tensor(0)) is False
    with pytest.raises(ValueError) as info:
        bool(mg.ones(2))
    assert "(2,)" in str(info.value) and "ambiguous" in str(info.value)
    with pytest.raises(ValueError, match=r"float.*\(2,\)"):
        float(mg.ones(2))
    with pytest.raises(ValueError, match=r"int.*\(0,\)"):
        int(mg.zeros(0))


@pytest.mark.torch
def test_format_and_round_match_torch_for_0d():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")
    for spec in [".4f", ".2e", "8.3g", "+.1f"]:
        assert format(mg.tensor(0.123456, dtype=mg.float64), spec) == format(torch.tensor(0.123456, dtype=torch.float64), spec)
    assert float(mg.tensor(0.25)) == float(torch.tensor(0.25)) and int(mg.tensor(7)) == int(torch.tensor(7))


# ------------------------------------------------------------------ size


def test_size_is_numpys_int_and_callable_like_torch():
    x = mg.zeros(2, 3, 4)
    assert x.size == 24 and isinstance(x.size, int) and x.size + 1 == 25 and repr(x.size) == "24"
    assert x.size() == (2, 3, 4)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(-3) == 2
    assert mg.tensor(1.0).size() == () and mg.tensor(1.0).size == 1


@pytest.mark.parametrize("dim", [3, -4])
def test_size_of_a_dim_out_of_range_names_dim_and_ndim(dim):
    with pytest.raises(IndexError, match=rf"dim {dim}.*3 dims"):
        mg.zeros(2, 3, 4).size(dim)


@pytest.mark.torch
def test_size_matches_torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")
    ours, theirs = mg.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert ours.size() == tuple(theirs.size()) and ours.numel() == theirs.numel()
    assert all(ours.size(d) == theirs.size(d) for d in range(-3, 3))


# ------------------------------------------------------------------ torch-named methods


def test_clone_is_a_differentiable_copy_with_its_own_array():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.data, x.data) and c.dtype == x.dtype and c.grad_fn is not None
    (c * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 2, 3])


def test_to_casts_dtypes_accepts_cpu_and_refuses_anything_else():
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    assert x.to("cpu") is x and x.to(mg.float32) is x  # as torch: nothing to do, self
    y = x.to(mg.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None
    assert x.to(np.int64).dtype == np.int64
    for bad in ["cuda", "cuda:0", None, "nonsense", object()]:
        with pytest.raises(TypeError, match="to: expected a dtype"):
            x.to(bad)


def test_int_is_int32_as_torch():
    assert mg.tensor([1.7, -2.2]).int().dtype == np.int32
    assert mg.tensor([1.7, -2.2]).int().data.tolist() == [1, -2]


def test_t_transposes_at_most_two_dims():
    assert mg.zeros(2, 3).t().shape == (3, 2) and mg.zeros(3).t().shape == (3,)
    with pytest.raises(ValueError, match=r"t: .*3 \(shape \(2, 3, 4\)\)"):
        mg.zeros(2, 3, 4).t()


def test_clamp_is_clip_with_gradient():
    x = mg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = x.clamp(min=-1.0, max=1.0)
    np.testing.assert_array_equal(y.data, [-1, 0.5, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 0])
    np.testing.assert_array_equal(x.clamp(max=0.0).data, [-2, 0, 0])
    np.testing.assert_array_equal(x.clamp(0.0).data, [0, 0.5, 3])


def test_any_all_give_bool_tensors_outside_the_graph():
    x = mg.tensor([[0.0, 1.0], [0.0, 0.0]], requires_grad=True)
    assert x.any().dtype == np.bool_ and bool(x.any()) and not bool(x.all())
    assert x.any(axis=1).data.tolist() == [True, False] and not x.any(axis=1).requires_grad
    assert (x >= 0).all(axis=0, keepdims=True).shape == (1, 2)


def test_isnan_isinf_isfinite():
    x = mg.tensor([np.nan, np.inf, -np.inf, 1.0])
    assert x.isnan().data.tolist() == [True, False, False, False]
    assert x.isinf().data.tolist() == [False, True, True, False]
    assert x.isfinite().data.tolist() == [False, False, False, True] and x.isfinite().dtype == np.bool_


def test_zero_and_fill_write_in_place_and_return_self():
    x = mg.ones(2, 3)
    array = x.data
    assert x.zero_() is x and x.data is array and not array.any()
    assert x.fill_(2.5) is x and (array == 2.5).all()
    assert x.fill_(mg.tensor(4.0)).data.tolist() == [[4, 4, 4], [4, 4, 4]]
    with pytest.raises(mg.ShapeError, match="fill_"):
        x.fill_(mg.ones(3))


def test_zero_and_fill_follow_setitem_rules_for_grad():
    w = mg.ones(3, requires_grad=True)
    with pytest.raises(mg.BackwardError, match="zero_"):
        w.zero_()
    with pytest.raises(mg.BackwardError, match="fill_"):
        (w * 2).fill_(1.0)
    with pytest.raises(mg.BackwardError, match="fill_"):
        mg.zeros(()).fill_(w.sum())
    with mg.no_grad():
        assert w.fill_(0.5) is w and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.data, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="read-only"):
        mg.zeros(1).expand(3).zero_()


def test_tolist_and_numel():
    assert mg.tensor([[1, 2]]).tolist() == [[1, 2]] and mg.zeros(2, 3).numel() == 6


def test_cat_and_clamp_module_aliases():
    assert mg.cat is mg.concat and mg.clamp is mg.clip
    assert mg.cat([mg.zeros(2), mg.ones(3)]).shape == (5,)


# ------------------------------------------------------------------ dim= / keepdim=


def _takes_an_axis() -> list[tuple[str, object]]:
    """Every public function of minigrad and minigrad.functional, and every Tensor method, that has
    an ``axis``/``axes``/``keepdims`` parameter: a new op with an axis is covered without a new line here."""
    found = []
    for prefix, owner in (("mg", mg), ("F", mg.functional), ("Tensor", mg.Tensor)):
        for name in sorted(dir(owner)):
            value = getattr(owner, name)
            if name.startswith("_") or not callable(value) or isinstance(value, type):
                continue
            try:
                parameters = inspect.signature(value).parameters
            except (TypeError, ValueError):
                continue
            if {"axis", "axes", "keepdims"} & set(parameters):
                found.append((f"{prefix}.{name}", value))
    return found


AXIS_FUNCTIONS = _takes_an_axis()


def test_the_axis_functions_are_found():
    names = {name for name, _ in AXIS_FUNCTIONS}
    assert {"mg.cat", "mg.softmax", "F.log_softmax", "Tensor.sum", "Tensor.chunk", "mg.take_along_axis"} <= names


@pytest.mark.parametrize("name,function", AXIS_FUNCTIONS, ids=[name for name, _ in AXIS_FUNCTIONS])
@pytest.mark.parametrize("kwargs", [{"dim": 1}, {"axis": 1, "keepdim": True}])
def test_torch_spelling_gives_a_clear_type_error(name, function, kwargs):
    x = mg.zeros(2, 3)
    first = [x, x] if name in ("mg.cat", "mg.concat", "mg.concatenate", "mg.stack") else x
    message = f"{function.__name__}: minigrad uses NumPy spelling: axis= (not dim=) and keepdims= (not keepdim=)"
    with pytest.raises(TypeError) as info:
        if name.startswith("Tensor."):
            getattr(x, function.__name__)(**kwargs)
        else:
            function(first, **kwargs)
    assert str(info.value) == message


def test_numpy_spelling_still_works_through_the_guard():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.sum(axis=1, keepdims=True).shape == (2, 1) and x.sum(1).shape == (2,)
    assert x.argmax(axis=-1).data.tolist() == [2, 2] and x.softmax(axis=0).shape == (2, 3)
    assert x.sum.__name__ == "sum"
