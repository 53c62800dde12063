"""Shared test configuration.

Hypothesis: no deadlines (Numba compiles on first call, and the machines are shared),
and in CI (``CI=true``) a derandomized profile so a red run is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
