"""``minigrad.functional`` (also ``minigrad.nn.functional``): neural-network functions.

Classes are on the LAST axis everywhere: ``cross_entropy(logits (..., C), target (...))``.
"""

from .ops.attention import additive_attention, scaled_dot_product_attention
from .ops.activations import (
    celu, elu, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid, mish, relu6, selu, silu, softmin, softplus,
    softsign,
)
from .ops.conv import avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from .ops.losses import binary_cross_entropy, binary_cross_entropy_with_logits
from .ops.elementwise import gelu, relu, sigmoid, tanh
from .ops.nn import cross_entropy, dropout, embedding, layer_norm, linear, log_softmax, mse_loss, nll_loss, softmax
from .ops.recurrent import bahdanau_decoder, recurrence, rnn_cell

__all__ = [
    "leaky_relu", "elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "softplus", "softsign",
    "silu", "mish", "logsigmoid", "softmin",
    "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "embedding", "layer_norm", "dropout",
    "linear", "gelu", "relu", "sigmoid", "tanh", "scaled_dot_product_attention", "additive_attention",
    "recurrence", "rnn_cell", "bahdanau_decoder",
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "binary_cross_entropy", "binary_cross_entropy_with_logits",
]
