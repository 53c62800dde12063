"""minigrad.kernels: hot array kernels as pure ndarray functions (no Tensor here).

Every kernel ``name`` has a plain NumPy reference ``name_ref`` beside it and a Numba
implementation in a ``_*_nb`` module; ``dispatch.py`` holds the table of all kernels and
the one rule that picks the implementation: the backend, ``MINIGRAD_KERNELS=numba|numpy``
(default ``numba``), changed with ``set_backend(name)`` or, for a block of code,
``with use_backend("numpy"):``.

Kernels do not check their arguments: the public ops (``minigrad.ops``, ``nn``, ``optim``,
the models) validate what a user passes, once, and call kernels with float32/float64
ndarrays of the shapes each kernel's docstring states.

Importing this package imports NumPy only. Numba is imported, and each function compiled
(or loaded from Numba's on-disk cache), the first time a kernel runs on the Numba backend.

All Numba functions are ``njit(cache=True, error_model="numpy")``: NumPy's IEEE division
semantics instead of a ZeroDivisionError check, which also lets LLVM vectorize loops with a
division. None uses ``parallel=True``: on a machine shared with other work, threads cost more
than they give at minigrad's sizes. Fast-math flags are limited to ``reassoc``/``nsz``/
``contract`` (never ``nnan``/``ninf``), so NaN and inf behave as in the NumPy references.
Benchmarks: ``python benchmarks/kernels.py``; results in ``benchmarks/RESULTS.md``.

``memory`` is not a kernel: allocator tuning applied when minigrad is imported.
"""

from .dispatch import KERNELS, backend, set_backend, use_backend
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
    "KERNELS",
    "backend",
    "set_backend",
    "use_backend",
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
