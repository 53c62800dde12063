"""Command-line tools: ``minigrad`` (a group of subcommands) and ``minigrad-train``.

Commands only wire library calls together (``models.training``, ``models.checkpoint``,
``tasks``); heavy modules (minigrad, numba, the models) are imported inside the command
functions, so ``--help`` stays fast.

BLAS threads: unless the user set ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS``, the commands run NumPy's BLAS single-threaded (set here, before NumPy
is first imported). The models' matrices are small (batch 64 by a few hundred), where BLAS
threads only add synchronisation; on a busy two-core machine they made a training step
7x slower (0.23 s vs 0.03 s of CPU for the default copy model). One BLAS thread also keeps
"same seed, same numbers" independent of the machine's core count.
"""

import os as _os

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if not any(name in _os.environ for name in _BLAS_THREAD_VARIABLES):
    for _name in _BLAS_THREAD_VARIABLES:
        _os.environ[_name] = "1"
