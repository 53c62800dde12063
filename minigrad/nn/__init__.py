"""``minigrad.nn``: modules, layers and their parameters.

    >>> import minigrad as mg
    >>> from minigrad import nn
    >>> model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> model(mg.randn(4, 3)).shape
    (4, 2)

Parameter names, shapes, gate orders and default initialisation follow PyTorch, so a
``state_dict`` maps one-to-one onto the equivalent PyTorch module.
"""

from . import functional, init
from .activation import (
    CELU, ELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, ReLU6, SiLU, Softmin, Softplus,
    Softsign,
)
from .containers import ModuleDict, ModuleList, Sequential
from .conv import AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d
from .layers import (
    GELU, CrossEntropyLoss, Dropout, Embedding, Identity, LayerNorm, Linear, LogSoftmax, MSELoss, NLLLoss, ReLU,
    Sigmoid, Softmax, Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss
from .module import IncompatibleKeys, Module, StateDictError
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from . import utils  # noqa: E402  (last: it imports minigrad.optim, which may import from here)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "IncompatibleKeys", "StateDictError",
    "Linear", "Embedding", "LayerNorm", "Dropout", "Identity", "ReLU", "GELU", "Tanh", "Sigmoid", "Softmax",
    "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss", "RNNCell", "GRUCell", "LSTMCell", "RNN", "GRU", "LSTM",
    "LeakyReLU", "ELU", "CELU", "SELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softplus", "Softsign",
    "SiLU", "Mish", "LogSigmoid", "Softmin",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss",
    "functional", "init", "utils",
]
