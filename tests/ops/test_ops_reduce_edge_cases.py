"""var/std/logsumexp at the edges, against what NumPy and PyTorch give (values written out here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg


def f64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("op", [mg.var, mg.std])
def test_ddof_beyond_the_count_is_clamped_and_gives_inf(op):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no RuntimeWarning
        assert op(f64([1.0, 2.0, 3.0]), ddof=5).item() == np.inf  # np.var(..., ddof=5) is inf


@pytest.mark.parametrize("op", [mg.var, mg.std])
@pytest.mark.parametrize("ddof", [0, 1])
def test_an_empty_axis_has_a_nan_variance_and_an_empty_gradient(op, ddof):
    x = f64(np.zeros((2, 0)))
    out = op(x, axis=1, ddof=ddof)
    assert out.shape == (2,) and np.isnan(out.data).all()  # nan for ddof 0 and 1, as NumPy
    op(x, ddof=ddof).backward()
    assert x.grad.shape == (2, 0)


def test_var_gradient_with_ddof_equal_to_the_count_is_nan_as_in_pytorch():
    y = f64([2.0])
    mg.var(y, ddof=1).backward()  # count - ddof = 0: a nan gradient, not a ZeroDivisionError
    assert np.isnan(y.grad).all()


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_std_gradient_is_zero_where_all_values_are_equal(dtype):
    x = mg.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], dtype=dtype, requires_grad=True)
    mg.std(x, axis=1).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])  # 0 where std is 0, not 0 / 0 = NaN
    centered = np.array([1.0, 2.0, 4.0]) - 7 / 3
    np.testing.assert_allclose(x.grad[1], centered / (3 * np.std([1.0, 2.0, 4.0])), rtol=1e-6)


def test_logsumexp_takes_axis_0_of_a_0d_tensor_as_softmax_does():
    x = f64(1.5)
    out = mg.logsumexp(x, axis=0)
    assert out.shape == () and out.item() == 1.5
    out.backward()
    assert x.grad == 1.0


def test_reshape_without_a_shape_is_an_error_as_in_numpy():
    with pytest.raises(TypeError, match="reshape: the new shape is missing"):
        mg.zeros(()).reshape()
    assert mg.zeros((1, 1)).reshape(()).shape == ()
