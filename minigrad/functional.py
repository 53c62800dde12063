"""``minigrad.functional`` (also ``minigrad.nn.functional``): neural-network functions.

Classes are on the LAST axis everywhere: ``cross_entropy(logits (..., C), target (...))``.
"""

from .ops.attention import additive_attention, scaled_dot_product_attention
from .ops.elementwise import gelu, relu, sigmoid, tanh
from .ops.nn import cross_entropy, dropout, embedding, layer_norm, linear, log_softmax, mse_loss, nll_loss, softmax

__all__ = [
    "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "embedding", "layer_norm", "dropout",
    "linear", "gelu", "relu", "sigmoid", "tanh", "scaled_dot_product_attention", "additive_attention",
]
