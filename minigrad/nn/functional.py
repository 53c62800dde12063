"""``minigrad.nn.functional``: an alias of ``minigrad.functional`` (PyTorch's spelling).

    import minigrad.nn.functional as F
    loss = F.cross_entropy(logits, target)   # logits (..., C), integer target (...)
"""

from ..functional import *  # noqa: F401,F403
from ..functional import (  # noqa: F401  (explicit names for readers and linters)
    cross_entropy, dropout, embedding, gelu, layer_norm, linear, log_softmax, mse_loss, nll_loss, relu, sigmoid,
    softmax, tanh,
)
from ..functional import __all__  # noqa: F401
