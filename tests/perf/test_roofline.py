"""benchmarks/roofline.py counts the matrix-product FLOPs of a training step from the model's
config. The count must be what the step really runs: the products through
``minigrad.kernels.matmul`` are counted by wrapping it during a real step, and every product
(the fused recurrences' plain ``@`` included) by an ``LD_PRELOAD`` shim that counts the GEMMs
NumPy asks OpenBLAS for. No timing is asserted."""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import _common  # noqa: E402
import roofline  # noqa: E402

# (model, hyper-parameters, batch, length): the benchmark's default sizes and variants of each count's branches
CASES = [
    ("rnn-attn", {}, 8, 10),
    ("rnn-attn", {"cell": "lstm", "embed_dim": 24, "hidden_dim": 40}, 6, 7),
    ("rnn", {}, 8, 10),
    ("rnn", {"cell": "lstm", "num_layers": 2}, 5, 6),
    ("transformer", {}, 8, 10),
    ("transformer", {"tie_embeddings": True, "num_layers": 1, "d_model": 32, "num_heads": 2}, 4, 9),
    ("lm", {}, 8, 64),
    ("lm", {"tie_embeddings": False, "num_layers": 3, "block_size": 40}, 4, 33),
]
IDS = [f"{m}-{h}-B{b}-L{n}" for m, h, b, n in CASES]


def _runner(model: str, hyper: dict, batch: int, length: int) -> _common.MinigradStep:
    data = _common.text_batch(batch, length) if model == "lm" else _common.copy_batch(batch, length)
    if model == "lm":
        hyper = {"block_size": length, **hyper}
    return _common.MinigradStep(model, hyper, data)


def _products(model: str, hyper: dict, batch: int, length: int) -> list[roofline.Product]:
    if model == "lm":
        hyper = {"block_size": length, **hyper}
    return roofline.products(model, hyper, batch, length, _common.vocab_for(model))


@pytest.mark.parametrize("model, hyper, batch, length", CASES, ids=IDS)
def test_kernel_products_equal_the_counted_ones(model, hyper, batch, length):
    runner = _runner(model, hyper, batch, length)
    runner.step()  # the first step loads the Numba kernels
    counted = roofline.count_kernel_flops(runner.step)
    assert counted == roofline.step_flops(_products(model, hyper, batch, length), "kernel")


def test_every_benchmark_row_has_a_count():
    for model in ("rnn-attn", "transformer", "lm"):
        for size in _common.SIZES:
            items = roofline.for_size(model, size)
            assert roofline.step_flops(items) > 0 and all(p.flops > 0 for p in items)
    # the lm's default row: 2 blocks of 64 x 64 x 64-wide products, 6 FLOPs per weight per token (forward
    # and backward), plus the T x T attention; the tied output layer reads 163 classes
    d, ff, T, B, V = 64, 256, 64, 64, _common.LM_VOCAB
    weights = 2 * (4 * d * d + 2 * d * ff) + d * V
    attention = 2 * 6 * 2 * B * T * T * d  # layers x (2 forward + 4 backward products) x 2 B T T d
    assert roofline.step_flops(roofline.for_size("lm", "default")) == 6 * B * T * weights + attention


def test_uncounted_models_and_options_are_refused():
    with pytest.raises(ValueError, match="rnn-luong"):
        roofline.products("rnn-luong", {}, 4, 5, 14)
    with pytest.raises(ValueError, match="bidirectional=True"):
        roofline.products("rnn-attn", {"bidirectional": True}, 4, 5, 14)
    with pytest.raises(ValueError, match="block_size"):
        roofline.products("lm", {"block_size": 8}, 4, 9, 50)


def test_blas_rate_is_flops_over_the_timed_seconds():
    items = [roofline.Product("a", 1, 32, 16, 8, calls=3), roofline.Product("b", 4, 8, 8, 8)]
    rate = roofline.blas_rate(items, min_time=0.001, repeats=1)
    assert rate["seconds"] > 0
    np.testing.assert_allclose(rate["gflops"], roofline.step_flops(items) / rate["seconds"] / 1e9)


_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef int64_t blasint;  /* scipy-openblas64: 64-bit integers */
static double flops = 0.0;
/* NumPy's OpenBLAS is loaded RTLD_LOCAL (under the extension module), out of RTLD_NEXT's reach:
   find the real functions in the library named by GEMM_COUNTER_BLAS, loaded by then */
