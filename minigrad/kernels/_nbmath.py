"""Scalar and row building blocks of the Numba kernels: every Numba intrinsic lives here.

Imported only by the ``_*_nb`` modules. Why these exist instead of ``math.exp``/``math.tanh``
and the builtin ``max``: without Intel SVML (not a dependency of minigrad) LLVM cannot
vectorize a loop that calls libm, and a ``max`` written as a compare-and-select does not
vectorize without the ``nnan`` fast-math flag, which would break the NaN/inf semantics the
kernels promise. (Measurements: benchmarks/RESULTS.md, "Kernel design".)

- ``exp(x)``: float32/float64 exp within 1 ulp, exact 0/inf/NaN semantics (exp(-inf) = 0,
  exp(inf) = inf, exp(nan) = nan), subnormal results included; branch-free, so loops
  calling it vectorize. ``exp_nonpositive(x)``: the same for x <= 0 with subnormal results
  flushed to 0, a few instructions shorter (the softmax rows' exponentials).
- ``tanh(x)``: float32 a rational approximation within 5 ulp; float64
  sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) (absolute error a few 1e-16).
- ``sigmoid(x) = 1 / (1 + exp(-x))``, the one sigmoid of the kernels (GRU/LSTM gates,
  GELU's tanh form): never overflows (exp(-x) = inf gives 0) and has no cancellation.
- ``erf(x)``: float32 a rational approximation within 4.5e-7 absolute; float64 libm's erf.
- ``maxnum(a, b)``: LLVM's ``maxnum`` (the larger of a and b, ignoring a NaN operand),
  whose reductions LLVM vectorizes without fast-math flags.
- ``row_maxes``/``row_sums``/``row_dots``: per-row reductions of a 2-D array. The sums
  are compiled with ``REDUCE_FASTMATH`` (reassociation, no ``nnan``/``ninf``), so they
  vectorize while NaN and inf propagate exactly as in NumPy.

All propagate NaN and saturate at +-inf as NumPy does. Constants are typed (an integer
literal would widen float32 arithmetic to float64).

Numba's on-disk cache (``cache=True``) is invalidated per source file: after editing this
module, delete ``minigrad/kernels/__pycache__/*.nbi`` and ``*.nbc`` (or set
``NUMBA_CACHE_DIR`` to a fresh directory), or kernels in other files keep the old code.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

# Flags for reductions: reassociation (vectorized partial sums) and FMA contraction only.
REDUCE_FASTMATH = {"reassoc", "nsz", "contract"}
# Flags for loops calling ``exp``: fused multiply-add only (fewer instructions, no change
# to inf/NaN handling; the polynomial stays within 1 ulp).
EXP_FASTMATH = {"contract"}


def _from_bits(int_type, float_type):
    """An intrinsic reinterpreting the bits of an ``int_type`` integer as a ``float_type``
    (an LLVM bitcast, free)."""

    @intrinsic
    def from_bits(typingctx, bits):
        if not isinstance(bits, types.Integer):
            return None
        sig = float_type(int_type)

        def codegen(context, builder, signature, args):
            value = context.cast(builder, args[0], bits, int_type)
            return builder.bitcast(value, context.get_value_type(float_type))

        return sig, codegen

    return from_bits


_f64_from_bits = _from_bits(types.int64, types.float64)
_f32_from_bits = _from_bits(types.int32, types.float32)


@intrinsic
def maxnum(typingctx, a, b):
    """max(a, b) of two floats of one type; a NaN operand is ignored (LLVM ``maxnum``)."""
    if not (isinstance(a, types.Float) and a == b):
        return None
    sig = a(a, b)

    def codegen(context, builder, signature, args):
        fty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.maxnum", [fty], ir.FunctionType(fty, [fty, fty]))
        return builder.call(fn, args)

    return sig, codegen


# --- exp, float64: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, Taylor degree 13 ----
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's ln2 split: n * _LN2_HI is exact, |n| < 2048
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: (v + _ROUND) - _ROUND rounds v to an integer
_CLAMP = 1400.0  # exp(-1400) underflows to 0 and exp(1400) overflows; keeps |n| < 2048


@numba.njit(inline="always")
def _exp64_parts(xc):
    """exp(xc) = p * 2**k with |xc| <= _CLAMP: the reduced polynomial p and the integer k."""
    n = (xc * _LOG2E + _ROUND) - _ROUND
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p, np.int64(n)


def _exp64(x):
    xc = x if x > -_CLAMP else -_CLAMP
    xc = xc if xc < _CLAMP else _CLAMP
    p, k = _exp64_parts(xc)
    # 2**k as two factors 2**h * 2**(k-h), each a normal float64, so that subnormal
    # results and overflow to inf come out right.
    h = k >> 1
    y = p * _f64_from_bits((h + 1023) << 52) * _f64_from_bits((k - h + 1023) << 52)
    return y if x == x else x


_NORMAL_MIN_LOG = -708.3964185322641  # log of the smallest normal float64


def _exp_nonpositive64(x):
    xc = x if x > _NORMAL_MIN_LOG else _NORMAL_MIN_LOG
    p, k = _exp64_parts(xc)
    y = p * _f64_from_bits((k + 1023) << 52)  # one factor: 2**k is normal for these k
    y = y if x >= _NORMAL_MIN_LOG else 0.0
    return y if x == x else x


# --- exp, float32: Cephes expf (range reduction + degree-7 minimax), all in float32 -----
_F32 = np.float32
_LOG2E_F = _F32(1.44269504088896341)
_LN2_HI_F = _F32(0.693359375)  # 355/512: n * _LN2_HI_F is exact for |n| < 2**15
_LN2_LO_F = _F32(-2.12194440e-4)
_ROUND_F = _F32(12582912.0)  # 1.5 * 2**23
_CLAMP_F = _F32(170.0)  # exp(+-170) over/underflows float32; keeps |n/2| <= 123
_NEG_CLAMP_F = _F32(-170.0)
_P0 = _F32(1.9875691500e-4)
_P1 = _F32(1.3981999507e-3)
_P2 = _F32(8.3334519073e-3)
_P3 = _F32(4.1665795894e-2)
_P4 = _F32(1.6666665459e-1)
_P5 = _F32(5.0000001201e-1)
_ONE_F = _F32(1.0)
_I32_1 = np.int32(1)
_I32_23 = np.int32(23)
_I32_127 = np.int32(127)


@numba.njit(inline="always")
def _exp32_parts(xc):
    """exp(xc) = p * 2**k with |xc| <= _CLAMP_F: the reduced polynomial p and the integer k."""
    n = (xc * _LOG2E_F + _ROUND_F) - _ROUND_F
    r = (xc - n * _LN2_HI_F) - n * _LN2_LO_F
    p = _P0
    p = p * r + _P1
    p = p * r + _P2
    p = p * r + _P3
    p = p * r + _P4
    p = p * r + _P5
    p = p * r * r + r + _ONE_F
    return p, np.int32(n)


def _exp32(x):
    xc = x if x > _NEG_CLAMP_F else _NEG_CLAMP_F
    xc = xc if xc < _CLAMP_F else _CLAMP_F
    p, k = _exp32_parts(xc)
    h = k >> _I32_1
    y = p * _f32_from_bits((h + _I32_127) << _I32_23) * _f32_from_bits((k - h + _I32_127) << _I32_23)
    return y if x == x else x


_NORMAL_MIN_LOG_F = _F32(-87.33654)  # log of the smallest normal float32 (rounded up)
_ZERO_F = _F32(0.0)


def _exp_nonpositive32(x):
    xc = x if x > _NORMAL_MIN_LOG_F else _NORMAL_MIN_LOG_F
    p, k = _exp32_parts(xc)
    y = p * _f32_from_bits((k + _I32_127) << _I32_23)  # one factor: 2**k is normal for these k
    y = y if x >= _NORMAL_MIN_LOG_F else _ZERO_F
    return y if x == x else x


def exp(x):
    """Vectorizable exp of a float32 or float64 scalar (compiled only inside Numba code)."""
    raise NotImplementedError("minigrad.kernels._nbmath.exp is only callable from Numba code")


@overload(exp)
def _exp_overload(x):
    if isinstance(x, types.Float):
        return _exp32 if x.bitwidth == 32 else _exp64
    return None


def exp_nonpositive(x):
    """exp of x <= 0 (the shifted logits of a softmax), faster than ``exp``: a result below the
    smallest normal float (x < -87.3 in float32, < -708.4 in float64) is 0 instead of
    subnormal, as with flush-to-zero (1 ulp otherwise; exp(-inf) = 0, NaN stays NaN). For
    x > 0 the result is unspecified."""
    raise NotImplementedError("minigrad.kernels._nbmath.exp_nonpositive is only callable from Numba code")


@overload(exp_nonpositive)
def _exp_nonpositive_overload(x):
    if isinstance(x, types.Float):
        return _exp_nonpositive32 if x.bitwidth == 32 else _exp_nonpositive64
    return None


# --- tanh, float32: Eigen's x P(x^2) / Q(x^2) (degree 13 over 6) on |x| <= 7.9; x itself
# below 4e-4 and +-1 beyond 9.01, where float32 tanh rounds to those ---------------------
_T_CLAMP = _F32(7.90531110763549805)
_T_ONE_AT = _F32(9.01)
_T_TINY = _F32(0.0004)
_T_A13, _T_A11, _T_A9 = _F32(-2.76076847742355e-16), _F32(2.00018790482477e-13), _F32(-8.60467152213735e-11)
_T_A7, _T_A5, _T_A3, _T_A1 = _F32(5.12229709037114e-08), _F32(1.48572235717979e-05), \
    _F32(6.37261928875436e-04), _F32(4.89352455891786e-03)
_T_B6, _T_B4, _T_B2, _T_B0 = _F32(1.19825839466702e-06), _F32(1.18534705686654e-04), \
    _F32(2.26843463243900e-03), _F32(4.89352518554385e-03)


def _tanh32(x):
    ax = abs(x)
    xc = x if x < _T_CLAMP else _T_CLAMP
    xc = xc if xc > -_T_CLAMP else -_T_CLAMP
    x2 = xc * xc
    p = x2 * _T_A13 + _T_A11
    p = x2 * p + _T_A9
    p = x2 * p + _T_A7
    p = x2 * p + _T_A5
    p = x2 * p + _T_A3
    p = x2 * p + _T_A1
    q = x2 * _T_B6 + _T_B4
    q = x2 * q + _T_B2
    q = x2 * q + _T_B0
    y = xc * p / q
    y = y if ax <= _T_ONE_AT else (_ONE_F if x > 0 else -_ONE_F)
    return x if (ax < _T_TINY or x != x) else y


# --- tanh, float64: through the vectorized exp (relative error grows near 0 for lack of an
# expm1; the absolute error stays a few 1e-16) ------------------------------------------
def _tanh64(x):
    e = exp(-(x + x) if x >= 0 else x + x)
    t = (1.0 - e) / (1.0 + e)
    return t if x >= 0 else -t


def tanh(x):
    """Vectorizable tanh of a float32 or float64 scalar (compiled only inside Numba code)."""
    raise NotImplementedError("minigrad.kernels._nbmath.tanh is only callable from Numba code")


@overload(tanh)
def _tanh_overload(x):
    if isinstance(x, types.Float):
        return _tanh32 if x.bitwidth == 32 else _tanh64
    return None


def sigmoid(x):
    """Vectorizable logistic sigmoid 1 / (1 + exp(-x)) of a float32 or float64 scalar
    (compiled only inside Numba code)."""
    raise NotImplementedError("minigrad.kernels._nbmath.sigmoid is only callable from Numba code")


@overload(sigmoid)
def _sigmoid_overload(x):
    if not isinstance(x, types.Float):
        return None
    one = _ONE_F if x.bitwidth == 32 else 1.0  # typed: a float64 1 would widen float32 maths

    def _sigmoid(x):
        return one / (one + exp(-x))

    return _sigmoid


# Row reductions of a C-contiguous 2-D array (R, n), n >= 1, into out (R,).
#
# Long rows (n >= SHORT_ROW) are reduced one row at a time by a loop LLVM vectorizes.
# Short rows (attention: n = 10..20) are too short for that, and a single running max/sum
# is one long dependency chain, so 8 rows are reduced at once with 8 independent scalar
# chains; the running max is a compare-and-select (one instruction; ``maxnum`` is three).
#
# Index as a[r, j] with j counting from 0 or 1: with flat offsets (a[b + j]) Numba cannot
# prove the index non-negative and keeps a wraparound check in the loop.

SHORT_ROW = 64


# ``nnan`` lets LLVM vectorize the maxnum reduction. It only changes rows holding a NaN, whose
# max is then unspecified: every caller turns such a row into NaN whatever its max
# (exp(NaN - m) is NaN). The row is split in four quarters reduced side by side: four
# independent chains, where one chain waits on each maxnum's latency.
@numba.njit(cache=True, error_model="numpy", fastmath={"nnan"})
def row_max(a, r):
    n = a.shape[1]
    q = n // 4
    m0 = a[r, 0]
    m1 = a[r, q]
    m2 = a[r, 2 * q]
    m3 = a[r, 3 * q]
    for j in range(q):
        m0 = maxnum(m0, a[r, j])
        m1 = maxnum(m1, a[r, j + q])
        m2 = maxnum(m2, a[r, j + 2 * q])
        m3 = maxnum(m3, a[r, j + 3 * q])
    for j in range(4 * q, n):
        m0 = maxnum(m0, a[r, j])
    return maxnum(maxnum(m0, m1), maxnum(m2, m3))


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def row_sum(a, r):
    s = a[r, 0]
    for j in range(1, a.shape[1]):
        s += a[r, j]
    return s


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def row_dot(a, b, r):
    s = a[r, 0] * b[r, 0]
    for j in range(1, a.shape[1]):
        s += a[r, j] * b[r, j]
    return s


# A short-row reduction is two small functions: ``term(a, b, r, j)``, what element j of row
# r contributes, and ``combine(acc, v)``, which folds it into the running result.
# ``_reduce_short_rows`` takes them as arguments and is inlined into each reduction
# (``inline="always"``): a jitted function passed to a separately compiled one is a run-time
# value, and Numba cannot cache the caller. Inlined, they are compile-time constants that
# LLVM inlines in turn, so the loop compiles as if written out by hand. Each keeps its own
# fast-math flags: the sums' steps reassociate and contract (a * b + s becomes an FMA), the
# max's have none.
@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def _element(a, b, r, j):
    return a[r, j]


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def _product(a, b, r, j):
    return a[r, j] * b[r, j]


@numba.njit(cache=True, error_model="numpy")
def _larger(m, v):
    return v if v > m else m


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def _plus(s, v):
    return s + v


@numba.njit(inline="always")
def _reduce_short_rows(a, b, out, term, combine):
    """out[r] = combine(... combine(term(a, b, r, 0), term(a, b, r, 1)) ..., term(a, b, r, n-1))
    for a, b (R, n), out (R,): eight rows at a time, one independent chain each."""
    R, n = a.shape
    r = 0
    while r + 8 <= R:
        s0 = term(a, b, r, 0)
        s1 = term(a, b, r + 1, 0)
        s2 = term(a, b, r + 2, 0)
        s3 = term(a, b, r + 3, 0)
        s4 = term(a, b, r + 4, 0)
        s5 = term(a, b, r + 5, 0)
        s6 = term(a, b, r + 6, 0)
        s7 = term(a, b, r + 7, 0)
        for j in range(1, n):
            s0 = combine(s0, term(a, b, r, j))
            s1 = combine(s1, term(a, b, r + 1, j))
            s2 = combine(s2, term(a, b, r + 2, j))
            s3 = combine(s3, term(a, b, r + 3, j))
            s4 = combine(s4, term(a, b, r + 4, j))
            s5 = combine(s5, term(a, b, r + 5, j))
            s6 = combine(s6, term(a, b, r + 6, j))
            s7 = combine(s7, term(a, b, r + 7, j))
        out[r] = s0
        out[r + 1] = s1
        out[r + 2] = s2
        out[r + 3] = s3
        out[r + 4] = s4
        out[r + 5] = s5
        out[r + 6] = s6
        out[r + 7] = s7
        r += 8
    while r < R:
        s = term(a, b, r, 0)
        for j in range(1, n):
            s = combine(s, term(a, b, r, j))
        out[r] = s
        r += 1


@numba.njit(cache=True, error_model="numpy")
def row_maxes(a, out):
    """out[r] = max(a[r, :]) for a (R, n), out (R,). The max of a row holding a NaN is
    unspecified (callers only need: a row without NaN gets its exact max; -inf if all -inf)."""
    if a.shape[1] >= SHORT_ROW:
        for r in range(a.shape[0]):
            out[r] = row_max(a, r)
    else:
        _reduce_short_rows(a, a, out, _element, _larger)


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def row_sums(a, out):
    """out[r] = sum(a[r, :]) for a (R, n), out (R,), accumulated in a's dtype."""
    if a.shape[1] >= SHORT_ROW:
        for r in range(a.shape[0]):
            out[r] = row_sum(a, r)
    else:
        _reduce_short_rows(a, a, out, _element, _plus)


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def row_dots(a, b, out):
    """out[r] = sum(a[r, :] * b[r, :]) for a, b (R, n) of one dtype, out (R,)."""
    if a.shape[1] >= SHORT_ROW:
        for r in range(a.shape[0]):
            out[r] = row_dot(a, b, r)
    else:
        _reduce_short_rows(a, b, out, _product, _plus)


