"""Command-line tools: ``minigrad`` (a group of subcommands) and ``minigrad-train``.

Commands only wire library calls together (``minigrad.models.training``,
``minigrad.models.checkpoint``, ``minigrad.tasks``). The training options read their names,
defaults and choices from the registries and config dataclasses; what only a running command
needs (Numba's kernels, Rich, YAML) is imported inside the command functions, so ``--help``
stays fast.

BLAS threads: unless the user set ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS``, the commands run NumPy's BLAS on one thread (``minigrad.blas``; NumPy is
already loaded by the time this package runs, as ``minigrad`` imports it). The models' matrices
are small (batch 64 by a few hundred), where BLAS threads only add synchronisation, and a
second thread competing with another busy process makes small products many times slower. One
BLAS thread also keeps "same seed, same numbers" independent of the machine's core count.
"""

import os as _os

from minigrad import blas as _blas

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if not any(name in _os.environ for name in _BLAS_THREAD_VARIABLES):
    _blas.set_num_threads(1)
