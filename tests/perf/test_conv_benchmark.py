"""benchmarks/conv.py runs, and its candidate kernel (the Numba direct convolution) computes the
same convolution as minigrad's conv2d. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import conv  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import functional as F  # noqa: E402


def test_direct_convolution_equals_conv2d():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    out = np.empty((2, 4, 5, 5), np.float32)
    conv.direct_conv2d(x, w, out)
    with mg.no_grad():
        np.testing.assert_allclose(out, F.conv2d(mg.tensor(x), mg.tensor(w)).data, rtol=1e-5, atol=1e-5)


def test_every_row_runs_without_pytorch():
    for fns in (conv.conv_row(None, 2, 3, 4, 8, 3, 2), conv.conv_row(None, 2, 3, 4, 9, 3, 1),
                conv.pool_row(None, "max", 2, 3, 8, 2), conv.pool_row(None, "avg", 2, 3, 8, 2)):
        assert "minigrad" in fns and "torch" not in fns
        for fn in fns.values():
            fn()
