"""The README's Conventions section states what the code does: each claim below is a phrase of
that section and a check of it on minigrad (and, when PyTorch is installed, of what it says
PyTorch does)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTION = " ".join(README.split("## Conventions", 1)[1].split("\n## ", 1)[0].split())  # lines joined

try:
    import torch
except ImportError:  # PyTorch is an optional oracle: its half of each claim is then skipped
    torch = None


def _torch():
    if torch is None:
        pytest.skip("PyTorch is an optional test oracle: pip install torch==2.13.0")
    return torch


def check_sort():
    assert isinstance(mg.sort(mg.tensor([3.0, 1.0, 2.0])), mg.Tensor)
    assert isinstance(_torch().sort(torch.tensor([3.0, 1.0, 2.0])), tuple)


def check_repeat():
    a = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(mg.repeat(mg.tensor(a), 2, axis=1).data, np.repeat(a, 2, axis=1))
    np.testing.assert_array_equal(mg.repeat(mg.tensor(a), 2).data, np.repeat(a, 2))  # flattened
    np.testing.assert_array_equal(mg.tensor(a).repeat(2, 3).data, np.repeat(a, 2, axis=3))
    t = _torch().tensor(a)
    np.testing.assert_array_equal(torch.repeat_interleave(t, 2, dim=1).numpy(), np.repeat(a, 2, axis=1))
    np.testing.assert_array_equal(t.repeat(2, 3, 1, 1).numpy(), mg.tile(mg.tensor(a), (2, 3, 1, 1)).data)


def check_meshgrid():
    grids = mg.meshgrid(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([4.0, 5.0]))
    assert [g.shape for g in grids] == [(2, 3), (2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch asks for an explicit indexing=
        theirs = _torch().meshgrid(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0]))
    assert [tuple(g.shape) for g in theirs] == [(3, 2), (3, 2)]


def check_nonzero():
    b = np.array([[0, 1, 1], [2, 0, 0]])
    ours = mg.nonzero(mg.tensor(b))
    assert isinstance(ours, tuple) and all(i.dtype == mg.int64 for i in ours)
    np.testing.assert_array_equal(np.stack([i.data for i in ours]), np.stack(np.nonzero(b)))
    assert tuple(_torch().nonzero(torch.tensor(b)).shape) == (3, 2)
    np.testing.assert_array_equal(np.stack([i.numpy() for i in torch.nonzero(torch.tensor(b), as_tuple=True)]),
                                  np.stack([i.data for i in ours]))


def check_put_along_axis():
    arr = mg.zeros((2, 3))
    out = mg.put_along_axis(arr, np.array([[1], [2]]), mg.tensor([[5.0], [6.0]]), 1)
    np.testing.assert_array_equal(out.data, [[0, 5, 0], [0, 0, 6]])
    np.testing.assert_array_equal(arr.data, np.zeros((2, 3)))
    assert np.put_along_axis(np.zeros((2, 3)), np.array([[1], [2]]), 5.0, 1) is None


def check_pooling():
    x = mg.zeros((1, 1, 2, 2), dtype=mg.float64, requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 2, 2), 0.25))
    assert indices.dtype == mg.int64 and indices.data.item() == 0
    assert F.max_pool1d(mg.zeros((1, 1, 5)), 2).shape == (1, 1, 2)  # ceil_mode=False drops the partial window
    xt = _torch().zeros((1, 1, 2, 2), dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), [[[[1.0, 0.0], [0.0, 0.0]]]])


CLAIMS = [
    ("PyTorch's `sort` returns `(values, indices)`", check_sort),
    ("`repeat(x, repeats, axis=None)` is NumPy's (PyTorch's `repeat_interleave`", check_repeat),
    ('`meshgrid` defaults to `indexing="xy"`', check_meshgrid),
    ("`nonzero(x)` returns a tuple of int64 index tensors", check_nonzero),
    ("`put_along_axis(arr, indices, values, axis)` takes NumPy's arguments but returns a new tensor",
     check_put_along_axis),
    ("Tied maxima share a max-pool window's gradient evenly", check_pooling),
]


@pytest.mark.parametrize("phrase,check", CLAIMS, ids=[c[1].__name__[6:] for c in CLAIMS])
def test_conventions_claim_holds(phrase, check):
    assert phrase in SECTION, f"the README's Conventions section no longer says: {phrase}"
    check()
