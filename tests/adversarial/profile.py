"""Hypothesis profiles sized for CI: every test asks ``examples(n)`` for its share, which
``ADVERSARIAL_PROFILE=deep`` multiplies tenfold for a longer hunt (``quick``: a twentieth)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# A test takes one container (one "Lambda process") for all its examples, and every example makes its
# own connection and session: examples share a store, never state. Hence the fixture check is off.
SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "adversarial-ci", max_examples=100, deadline=None, suppress_health_check=SUPPRESSED, print_blob=True
)
settings.register_profile(
    "adversarial-deep", max_examples=1000, deadline=None, suppress_health_check=SUPPRESSED, print_blob=True
)
# A handful of examples: `make bench-quick` checks that the suite still runs and reports, nothing more.
settings.register_profile(
    "adversarial-quick", max_examples=5, deadline=None, suppress_health_check=SUPPRESSED, print_blob=True
)
PROFILE = "adversarial-" + os.environ.get("ADVERSARIAL_PROFILE", "ci")
SCALE = (settings.get_profile(PROFILE).max_examples or 100) / 100


def examples(count: int) -> settings:
    """``count`` examples in CI, scaled with the profile; no deadline, ever (no timing assertions)."""
    return settings(settings.get_profile(PROFILE), max_examples=max(1, int(count * SCALE)))
