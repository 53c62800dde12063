"""minigrad.kernels: hot array kernels as pure ndarray functions (no Tensor here).

Every kernel ``name`` has a plain NumPy reference ``name_ref`` beside a ``numba.njit``
implementation; the public ``name`` dispatches between them at call time according to
``backend()`` (``MINIGRAD_KERNELS=numba|numpy``, default ``numba``; ``set_backend`` changes it).

Importing this package imports NumPy only. Numba is imported, and each function compiled
(or loaded from Numba's on-disk cache), the first time a kernel runs on the Numba backend.

All Numba functions are ``njit(cache=True, error_model="numpy")``: NumPy's IEEE division
semantics instead of a ZeroDivisionError check, which also lets LLVM vectorize loops with a
division (Adam over 100k floats: 280 us -> 20 us). None uses ``parallel=True``: on the
project's shared 2-core machine the fused Adam step over 100k floats took 20.7 us serial
and 19 ms with two Numba threads. Fast-math flags are limited to ``reassoc``/``nsz``/
``contract`` (never ``nnan``/``ninf``), so NaN and inf behave as in the NumPy references.
Benchmarks: ``python benchmarks/kernels.py``; results in ``benchmarks/RESULTS.md``.

Modules added for the end-to-end training step (``benchmarks/train_step.py``): ``rnn``
(the pointwise part of a GRU/LSTM step), ``attention`` (additive attention of one query per
row), ``embedding`` (the scatter-add backward of a lookup) and ``memory`` (allocator tuning
applied when minigrad is imported; not a kernel).
"""

from ._backend import backend, set_backend
from .activations import (
    erf,
    erf_ref,
    gelu,
    gelu_backward,
    gelu_backward_ref,
    gelu_ref,
    log_softmax,
    log_softmax_backward,
    log_softmax_backward_ref,
    log_softmax_ref,
    softmax,
    softmax_backward,
    softmax_backward_ref,
    softmax_ref,
)
from .linalg import matmul, matmul_ref
from .losses import (
    cross_entropy_backward,
    cross_entropy_backward_ref,
    cross_entropy_forward,
    cross_entropy_forward_ref,
)
from .norms import (
    layer_norm_backward,
    layer_norm_backward_ref,
    layer_norm_forward,
    layer_norm_forward_ref,
)
from .optim import adam_update, adam_update_ref
from .attention import (
    additive_attention_backward,
    additive_attention_backward_ref,
    additive_attention_forward,
    additive_attention_forward_ref,
)
from .embedding import embedding_backward, embedding_backward_ref
from .rnn import (
    gru_backward,
    gru_backward_ref,
    gru_forward,
    gru_forward_ref,
    lstm_backward,
    lstm_backward_ref,
    lstm_forward,
    lstm_forward_ref,
)

__all__ = [
    "backend",
    "set_backend",
    "matmul",
    "matmul_ref",
    "softmax",
    "softmax_ref",
    "softmax_backward",
    "softmax_backward_ref",
    "log_softmax",
    "log_softmax_ref",
    "log_softmax_backward",
    "log_softmax_backward_ref",
    "cross_entropy_forward",
    "cross_entropy_forward_ref",
    "cross_entropy_backward",
    "cross_entropy_backward_ref",
    "layer_norm_forward",
    "layer_norm_forward_ref",
    "layer_norm_backward",
    "layer_norm_backward_ref",
    "erf",
    "erf_ref",
    "gelu",
    "gelu_ref",
    "gelu_backward",
    "gelu_backward_ref",
    "adam_update",
    "adam_update_ref",
    # added for the end-to-end training step (benchmarks/train_step.py; tests in tests/perf)
    "gru_forward",
    "gru_forward_ref",
    "gru_backward",
    "gru_backward_ref",
    "lstm_forward",
    "lstm_forward_ref",
    "lstm_backward",
    "lstm_backward_ref",
    "additive_attention_forward",
    "additive_attention_forward_ref",
    "additive_attention_backward",
    "additive_attention_backward_ref",
    "embedding_backward",
    "embedding_backward_ref",
]
