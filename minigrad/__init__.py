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
from .ops import (
    abs, add, argmax, argmin, astype, broadcast_to, chunk, clip, concat, div, erf, exp, expand, flatten, gelu,
    getitem, log, log_softmax, logsumexp, masked_fill, matmul, max, maximum, mean, min, minimum, mul, neg,
    pad, permute, pow, relu, reshape, sigmoid, softmax, split, sqrt, squeeze, stack, std, sub, sum,
    swapaxes, take_along_axis, tanh, transpose, unsqueeze, var, where,
)
from .ops.pointwise import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, ceil, copysign, cos, cosh, exp2, expm1, floor,
    fmod, hypot, lerp, log1p, log2, log10, logaddexp, reciprocal, remainder, round, rsqrt, sign, sin, sinh, square,
    tan, trunc,
)
from .ops.contract import dot, einsum, inner, kron, outer, tensordot
from .ops.arrange import (
    array_split, atleast_1d, atleast_2d, atleast_3d, diag, diagonal, dstack, flip, gather, hstack, masked_select,
    meshgrid, moveaxis, nonzero, one_hot, put_along_axis, repeat, roll, scatter, scatter_add, tile, trace, tril,
    triu, unflatten, vstack,
)
from .ops.scan import (
    argsort, cummax, cummin, cumprod, cumsum, logcumsumexp, prod, sort, topk,
)
from .rng import manual_seed
from .serialization import load, save
from .tensor import Tensor

concatenate = concat

__version__ = "0.1.0"

cat = concat  # PyTorch's names
clamp = clip
asin, acos, atan, atan2, asinh, acosh, atanh = arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh
