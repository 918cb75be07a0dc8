"""The store failing on the message path (in-memory store behind ``FlakyRepository``): each call,
before it takes effect or after (its answer lost), once or twice, as throttling or as our own bug,
with and without a retry queue. The customer retries; nothing is lost or duplicated."""

from __future__ import annotations

import pytest

from application.errors import ModelUnavailable, Unavailable
from tests.adversarial.customer import audit
from tests.adversarial.rig import rigged

THROTTLED, BUG = Unavailable, RuntimeError  # the store throttled after its retries; a bug of ours

# (method, when, error, times, the model fails first so that the retry path runs)
FAULTS = [
    ("session_id_of_connection", "before", THROTTLED, 1, False),
    ("record_message", "before", THROTTLED, 1, False),
    ("record_message", "before", THROTTLED, 2, False),
    ("record_message", "after", THROTTLED, 1, False),
    ("record_message", "before", BUG, 1, False),
    ("complete_exchange", "before", THROTTLED, 1, False),
    ("complete_exchange", "before", THROTTLED, 2, False),
    ("complete_exchange", "after", THROTTLED, 1, False),
    ("complete_exchange", "before", BUG, 1, False),
    ("release_message", "before", THROTTLED, 1, True),
    ("release_message", "before", BUG, 1, True),
    ("claim_message", "before", THROTTLED, 1, True),
    ("claim_message", "before", THROTTLED, 2, True),
    ("claim_message", "after", THROTTLED, 1, True),
    ("record_message", "after", THROTTLED, 1, True),
]


@pytest.mark.parametrize("with_queue", [True, False], ids=["retry queue", "no retry queue"])
@pytest.mark.parametrize(
    ("method", "when", "error", "times", "model_first"),
    FAULTS,
    ids=[f"{m}-{w}-{e.__name__}-x{t}{'-after a model failure' * f}" for m, w, e, t, f in FAULTS],
)
def test_a_store_fault_loses_and_duplicates_nothing(
    method: str, when: str, error: type[Exception], times: int, model_first: bool, with_queue: bool
) -> None:
    with rigged(with_queue=with_queue) as rig:
        customer = rig.customer()
        if model_first:
            rig.llm.fail_next(ModelUnavailable("injected: the model is busy"))
        if when == "before":
            rig.repo.fail(method, times, error(f"injected into {method}"))
        else:
            rig.repo.fail_after(method, times, error(f"injected into {method}"))

        customer.ask("m-1")
        customer.ask("m-2")

        assert rig.repo.pending() == 0, "the fault never fired"
        scenario = f"{method} fails {when} taking effect, {times}x, {error.__name__}"
        audit(
            customer, "store (memory)", scenario, rig.queue, retry_queue=with_queue, model_first=model_first
        )