static void *real_function(const char *name) {
    void *lib = dlopen(getenv("GEMM_COUNTER_BLAS"), RTLD_LAZY | RTLD_NOLOAD);
    void *f = lib ? dlsym(lib, name) : NULL;
    if (!f) { fprintf(stderr, "gemm_counter: %s not found in GEMM_COUNTER_BLAS\n", name); abort(); }
    return f;
}
double gemm_counter_flops(void) { return flops; }
void gemm_counter_reset(void) { flops = 0.0; }
typedef void (*sgemm_t)(int, int, int, blasint, blasint, blasint, float, const float *, blasint, const float *,
                        blasint, float, float *, blasint);
void scipy_cblas_sgemm64_(int order, int ta, int tb, blasint M, blasint N, blasint K, float alpha, const float *A,
                          blasint lda, const float *B, blasint ldb, float beta, float *C, blasint ldc) {
    static sgemm_t real = 0;
    if (!real) real = (sgemm_t)real_function("scipy_cblas_sgemm64_");
    flops += 2.0 * (double)M * (double)N * (double)K;
    real(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
typedef void (*ssyrk_t)(int, int, int, blasint, blasint, float, const float *, blasint, float, float *, blasint);
void scipy_cblas_ssyrk64_(int order, int uplo, int trans, blasint N, blasint K, float alpha, const float *A,
                          blasint lda, float beta, float *C, blasint ldc) {
    static ssyrk_t real = 0;
    if (!real) real = (ssyrk_t)real_function("scipy_cblas_ssyrk64_");
    flops += 2.0 * (double)N * (double)N * (double)K;  /* counted as the full product a @ a.T */
    real(order, uplo, trans, N, K, alpha, A, lda, beta, C, ldc);
}
typedef void (*sgemv_t)(int, int, blasint, blasint, float, const float *, blasint, const float *, blasint, float,
                        float *, blasint);
void scipy_cblas_sgemv64_(int order, int trans, blasint M, blasint N, float alpha, const float *A, blasint lda,
                          const float *X, blasint incx, float beta, float *Y, blasint incy) {
    static sgemv_t real = 0;
    if (!real) real = (sgemv_t)real_function("scipy_cblas_sgemv64_");
    flops += 2.0 * (double)M * (double)N;
    real(order, trans, M, N, alpha, A, lda, X, incx, beta, Y, incy);
}
"""

_CHILD = r"""
import ctypes, json, sys
sys.path.insert(0, sys.argv[1])
import _common
lib = ctypes.CDLL(sys.argv[2])
lib.gemm_counter_flops.restype = ctypes.c_double
cases = json.loads(sys.argv[3])
out = []
for model, hyper, batch, length in cases:
    data = _common.text_batch(batch, length) if model == "lm" else _common.copy_batch(batch, length)
    runner = _common.MinigradStep(model, {"block_size": length, **hyper} if model == "lm" else hyper, data)
    runner.step()
    lib.gemm_counter_reset()
    runner.step()
    out.append(lib.gemm_counter_flops())
print("RESULT " + json.dumps(out))
"""


def _numpy_blas_library() -> str | None:
    """The scipy-openblas64 library NumPy's wheels load, or None (another BLAS)."""
    import glob

    root = Path(np.__file__).resolve().parent.parent
    found = glob.glob(str(root / "numpy.libs" / "libscipy_openblas64_*.so"))
    return found[0] if found else None


def test_all_products_equal_the_gemms_blas_runs(tmp_path):
    """The whole count (kernel and plain ``@`` products) against every sgemm/ssyrk/sgemv call
    NumPy makes during one step, counted by a shim preloaded in front of OpenBLAS."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or _numpy_blas_library() is None or ctypes.util.find_library("dl") is None:
        pytest.skip("needs a C compiler and NumPy's scipy-openblas64 wheel library")
    shim = tmp_path / "gemm_counter.so"
    source = tmp_path / "gemm_counter.c"
    source.write_text(textwrap.dedent(_SHIM))
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(shim), str(source), "-ldl"], check=True)
    env = {**os.environ, "LD_PRELOAD": str(shim), "GEMM_COUNTER_BLAS": _numpy_blas_library(),
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(BENCH), str(shim), json.dumps(CASES)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr
    counted = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    expected = [roofline.step_flops(_products(*case)) for case in CASES]
    assert counted == expected, list(zip(IDS, counted, expected))
