"""The kernel table: every Numba implementation equals its NumPy reference, float32 and float64,
on the example inputs of ``kernel_cases.py``; every kernel has examples; each public kernel
runs the implementation of the backend selected."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import minigrad.kernels as K
from kernel_cases import EXAMPLES, Case
from testutils import DTYPES, TOLERANCE
from minigrad.kernels import KERNELS


def _cases(name: str, dtype) -> list[Case]:
    """The examples of kernel ``name``, the same arrays every time (seeded by name and dtype)."""
    seed = zlib.crc32(f"{name}/{np.dtype(dtype).name}".encode())
    return EXAMPLES[name](np.random.default_rng(seed), np.dtype(dtype))


def _assert_equal(fast, slow, case: Case, scale, where: str) -> None:
    """``fast`` equals ``slow`` element by element: same types, shapes and dtypes, float
    arrays within the tolerance of their dtype (times ``scale``), everything else exactly.
    A NumPy scalar counts as a 0-d array (NumPy's references return one for 0-d input)."""
    fast, slow = (np.asarray(a) if isinstance(a, np.generic) else a for a in (fast, slow))
    if isinstance(slow, (tuple, list)):
        assert isinstance(fast, (tuple, list)) and len(fast) == len(slow), f"{where}: {type(fast)} vs {type(slow)}"
        scales = scale if isinstance(scale, tuple) else (scale,) * len(slow)
        for i, (f, s, sc) in enumerate(zip(fast, slow, scales)):
            _assert_equal(f, s, case, sc, f"{where}[{i}]")
        return
    if not isinstance(slow, np.ndarray):
        assert fast == slow, f"{where}: {fast!r} != {slow!r}"
        return
    assert isinstance(fast, np.ndarray), f"{where}: {type(fast).__name__}, expected an ndarray"
    assert (fast.dtype, fast.shape) == (slow.dtype, slow.shape), \
        f"{where}: {fast.dtype} {fast.shape} vs {slow.dtype} {slow.shape}"
    if slow.dtype.kind != "f":
        np.testing.assert_array_equal(fast, slow, err_msg=where)
        return
    tol = TOLERANCE[slow.dtype]
    atol = (tol["atol"] if case.atol is None else case.atol) * scale
    rtol = tol["rtol"] if case.rtol is None else case.rtol
    np.testing.assert_allclose(fast, slow, rtol=rtol, atol=atol, err_msg=where)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_numba_implementation_equals_reference(name, dtype):
    kernel = KERNELS[name]
    numba_implementation = kernel.numba_implementation()
    for i, (fast, slow) in enumerate(zip(_cases(name, dtype), _cases(name, dtype))):
        fast_result = numba_implementation(*fast.args, **fast.kwargs)
        slow_result = kernel.reference(*slow.args, **slow.kwargs)
        where = f"{name} case {i}"
        _assert_equal(fast_result, slow_result, slow, slow.scale, f"{where} result")
        _assert_equal(fast.args, slow.args, slow, 1.0, f"{where} arguments after the call")  # in-place updates


def test_every_kernel_has_examples():
    missing = sorted(set(KERNELS) - set(EXAMPLES))
    assert not missing, f"kernels without example inputs in tests/kernels/kernel_cases.py: {missing}"
    unknown = sorted(set(EXAMPLES) - set(KERNELS))
    assert not unknown, f"examples for kernels that are not registered: {unknown}"
    for name in EXAMPLES:
        assert len(_cases(name, np.float32)) >= 3, f"{name}: give several shapes, edge sizes included"


def test_every_public_kernel_is_in_the_table():
    public = [n for n in K.__all__ if not n.endswith("_ref") and n not in ("KERNELS", "backend", "set_backend",
                                                                           "use_backend")]
    assert sorted(public) == sorted(KERNELS)
    for name, kernel in KERNELS.items():
        assert getattr(K, f"{name}_ref") is kernel.reference, name
        assert getattr(K, name).__doc__, name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_public_kernel_runs_the_selected_implementation(name):
    """On each backend, the public function gives exactly what that backend's implementation gives."""
    kernel = KERNELS[name]
    public = getattr(K, name)
    for backend, implementation in (("numpy", kernel.reference), ("numba", kernel.numba_implementation())):
        first, second = _cases(name, np.float64)[1], _cases(name, np.float64)[1]
        with K.use_backend(backend):
            got = public(*first.args, **first.kwargs)
        want = implementation(*second.args, **second.kwargs)
        exact = Case(first.args, atol=0.0, rtol=0.0)
        _assert_equal((got, first.args), (want, second.args), exact, 1.0, f"{name} on {backend}")
