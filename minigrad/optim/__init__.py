"""minigrad.optim: optimizers, learning-rate schedules and gradient clipping (PyTorch semantics).

    >>> opt = minigrad.optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = minigrad.optim.lr_scheduler.WarmupCosine(opt, warmup_steps=100, total_steps=5000)
    >>> loss.backward(); clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad(); sched.step()
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import get_scheduler
from .optimizer import Optimizer
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "lr_scheduler",
    "get_scheduler",
    "clip_grad_norm_",
    "clip_grad_value_",
]
