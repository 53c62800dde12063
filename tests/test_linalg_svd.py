"""linalg.svd, linalg.svdvals and the singular-value matrix norms: values against NumPy, the errors,
and gradients (first and second order) against PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import forward_ad as fwAD
from minigrad.errors import BackwardError, ShapeError

RNG = np.random.default_rng(0)
SHAPES = [(3, 3), (4, 2), (2, 5), (2, 3, 4), (1, 1), (2, 1, 3)]


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svdvals_and_svd_equal_numpy(shape):
    a = RNG.standard_normal(shape)
    np.testing.assert_allclose(mg.linalg.svdvals(mg.tensor(a)).data, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    for full in (True, False):
        u, s, vh = mg.linalg.svd(mg.tensor(a, requires_grad=True), full_matrices=full)
        want = np.linalg.svd(a, full_matrices=full)
        for got, expected in zip((u, s, vh), want):
            np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-14)
    u, s, vh = mg.linalg.svd(mg.tensor(a))
    assert u.shape == shape[:-1] + (shape[-2],) and vh.shape == shape[:-2] + (shape[-1], shape[-1])


def test_dtypes_follow_numpy():
    assert mg.linalg.svdvals(mg.tensor(np.ones((2, 3)), dtype=mg.float32)).dtype == np.float32
    assert mg.linalg.svdvals(np.array([[3, 0], [0, 4]])).tolist() == [4.0, 3.0]  # integers: float64
    assert mg.linalg.svd(mg.tensor(np.eye(2), dtype=mg.float32, requires_grad=True))[0].dtype == np.float32


def test_svdvals_without_a_gradient_records_nothing():
    x = mg.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    with mg.no_grad():
        s = mg.linalg.svdvals(x)
    assert not s.requires_grad and s.grad_fn is None
    assert mg.linalg.svdvals(x).requires_grad


@pytest.mark.parametrize("op", [mg.linalg.svd, mg.linalg.svdvals], ids=["svd", "svdvals"])
def test_a_vector_is_refused_naming_the_op_and_shape(op):
    message = rf"{op.__name__}: needs a \(\.\.\., M, N\) stack of matrices, got shape \(3,\)"
    with pytest.raises(ShapeError, match=message):
        op(mg.tensor([1.0, 2.0, 3.0]))


def test_full_matrices_of_a_non_square_matrix_has_gradients_for_s_only():
    a = RNG.standard_normal((4, 2))
    x = mg.tensor(a, requires_grad=True)
    u, s, vh = mg.linalg.svd(x, full_matrices=True)
    (s.sum() + (u[:, :2] * 0).sum()).backward()  # a gradient on U's first K columns is fine
    np.testing.assert_allclose(x.grad, np.linalg.svd(a, full_matrices=False)[0] @ np.linalg.svd(a)[2], rtol=1e-12)
    u, s, vh = mg.linalg.svd(mg.tensor(a, requires_grad=True), full_matrices=True)
    with pytest.raises(BackwardError, match=r"svd: no gradient through the extra singular vectors of "
                                            r"full_matrices=True for a 4 x 2 matrix .*use full_matrices=False"):
        u.sum().backward()
    with fwAD.dual_level(), pytest.raises(BackwardError, match="svd: no tangent for the extra singular vectors"):
        mg.linalg.svd(fwAD.make_dual(mg.tensor(a), np.ones((4, 2))), full_matrices=True)


def _sign_fixed(u, vh, module):
    """U and Vh with each pair's sign chosen by U's column sums, so two libraries' results compare."""
    signs = module.tensor(np.sign(np.asarray(u.detach()).sum(axis=-2, keepdims=True)))  # (..., 1, K)
    return u * signs, vh * signs.swapaxes(-1, -2)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)], ids=str)
def test_svd_gradients_match_torch(shape):
    torch = _torch()
    a = RNG.standard_normal(shape)
    x, xt = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    u, s, vh = mg.linalg.svd(x, full_matrices=False)
    ut, st, vht = torch.linalg.svd(xt, full_matrices=False)
    (u, vh), (ut, vht) = _sign_fixed(u, vh, mg), _sign_fixed(ut, vht, torch)
    weights = [RNG.standard_normal(o.shape) for o in (u, s, vh)]
    sum(((o * mg.tensor(w)).sum() for o, w in zip((u, s, vh), weights)), mg.tensor(0.0)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip((ut, st, vht), weights)).backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def _hvp(f, a, u, module):
    """The gradient of <grad f(a), u>: reverse over reverse."""
    if module is mg:
        x = mg.tensor(a, requires_grad=True)
        (g,) = mg.autograd.grad(f(x), [x], create_graph=True)
        return mg.autograd.grad((g * mg.tensor(u)).sum(), [x])[0].data
    x = module.tensor(a, requires_grad=True)
    (g,) = module.autograd.grad(f(x), [x], create_graph=True)
    return module.autograd.grad((g * module.tensor(u)).sum(), [x])[0].numpy()


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 3)], ids=str)
def test_second_derivatives_match_torch(shape):
    torch = _torch()
    a, u, w = RNG.standard_normal(shape), RNG.standard_normal(shape), RNG.standard_normal(min(shape))
    cases = [  # functions that do not depend on the singular vectors' signs
        (lambda x: (mg.linalg.svdvals(x) * mg.tensor(w)).sum(),
         lambda x: (torch.linalg.svdvals(x) * torch.tensor(w)).sum()),
        (lambda x: (mg.matmul(*mg.linalg.svd(x, full_matrices=False)[::2]) * mg.tensor(a)).sum(),
         lambda x: (torch.matmul(*torch.linalg.svd(x, full_matrices=False)[::2]) * torch.tensor(a)).sum()),
        (lambda x: mg.linalg.norm(x, "nuc"), lambda x: torch.linalg.matrix_norm(x, "nuc")),
        (lambda x: mg.linalg.norm(x, 2), lambda x: torch.linalg.matrix_norm(x, 2)),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(_hvp(ours, a, u, mg), _hvp(theirs, a, u, torch), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), ((1, 2), False), ((2, 0), True),
                                           ((0, -1), False)])
def test_singular_value_norms_equal_numpy(ord_, axis, keepdims):
    a = RNG.standard_normal((3, 4, 2)) if axis is not None else RNG.standard_normal((3, 4))
    got = mg.linalg.norm(mg.tensor(a), ord_, axis, keepdims)
    want = np.linalg.norm(a, ord_, axis, keepdims)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    assert np.allclose(np.linalg.norm(mg.tensor(a), ord_, axis, keepdims).data, want)  # NumPy's function on a Tensor


def test_the_spectral_norm_of_a_matrix_with_repeated_singular_values_has_torchs_gradient():
    torch = _torch()
    a = np.diag([2.0, 2.0, 1.0])  # the largest singular value repeats: torch gives U diag(g) Vh of its SVD
    for ord_ in (2, "nuc"):
        x, xt = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        mg.linalg.norm(x, ord_).backward()
        torch.linalg.matrix_norm(xt, ord_).backward()
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_unsupported_matrix_ords_name_the_supported_ones():
    with pytest.raises(ValueError, match=r"norm: matrix ord=3 is not supported; use one of None, 'fro', 'nuc', 1, "
                                         r"-1, 2, -2, inf, -inf"):
        mg.linalg.norm(mg.tensor(np.ones((2, 2))), 3)