# --- erf ---------------------------------------------------------------------------------
# float32: x * P(x^2) / Q(x^2) on x clamped to [-4, 4] (erf(+-4) rounds to +-1 in float32),
# the rational approximation of Eigen and XLA. Branch-free, so loops vectorize. At most
# 4.5e-7 absolute error (7.5 ulp, near |x| = 3.2); erf(nan) = nan, erf(+-inf) = +-1,
# erf(-0) = -0 (tests/kernels/test_kernels_gelu.py holds the bound).
# float64 keeps libm's erf (exact), which does not vectorize.
_ERF_CLAMP_F = _F32(4.0)
_ERF_NEG_CLAMP_F = _F32(-4.0)
_ERF_A13 = _F32(-2.72614225801306e-10)
_ERF_A11 = _F32(2.77068142495902e-08)
_ERF_A9 = _F32(-2.10102402082508e-06)
_ERF_A7 = _F32(-5.69250639462346e-05)
_ERF_A5 = _F32(-7.34990630326855e-04)
_ERF_A3 = _F32(-2.95459980854025e-03)
_ERF_A1 = _F32(-1.60960333262415e-02)
_ERF_B8 = _F32(-1.45660718464996e-05)
_ERF_B6 = _F32(-2.13374055278905e-04)
_ERF_B4 = _F32(-1.68282697438203e-03)
_ERF_B2 = _F32(-7.37332916720468e-03)
_ERF_B0 = _F32(-1.42647390514189e-02)


def _erf32(x):
    xc = x if x > _ERF_NEG_CLAMP_F else _ERF_NEG_CLAMP_F
    xc = xc if xc < _ERF_CLAMP_F else _ERF_CLAMP_F
    x2 = xc * xc
    p = _ERF_A13
    p = p * x2 + _ERF_A11
    p = p * x2 + _ERF_A9
    p = p * x2 + _ERF_A7
    p = p * x2 + _ERF_A5
    p = p * x2 + _ERF_A3
    p = p * x2 + _ERF_A1
    q = _ERF_B8
    q = q * x2 + _ERF_B6
    q = q * x2 + _ERF_B4
    q = q * x2 + _ERF_B2
    q = q * x2 + _ERF_B0
    y = xc * p / q
    return y if x == x else x


def _erf64(x):
    return math.erf(x)


def erf(x):
    """erf of a float32 (vectorizable rational approximation) or float64 (libm) scalar."""
    raise NotImplementedError("minigrad.kernels._nbmath.erf is only callable from Numba code")


@overload(erf)
def _erf_overload(x):
    if isinstance(x, types.Float):
        return _erf32 if x.bitwidth == 32 else _erf64
    return None
