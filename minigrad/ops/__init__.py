"""Every differentiable op, grouped by family; ``Tensor`` methods call these."""

from .activations import (
    celu, elu, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid, mish, relu6, selu, silu, softmin, softplus,
    softsign,
)
from .elementwise import (
    abs, add, astype, clip, div, erf, exp, gelu, log, masked_fill, maximum, minimum, mul, neg, pow, relu,
    sigmoid, sqrt, sub, tanh, where,
)
from .linalg import matmul
from .contract import dot, einsum, inner, kron, norm, outer, tensordot
from .conv import avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits
from .nn import cross_entropy, dropout, embedding, layer_norm, linear, log_softmax, mse_loss, nll_loss, softmax
from .pointwise import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, ceil, copysign, cos, cosh, exp2, expm1, floor,
    fmod, hypot, lerp, log1p, log2, log10, logaddexp, reciprocal, remainder, round, rsqrt, sign, sin, sinh, square,
    tan, trunc,
)
from .reduce import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .arrange import (
    array_split, atleast_1d, atleast_2d, atleast_3d, diag, diagonal, dstack, flip, gather, hstack, masked_select,
    meshgrid, moveaxis, nonzero, one_hot, put_along_axis, repeat, roll, scatter, scatter_add, tile, trace, tril,
    triu, unflatten, vstack,
)
from .scan import (
    argsort, cummax, cummin, cumprod, cumsum, logcumsumexp, prod, sort, topk,
)
from .shape import (
    broadcast_to, chunk, concat, expand, flatten, getitem, pad, permute, reshape, split, squeeze, stack,
    swapaxes, take_along_axis, transpose, unsqueeze,
)
