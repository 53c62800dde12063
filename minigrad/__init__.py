"""minigrad: a small, honest autograd framework on NumPy, with Numba kernels.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
"""

from . import blas, functional, linalg, nn, ops, optim, serialization
from .autograd import Function, detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, randint, randn, randn_like,
    tensor, zeros, zeros_like,
)
from .dtypes import bool_, float16, float32, float64, int32, int64
from .errors import (
    AnomalyError, BackwardError, CheckpointError, GradcheckError, MinigradError, ShapeError, StateDictError,
)
from .gradcheck import gradcheck, gradgradcheck
# The tensor ops (minigrad.ops re-exports every family); the network functions (activations,
# losses, convolution, layers) are in minigrad.functional, norm in minigrad.linalg.
from .ops import (
    abs, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, argmax, argmin, argsort, array_split,
    astype, atleast_1d, atleast_2d, atleast_3d, broadcast_to, ceil, chunk, clip, concat, copysign, cos, cosh,
    cummax, cummin, cumprod, cumsum, diag, diagonal, div, dot, dstack, einsum, erf, exp, exp2, expand, expm1,
    flatten, flip, floor, fmod, gather, gelu, getitem, hstack, hypot, inner, kron, lerp, log, log10, log1p,
    log2, log_softmax, logaddexp, logcumsumexp, logsumexp, masked_fill, masked_select, matmul, max, maximum,
    mean, meshgrid, min, minimum, moveaxis, mul, neg, nonzero, one_hot, outer, pad, permute, pow, prod,
    put_along_axis, reciprocal, relu, remainder, repeat, reshape, roll, round, rsqrt, scatter, scatter_add,
    sigmoid, sign, sin, sinh, softmax, sort, split, sqrt, square, squeeze, stack, std, sub, sum, swapaxes,
    take_along_axis, tan, tanh, tensordot, tile, topk, trace, transpose, tril, triu, trunc, unflatten,
    unsqueeze, var, vstack, where,
)
from .rng import manual_seed
from .serialization import load, save
from .tensor import Tensor

concatenate = concat

__version__ = "0.1.0"

cat = concat  # PyTorch's names
clamp = clip
asin, acos, atan, atan2, asinh, acosh, atanh = arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh
